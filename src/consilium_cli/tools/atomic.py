"""Atomic file writes: a temporary file in the same directory, fsync, then os.replace."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def _umask_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the process umask."""
    current = os.umask(0o022)
    os.umask(current)
    return 0o666 & ~current


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None,
                       keep_mode: bool = False) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file.

    With `keep_mode`, an existing file keeps its permission bits and a new one gets the
    usual umask mode (the temporary file alone would be private, 0o600).
    """
    path = Path(path)
    if keep_mode and mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = _umask_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def atomic_remove(path: Path) -> None:
    """Delete a file and make the removal durable."""
    Path(path).unlink()
    _fsync_dir(Path(path).parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
