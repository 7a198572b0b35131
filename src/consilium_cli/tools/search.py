"""Search the repository's text files for a literal string or a regular expression."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from consilium_cli.errors import UsageError
from consilium_cli.tools.files import STATE_DIR_NAME, is_binary

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_LINE_CHARS = 300


@dataclass(frozen=True)
class SearchHit:
    path: str
    line: int
    text: str


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    files_searched: int
    truncated: bool


def _walk(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in (".git", STATE_DIR_NAME))
        for name in sorted(files):
            found.append((Path(folder) / name).relative_to(root).as_posix())
    return found


def candidate_files(root: Path) -> list[str]:
    """Tracked and untracked, not ignored, files (every file outside a git repository)."""
    if (root / ".git").exists():
        from consilium_cli.gitsafe import split_z
        from consilium_cli.tools.git import GitRepo

        listing = GitRepo(root).read("ls-files", "-z", "--cached", "--others",
                                     "--exclude-standard")
        return sorted({p for p in split_z(listing)
                       if not p.startswith((f"{STATE_DIR_NAME}/", ".git/"))})
    return _walk(root)


def compile_pattern(pattern: str, regex: bool) -> re.Pattern[str]:
    if not regex:
        return re.compile(re.escape(pattern))
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"the search pattern {pattern!r} is not a valid regular expression: "
                         f"{exc}") from exc


def search(root: Path, pattern: str, *, regex: bool = False, glob: str = "",
           max_results: int = 200) -> SearchResult:
    compiled = compile_pattern(pattern, regex)
    hits: list[SearchHit] = []
    searched = 0
    for rel in candidate_files(root):
        if glob and not (fnmatch.fnmatch(rel, glob) or fnmatch.fnmatch(Path(rel).name, glob)):
            continue
        path = root / rel
        try:
            if path.is_symlink() or not path.is_file() or \
                    path.stat().st_size > MAX_FILE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if is_binary(data):
            continue
        searched += 1
        text = data.decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if compiled.search(line):
                hits.append(SearchHit(rel, number, line[:MAX_LINE_CHARS]))
                if len(hits) >= max_results:
                    return SearchResult(tuple(hits), searched, True)
    return SearchResult(tuple(hits), searched, False)
