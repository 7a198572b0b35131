"""Files inside the repository: path confinement, reading state, text with its encoding and
line endings, and atomic writes that keep the file's mode.

A plan names paths relative to the repository root. `resolve_target()` refuses, for good,
paths into `.git/` and consilium's own configuration; a path that leads outside the root
(`..`, an absolute path, a symbolic link) comes back marked as an escape, which only a
person may approve, one path at a time.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from consilium_cli.config import PROJECT_FILE, user_config_path
from consilium_cli.errors import UsageError
from consilium_cli.paths import user_data_dir
from consilium_cli.tools.atomic import atomic_remove, atomic_write_bytes

STATE_DIR_NAME = ".consilium"


class PathRefused(UsageError):
    """A path that no approval can unlock (.git, consilium's own configuration)."""


class NotTextError(UsageError):
    """A binary (or undecodable) file where text is needed."""


@dataclass(frozen=True)
class Target:
    """A path from a plan, resolved: `path` is the file that is actually read or written."""

    given: str
    path: Path
    display: str
    escape: str = ""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def protected_locations() -> list[Path]:
    """consilium's own files outside any repository (user config and data)."""
    return [user_config_path().parent, user_data_dir()]


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _protected_reason(parts: Sequence[str]) -> str:
    for part in parts:
        folded = part.casefold()
        if folded == ".git":
            return "it is inside .git/ (the repository's own data)"
        if folded == STATE_DIR_NAME:
            return "it is consilium's own state folder (.consilium/)"
        if folded == PROJECT_FILE:
            return "it is consilium's project configuration (.consilium.toml)"
    return ""


def resolve_target(root: Path, given: str, *,
                   protected: Sequence[Path] | None = None) -> Target:
    """Resolve a plan path against the repository root; refuse protected locations."""
    if not given or "\0" in given:
        raise PathRefused(f"invalid path {given!r}")
    root = root.resolve()
    raw = Path(given)
    joined = raw if raw.is_absolute() else root / raw
    resolved = joined.resolve(strict=False)
    lexical = Path(os.path.normpath(joined))
    for candidate in (lexical, resolved):
        parts = candidate.relative_to(root).parts if _is_within(candidate, root) else \
            candidate.parts
        reason = _protected_reason(parts)
        if reason:
            raise PathRefused(f"refused to touch {given}: {reason}")
    for folder in protected if protected is not None else protected_locations():
        folder = folder.resolve()
        if _is_within(resolved, folder) or _is_within(lexical, folder):
            raise PathRefused(f"refused to touch {given}: it is consilium's own "
                              f"configuration or data ({folder})")
    if _is_within(resolved, root):
        display = resolved.relative_to(root).as_posix() or "."
        return Target(given, resolved, display)
    if raw.is_absolute():
        reason = "an absolute path outside the repository"
    elif not _is_within(lexical, root):
        reason = "`..` leads outside the repository"
    else:
        reason = f"a symbolic link leads outside the repository (to {resolved})"
    return Target(given, resolved, str(resolved), escape=reason)


@dataclass(frozen=True)
class FileState:
    """What a path holds: nothing, or bytes with a hash and a mode."""

    exists: bool
    sha256: str = ""
    mode: int | None = None
    data: bytes | None = None

    def to_json(self) -> dict[str, object]:
        return {"exists": self.exists, "sha256": self.sha256, "mode": self.mode}


def read_state(path: Path, *, keep_data: bool = True) -> FileState:
    """What `path` holds; any failure but "no such file" is a UsageError naming it."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{path} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            # a FIFO or a device would block or never end when read
            raise UsageError(f"{path} is not a regular file")
        data = path.read_bytes()
    except FileNotFoundError:
        return FileState(False)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return FileState(True, sha256_bytes(data), stat.S_IMODE(info.st_mode),
                     data if keep_data else None)


# -- text -----------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_TEXT_CONTROLS = set(b"\t\n\r\f\v\x1b")


@dataclass(frozen=True)
class TextFormat:
    """How a text file is stored: encoding, byte-order mark, and whether lines end CRLF."""

    encoding: str = "utf-8"
    bom: bytes = b""
    crlf: bool = False


def is_binary(data: bytes) -> bool:
    if any(data.startswith(bom) for bom, enc in _BOMS if enc.startswith("utf-16")):
        return False
    return b"\0" in data


def decode_text(data: bytes, what: str = "file") -> tuple[str, TextFormat]:
    """The text of a file (CRLF turned into LF when every line ends CRLF) and its format."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise NotTextError(f"{what} is not valid {encoding} text") from exc
            return _split_newlines(text, encoding, bom)
    if is_binary(data):
        raise NotTextError(f"{what} is a binary file; search/replace edits need text")
    try:
        return _split_newlines(data.decode("utf-8"), "utf-8", b"")
    except UnicodeDecodeError:
        pass
    if any(b < 0x20 and b not in _TEXT_CONTROLS for b in data):
        raise NotTextError(f"{what} is neither UTF-8 nor plain 8-bit text")
    return _split_newlines(data.decode("latin-1"), "latin-1", b"")


def _split_newlines(text: str, encoding: str, bom: bytes) -> tuple[str, TextFormat]:
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    if crlf:
        text = text.replace("\r\n", "\n")
    return text, TextFormat(encoding, bom, crlf)


def encode_text(text: str, fmt: TextFormat, what: str = "file") -> bytes:
    """The bytes of `text` in the file's format (line endings, encoding, BOM)."""
    if fmt.crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    try:
        return fmt.bom + text.encode(fmt.encoding)
    except UnicodeEncodeError as exc:
        raise NotTextError(f"the new text of {what} cannot be written in the file's "
                           f"encoding ({fmt.encoding}): {exc.reason}") from exc


def normalize_block(text: str, fmt: TextFormat) -> str:
    """A search/replace block in the form the decoded file uses."""
    return text.replace("\r\n", "\n") if fmt.crlf else text


# -- writing ----------------------------------------------------------------------------

def missing_folders(path: Path) -> list[Path]:
    """The folders above `path` that do not exist yet, outermost first."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def write_bytes(path: Path, data: bytes, mode: int | None = None, *,
                created: list[Path] | None = None,
                allowed: Collection[Path] | None = None) -> list[Path]:
    """Write atomically, keeping the file's mode (or `mode`); return the folders made.

    Each folder is also added to `created` as soon as it exists, so a caller learns of
    them even when the write then fails. With `allowed` (the folders the caller journaled
    before the write), a folder missing that is not among them is not made: the write
    fails instead, so nothing is created that undo would not know of.
    """
    made = [] if created is None else created
    start = len(made)
    for folder in missing_folders(path):
        if allowed is not None and folder not in allowed:
            raise FileNotFoundError(errno.ENOENT, "the folder disappeared after the change "
                                    "was journaled", str(folder))
        folder.mkdir()
        made.append(folder)
    atomic_write_bytes(path, data, mode=mode, keep_mode=mode is None)
    return made[start:]


def remove_file(path: Path) -> None:
    atomic_remove(path)
