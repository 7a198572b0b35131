"""Path confinement, text formats and atomic writes that keep modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.tools.files import (
    NotTextError,
    PathRefused,
    decode_text,
    encode_text,
    missing_folders,
    read_state,
    resolve_target,
    write_bytes,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / ".git").mkdir()
    return repo


def test_inside_paths_resolve(root: Path) -> None:
    target = resolve_target(root, "src/../src/a.py", protected=[])
    assert target.display == "src/a.py" and not target.escape
    assert resolve_target(root, str(root / "src" / "b.py"), protected=[]).display == "src/b.py"


@pytest.mark.parametrize(("given", "reason"), [
    ("../outside.txt", "`..` leads outside"),
    ("/etc/passwd", "an absolute path outside"),
])
def test_escapes_are_marked(root: Path, given: str, reason: str) -> None:
    target = resolve_target(root, given, protected=[])
    assert reason in target.escape


def test_symlink_to_etc_is_an_escape(root: Path) -> None:
    (root / "etc-link").symlink_to("/etc")
    target = resolve_target(root, "etc-link/hostname", protected=[])
    assert "symbolic link" in target.escape and target.path == Path("/etc/hostname").resolve()


def test_symlink_inside_writes_its_target(root: Path) -> None:
    (root / "src" / "real.py").write_text("x", encoding="utf-8")
    (root / "alias.py").symlink_to("src/real.py")
    target = resolve_target(root, "alias.py", protected=[])
    assert not target.escape and target.display == "src/real.py"


@pytest.mark.parametrize("given", [".git/config", "src/../.git/hooks/pre-commit", ".GIT/HEAD",
                                   ".consilium/journal/x", ".consilium.toml",
                                   "sub/.consilium.toml"])
def test_protected_paths_are_refused(root: Path, given: str) -> None:
    with pytest.raises(PathRefused):
        resolve_target(root, given, protected=[])


def test_symlink_into_git_is_refused(root: Path) -> None:
    (root / "hooks").symlink_to(".git")
    with pytest.raises(PathRefused):
        resolve_target(root, "hooks/pre-commit", protected=[])


def test_user_config_is_refused(root: Path, tmp_path: Path) -> None:
    config = tmp_path / "config" / "consilium"
    config.mkdir(parents=True)
    with pytest.raises(PathRefused, match="consilium's own configuration"):
        resolve_target(root, str(config / "config.toml"), protected=[config])


def test_default_protection_covers_the_user_config(root: Path) -> None:
    from consilium_cli.config import user_config_path

    with pytest.raises(PathRefused):
        resolve_target(root, str(user_config_path()))


def test_crlf_is_kept() -> None:
    data = b"one\r\ntwo\r\n"
    text, fmt = decode_text(data)
    assert text == "one\ntwo\n" and fmt.crlf
    assert encode_text(text.replace("two", "2"), fmt) == b"one\r\n2\r\n"


def test_mixed_line_endings_stay_raw() -> None:
    text, fmt = decode_text(b"a\r\nb\n")
    assert not fmt.crlf and text == "a\r\nb\n"


def test_bom_and_latin1_are_kept() -> None:
    text, fmt = decode_text(b"\xef\xbb\xbfhi\n")
    assert text == "hi\n" and encode_text(text, fmt) == b"\xef\xbb\xbfhi\n"
    text, fmt = decode_text("café\n".encode("latin-1"))
    assert fmt.encoding == "latin-1" and encode_text(text, fmt) == "café\n".encode("latin-1")
    with pytest.raises(NotTextError, match="cannot be written"):
        encode_text("привет", fmt)


def test_binary_is_refused() -> None:
    with pytest.raises(NotTextError, match="binary"):
        decode_text(b"\x89PNG\r\n\x1a\n\0\0\0")


def test_write_keeps_mode_and_new_files_get_the_umask_mode(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_bytes(b"echo 1\n")
    os.chmod(script, 0o751)
    write_bytes(script, b"echo 2\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o751 and script.read_bytes() == b"echo 2\n"
    created = write_bytes(tmp_path / "a" / "b" / "new.txt", b"x")
    assert [p.name for p in created] == ["a", "b"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a" / "b" / "new.txt").stat().st_mode) == 0o666 & ~mask
    assert read_state(tmp_path / "missing").exists is False


def test_a_write_makes_only_the_folders_it_was_allowed(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.txt"
    assert missing_folders(target) == [tmp_path / "a", tmp_path / "a" / "b"]
    made: list[Path] = []
    with pytest.raises(FileNotFoundError, match="journaled"):
        write_bytes(target, b"x", allowed=[tmp_path / "a"], created=made)
    assert made == [tmp_path / "a"] and not (tmp_path / "a" / "b").exists()
    assert write_bytes(target, b"x", allowed=missing_folders(target)) == [tmp_path / "a" / "b"]
    assert missing_folders(target) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_not_read(root: Path) -> None:
    import threading

    fifo = root / "pipe"
    os.mkfifo(fifo)
    # were it read, the read would wait for a writer: one comes late, so a regression
    # fails here instead of hanging
    writer = threading.Timer(10, lambda: open(fifo, "wb").close())
    writer.daemon = True
    writer.start()
    try:
        with pytest.raises(UsageError, match="not a regular file"):
            read_state(fifo)
    finally:
        writer.cancel()
