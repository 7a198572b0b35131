"""Reading diffs out of a repository: --staged / --base, limits, and no program that the
repository names ever runs (a canary for each that writes a marker file if executed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from consilium_cli.review.diff import parse_diff
from consilium_cli.review.gitinput import (
    DiffTooLargeError,
    GitInputError,
    read_git_diff,
    read_worktree_lines,
)
from tests.support.git_repo import GitRepo

posix_only = pytest.mark.skipif(os.name != "posix", reason="the canaries are shell scripts")

CANARY = """#!/bin/sh
touch "{marks}/$1"
case "$1" in
  clean|smudge) exec cat ;;
  textconv) exec cat "$2" ;;
  *) exit 0 ;;
esac
"""

# kind -> (git config to plant, .gitattributes line)
PLANTS: dict[str, tuple[dict[str, str], str]] = {
    "fsmonitor": ({"core.fsmonitor": "{canary} fsmonitor"}, ""),
    "clean": ({"filter.canary.clean": "{canary} clean",
               "filter.canary.smudge": "{canary} smudge"}, "*.txt filter=canary"),
    "process": ({"filter.canary.process": "{canary} process"}, "*.txt filter=canary"),
    "textconv": ({"diff.canary.textconv": "{canary} textconv"}, "*.txt diff=canary"),
    "command": ({"diff.canary.command": "{canary} command"}, "*.txt diff=canary"),
    "external": ({"diff.external": "{canary} external"}, ""),
    "pager": ({"core.pager": "{canary} pager", "pager.diff": "{canary} pager"}, ""),
}


def planted_repo(tmp_path: Path, kind: str) -> tuple[GitRepo, Path]:
    marks = tmp_path / "marks"
    marks.mkdir()
    canary = tmp_path / "canary.sh"
    canary.write_text(CANARY.format(marks=marks))
    canary.chmod(0o755)
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.txt", "one\n")
    repo.commit()
    settings, attributes = PLANTS[kind]
    if attributes:
        repo.write(".gitattributes", attributes + "\n")
    for key, value in settings.items():
        repo.git("config", key, value.format(canary=canary))
    repo.write("a.txt", "one\ntwo\n")
    # An old mtime makes the index entry stat-dirty, so git has to hash the file (and
    # would run its clean filter to do so).
    os.utime(repo.path / "a.txt", (1_000_000_000, 1_000_000_000))
    return repo, marks


def control_run(repo: GitRepo, kind: str) -> None:
    """Plain git, as a user would run it: the canary fires (the plant is live)."""
    if kind == "pager":
        pexpect = pytest.importorskip("pexpect")
        child = pexpect.spawn("git", ["diff"], cwd=str(repo.path), env=repo.env(), timeout=20)
        child.expect(pexpect.EOF)
        child.close()
        return
    subprocess.run(["git", "diff"], cwd=repo.path, env=repo.env(), capture_output=True,
                   stdin=subprocess.DEVNULL, check=False)


@posix_only
@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_reading_the_repository_runs_none_of_its_programs(tmp_path: Path, kind: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    repo, marks = planted_repo(tmp_path, kind)
    monkeypatch.setenv("HOME", str(repo.home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for staged, base in ((False, None), (True, None), (False, "HEAD"), (True, "HEAD")):
        found = read_git_diff(repo.path, staged=staged, base=base, max_bytes=1_000_000)
        if not staged:
            (f,) = parse_diff(found.data.decode()).files
            assert f.path == "a.txt" and f.added == 1
    assert sorted(p.name for p in marks.iterdir()) == []
    control_run(repo, kind)
    expected = {"pager": "pager", "clean": "clean", "process": "process"}.get(kind, kind)
    assert expected in {p.name for p in marks.iterdir()}, "the canary is not live"


def test_staged_and_base(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", "x = 1\n")
    repo.commit("one")
    repo.write("a.py", "x = 2\n")
    repo.commit("two")
    repo.write("staged.py", "s = 1\n")
    repo.git("add", "staged.py")
    repo.write("a.py", "x = 3\n")

    def paths(**kw: object) -> list[str]:
        found = read_git_diff(repo.path / ".", max_bytes=1_000_000, **kw)  # type: ignore[arg-type]
        return sorted(f.path for f in parse_diff(found.data.decode()).files) if found.data \
            else []

    assert paths(staged=True, base=None) == ["staged.py"]
    assert paths(staged=False, base=None) == ["a.py", "staged.py"]
    assert paths(staged=False, base="HEAD~1") == ["a.py", "staged.py"]
    found = read_git_diff(repo.path, staged=False, base="HEAD~1", max_bytes=1_000_000)
    assert "x = 3" in found.data.decode() and "HEAD~1" in found.description
    assert found.root == repo.path.resolve()
    sub = repo.path / "pkg"
    sub.mkdir()
    assert read_git_diff(sub, staged=True, base=None, max_bytes=10**6).root == repo.path.resolve()


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", "x = 1\n")
    repo.git("add", "a.py")
    staged = read_git_diff(repo.path, staged=True, base=None, max_bytes=10**6)
    assert [f.status for f in parse_diff(staged.data.decode()).files] == ["added"]
    worktree = read_git_diff(repo.path, staged=False, base=None, max_bytes=10**6)
    assert [f.path for f in parse_diff(worktree.data.decode()).files] == ["a.py"]


@pytest.mark.parametrize("ref", ["--output={out}", "-p", "no-such-branch", "a\nb", ""])
def test_bad_revisions(tmp_path: Path, ref: str) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.py", "x\n")
    repo.commit()
    out = tmp_path / "written-by-git"
    with pytest.raises(GitInputError) as info:
        read_git_diff(repo.path, staged=False, base=ref.format(out=out), max_bytes=10**6)
    assert info.value.hint
    assert not out.exists()  # an option-like revision never reaches git as an option


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitInputError, match="not inside a git repository"):
        read_git_diff(tmp_path, staged=True, base=None, max_bytes=10**6)


def test_size_limit_stops_git(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.txt", "x\n")
    repo.commit()
    repo.write("a.txt", "".join(f"line {i}\n" for i in range(20_000)))
    with pytest.raises(DiffTooLargeError, match="MB limit") as info:
        read_git_diff(repo.path, staged=False, base=None, max_bytes=10_000)
    assert "CONSILIUM_REVIEW_MAX_INPUT_MB" in info.value.hint


def test_worktree_lines_stay_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.py").write_text("a\nb\n")
    (tmp_path / "secret.txt").write_text("secret\n")
    (root / "big.txt").write_text("x" * 5000)
    assert read_worktree_lines(root, "ok.py", 1000) == ["a", "b"]
    assert read_worktree_lines(root, "../secret.txt", 1000) is None
    assert read_worktree_lines(root, str(tmp_path / "secret.txt"), 1000) is None
    assert read_worktree_lines(root, "big.txt", 1000) is None
    assert read_worktree_lines(root, "missing.py", 1000) is None
    if sys.platform != "win32":
        (root / "link.txt").symlink_to(tmp_path / "secret.txt")
        assert read_worktree_lines(root, "link.txt", 1000) is None


def test_git_warnings_do_not_stall_the_read(tmp_path: Path) -> None:
    # One line-ending warning per file on stderr, more than a pipe holds, while git writes
    # the diff: stderr must be drained alongside stdout.
    repo = GitRepo(tmp_path / "repo")
    names = [f"{'d' * 100}/{'n' * 100}_{i}.txt" for i in range(400)]
    for name in names:
        repo.write(name, "a\n")
    repo.commit()
    repo.git("config", "core.autocrlf", "true")
    for name in names:
        repo.write(name, "a\nb\n")
    warnings = subprocess.run(["git", "diff"], cwd=repo.path, env=repo.env(),
                              capture_output=True, check=True).stderr
    assert len(warnings) > 100_000, "git wrote too few warnings to fill a pipe"
    found = read_git_diff(repo.path, staged=False, base=None, max_bytes=10**7)
    assert len(parse_diff(found.data.decode()).files) == len(names)
