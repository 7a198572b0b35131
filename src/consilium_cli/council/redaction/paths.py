"""Paths in a payload: the user's home directory becomes `~` (`/home/alice/x` -> `~/x`, also
`/Users/alice`, `C:\\Users\\alice`, other users' homes and `/root`). Other absolute paths
outside the repository root are replaced by `[REDACTED:path#n]` when they are clearly
filesystem paths: a Windows drive path, or a POSIX path whose first directory is a
well-known filesystem root (/srv, /mnt, /opt, /data, /Volumes, ...) or a directory that
exists at the top of this machine's filesystem. System locations (/usr, /bin, /lib, /etc,
/tmp, /dev, /proc, /nix, /var/log, /System, C:\\Windows, C:\\Program Files ...) are kept, so
`/usr/bin/python` survives, and so do URL routes such as `/api/v1`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from consilium_cli.council.redaction.spans import P_HOME, P_PATH, Span

_WELL_KNOWN_ROOTS = frozenset({
    "home", "Users", "root", "srv", "mnt", "media", "opt", "var", "data", "Volumes",
    "private", "workspace", "workspaces", "builds", "scratch", "net", "afs", "cygdrive",
    "export", "usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "dev", "proc",
    "sys", "run", "boot", "tmp", "nix", "snap", "System", "Library", "Applications", "cores"})
_SYSTEM_ROOTS = frozenset({
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sys",
    "run", "boot", "tmp", "nix", "snap", "System", "Library", "Applications", "cores"})
_SYSTEM_SUBDIRS = {
    "var": frozenset({"log", "lib", "cache", "tmp", "run", "spool", "folders", "empty", "db",
                      "lock", "mail", "backups"}),
    "opt": frozenset({"homebrew", "local", "conda"}),
    "private": frozenset({"tmp", "var", "etc"}),
}
_WINDOWS_SYSTEM = ("windows", "program", "progra~", "programdata")
_PATH_BODY = re.compile(r"[^\s\"'`<>|;,()\[\]{}:*?]*")
_WIN_PATH = re.compile(r"[A-Za-z]:(?:\\\\|\\|/)[^\s\"'`<>|;,()\[\]{}*?:]{0,4096}")
_WIN_MARK = re.compile(r":(?:\\|/(?!/))")
_WIN_HOME = re.compile(r"[A-Za-z]:(?:\\\\|\\|/)Users(?:\\\\|\\|/)[^\\/]+", re.IGNORECASE)
_POSIX_HOME = re.compile(r"/(?:home|Users)/[^/]+|/root(?=/|$)")
_PATH_BEFORE = frozenset(" \t\n\r\"'`=([{<>,;|:@*")


@lru_cache(maxsize=1)
def _machine_roots() -> frozenset[str]:
    """Top-level directories of this machine's filesystem (paths that exist here)."""
    try:
        names = {entry.name for entry in os.scandir("/") if entry.is_dir(follow_symlinks=False)}
    except OSError:
        return frozenset()
    return frozenset(n for n in names if re.fullmatch(r"[A-Za-z0-9_.-]+", n))


@lru_cache(maxsize=16)
def _path_pattern(roots: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(r) for r in sorted(roots, key=len, reverse=True))
    return re.compile(r"/(?:" + names + r")(?=[/\s\"'`),;:\]}>|]|$)" + _PATH_BODY.pattern)


class PathRule:
    """Finds the paths of one payload: home directories (a literal `~`) and the paths
    outside the repository (placeholders)."""

    def __init__(self, repo_root: Path | None, home: Path | None,
                 roots: Iterable[str] | None) -> None:
        self._repo = _posix(repo_root)
        self._home = _posix(home if home is not None else _default_home())
        if self._home in ("", "/"):
            self._home = ""
        if roots is None:
            roots = _WELL_KNOWN_ROOTS | _machine_roots()
        self._path_re = _path_pattern(frozenset(roots) | {"home", "Users", "root"})

    def find(self, text: str) -> list[Span]:
        spans: list[Span] = []
        if "/" in text:
            for match in self._path_re.finditer(text):
                start = match.start()
                if start and text[start - 1] not in _PATH_BEFORE:
                    continue
                path = match.group(0).rstrip(".")
                spans += self._classify_posix(start, path)
        if ":" in text:
            for match in _WIN_MARK.finditer(text):
                start = match.start() - 1
                if start < 0 or not text[start].isascii() or not text[start].isalpha():
                    continue
                if start and (text[start - 1].isalnum() or text[start - 1] in "/._-\\"):
                    continue
                path_match = _WIN_PATH.match(text, start)
                if path_match:
                    spans += self._classify_windows(start, path_match.group(0).rstrip("."))
        home = self._home
        if home and home in text:
            pos = text.find(home)
            while pos >= 0:
                end = pos + len(home)
                before = text[pos - 1] if pos else " "
                after = text[end] if end < len(text) else " "
                if not (before.isalnum() or before in "._-") and \
                        not (after.isalnum() or after in "._-"):
                    spans.append(Span(pos, end, "home-path", P_HOME, "~"))
                pos = text.find(home, end)
        return spans

    def _classify_posix(self, start: int, path: str) -> list[Span]:
        if len(path) < 2:
            return []
        repo, home = self._repo, self._home
        if repo and (path == repo or path.startswith(repo + "/")):
            if home and (repo == home or repo.startswith(home + "/")):
                return [Span(start, start + len(home), "home-path", P_HOME, "~")]
            return []
        if home and (path == home or path.startswith(home + "/")):
            return [Span(start, start + len(home), "home-path", P_HOME, "~")]
        match = _POSIX_HOME.match(path)
        if match:
            return [Span(start, start + match.end(), "home-path", P_HOME, "~")]
        parts = path.split("/")
        first = parts[1]
        if first in _SYSTEM_ROOTS or first in ("home", "Users"):
            return []
        subdirs = _SYSTEM_SUBDIRS.get(first)
        if subdirs is not None and (len(parts) < 3 or parts[2] in subdirs or not parts[2]):
            return []
        return [Span(start, start + len(path), "path", P_PATH)]

    def _classify_windows(self, start: int, path: str) -> list[Span]:
        norm = re.sub(r"[\\/]+", "/", path).rstrip("/")
        low = norm.lower()
        repo, home = self._repo.lower(), self._home.lower()
        if repo and ":" in repo and (low == repo or low.startswith(repo + "/")):
            return []
        match = _WIN_HOME.match(path)
        if match:
            return [Span(start, start + match.end(), "home-path", P_HOME, "~")]
        if home and ":" in home and (low == home or low.startswith(home + "/")):
            return []
        parts = low.split("/")
        if len(parts) < 2 or not parts[1] or parts[1].startswith(_WINDOWS_SYSTEM):
            return []
        return [Span(start, start + len(path), "path", P_PATH)]


def _posix(path: Path | None) -> str:
    if path is None:
        return ""
    text = str(path)
    if re.match(r"[A-Za-z]:[\\/]", text):
        return re.sub(r"[\\/]+", "/", text).rstrip("/")
    return text.rstrip("/") or "/"


def _default_home() -> Path | None:
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None
