"""Where the diff comes from: decoding, size limits, and one source at a time."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.review.gitinput import DiffTooLargeError
from consilium_cli.review.source import decode, read_source

DIFF = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+é\n"


def test_decode_handles_boms_and_bad_bytes() -> None:
    assert decode(DIFF.encode("utf-8")) == DIFF
    assert decode(b"\xef\xbb\xbf" + DIFF.encode("utf-8")) == DIFF
    assert decode(DIFF.encode("utf-16")) == DIFF  # PowerShell pipes UTF-16 with a BOM
    assert decode(b"+caf\xe9\n") == "+caf\ufffd\n"


def stdin_of(data: bytes, tty: bool = False) -> io.TextIOWrapper:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    return stream


def test_stdin_patch_file_and_limits(tmp_path: Path) -> None:
    source = read_source(patch=None, staged=False, base=None, stdin=stdin_of(DIFF.encode()),
                         stdin_is_tty=False, cwd=tmp_path, max_bytes=1000)
    assert (source.text, source.label, source.from_git) == (DIFF, "standard input", False)
    (tmp_path / "c.patch").write_text(DIFF, encoding="utf-8")
    source = read_source(patch="c.patch", staged=False, base=None, stdin=stdin_of(b""),
                         stdin_is_tty=True, cwd=tmp_path, max_bytes=1000)
    assert source.text == DIFF and source.label == "c.patch"
    with pytest.raises(DiffTooLargeError):
        read_source(patch="c.patch", staged=False, base=None, stdin=stdin_of(b""),
                    stdin_is_tty=True, cwd=tmp_path, max_bytes=10)
    with pytest.raises(DiffTooLargeError):
        read_source(patch=None, staged=False, base=None, stdin=stdin_of(DIFF.encode()),
                    stdin_is_tty=False, cwd=tmp_path, max_bytes=10)


@pytest.mark.parametrize(("patch", "staged", "tty", "data", "message"), [
    (None, False, True, b"", "standard input is a terminal"),
    (None, False, False, b" \n", "standard input is empty"),
    ("-", True, False, b"", "not both"),
    ("nope.patch", False, False, b"", "no such file"),
    (".", False, False, b"", "is a folder"),
])
def test_source_errors(tmp_path: Path, patch: str | None, staged: bool, tty: bool,
                       data: bytes, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        read_source(patch=patch, staged=staged, base=None, stdin=stdin_of(data, tty),
                    stdin_is_tty=tty, cwd=tmp_path, max_bytes=1000)
    assert info.value.hint
