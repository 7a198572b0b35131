"""Where the diff comes from: standard input, a patch file, or the repository (--staged,
--base), always under the size limit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from consilium_cli.errors import UsageError
from consilium_cli.review.gitinput import DiffTooLargeError, read_git_diff

STDIN_HINT = "git diff | consilium review   (or: consilium review --staged)"


@dataclass(frozen=True)
class DiffSource:
    text: str
    # The working tree the diff's paths are relative to, for context lines.
    root: Path | None
    label: str
    from_git: bool = False


def decode(data: bytes) -> str:
    """Diff bytes as text: UTF-8 (a BOM dropped), or UTF-16 with its BOM (PowerShell
    pipes); bytes that are not UTF-8 become U+FFFD rather than an error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def _read_capped(stream: IO[bytes], max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DiffTooLargeError(max_bytes)
    return data


def read_stdin(stdin: IO[str], max_bytes: int) -> bytes:
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return _read_capped(buffer, max_bytes)
    text = stdin.read(max_bytes + 1)
    data = text.encode("utf-8", errors="replace")
    if len(data) > max_bytes:
        raise DiffTooLargeError(max_bytes)
    return data


def read_patch_file(path: Path, max_bytes: int) -> bytes:
    try:
        if path.is_dir():
            raise UsageError(f"{path} is a folder, not a patch file",
                             hint="consilium review change.patch")
        if path.stat().st_size > max_bytes:
            raise DiffTooLargeError(max_bytes)
        with path.open("rb") as handle:
            return _read_capped(handle, max_bytes)
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}",
                         hint="git diff > change.patch && consilium review change.patch"
                         ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_source(*, patch: str | None, staged: bool, base: str | None, stdin: IO[str],
                stdin_is_tty: bool, cwd: Path, max_bytes: int) -> DiffSource:
    """The diff to review, from exactly one source."""
    from consilium_cli.gitsafe import repo_root

    if patch is not None and (staged or base is not None):
        raise UsageError("give a patch file or --staged/--base, not both",
                         hint="consilium review --staged   or   consilium review change.patch")
    if staged or base is not None:
        found = read_git_diff(cwd, staged=staged, base=base, max_bytes=max_bytes)
        return DiffSource(decode(found.data), found.root, found.description, from_git=True)
    root = repo_root(cwd.resolve()) or cwd
    if patch is not None and patch != "-":
        path = Path(patch).expanduser()
        if not path.is_absolute():
            path = cwd / path
        return DiffSource(decode(read_patch_file(path, max_bytes)), root, patch)
    if stdin_is_tty:
        raise UsageError("no diff to review: standard input is a terminal", hint=STDIN_HINT)
    data = read_stdin(stdin, max_bytes)
    if not data.strip():
        raise UsageError("no diff to review: standard input is empty", hint=STDIN_HINT)
    return DiffSource(decode(data), root, "standard input")
