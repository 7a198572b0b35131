"""Git through GitPython: the repository's own programs never run unless approved."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from consilium_cli.tools.git import GitError, GitRepo
from tests.support.git_repo import GitRepo as ScratchRepo

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell-script hooks")


def _marker_script(folder: Path, name: str, body: str = "") -> Path:
    script = folder / f"{name}.sh"
    script.write_text(f"#!/bin/sh\ntouch '{folder}/{name}.ran'\n{body}", encoding="utf-8")
    script.chmod(0o755)
    return script


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[ScratchRepo, Path]:
    """A repository whose config and hooks name programs that leave marker files."""
    marks = tmp_path / "marks"
    marks.mkdir()
    repo = ScratchRepo(tmp_path / "repo")
    repo.git("config", "user.name", "Test")
    repo.git("config", "user.email", "t@example.com")
    repo.write("a.txt", "one\n")
    repo.write("b.dat", "data\n")
    repo.commit("init")
    hooks = repo.path / ".git" / "hooks"
    for hook in ("pre-commit", "commit-msg", "post-commit", "post-checkout"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch '{marks}/{hook}.ran'\n", encoding="utf-8")
        (hooks / hook).chmod(0o755)
    repo.git("config", "core.fsmonitor", str(_marker_script(marks, "fsmonitor")))
    repo.git("config", "diff.conv.textconv", str(_marker_script(marks, "textconv", "cat \"$1\"\n")))
    repo.git("config", "diff.external", str(_marker_script(marks, "extdiff")))
    repo.git("config", "filter.evil.clean", str(_marker_script(marks, "clean", "cat\n")))
    repo.git("config", "filter.evil.smudge", str(_marker_script(marks, "smudge", "cat\n")))
    repo.git("config", "core.pager", str(_marker_script(marks, "pager", "cat\n")))
    repo.write(".gitattributes", "*.txt diff=conv\n*.dat filter=evil\n")
    return repo, marks


def _ran(marks: Path) -> list[str]:
    return sorted(p.stem for p in marks.glob("*.ran"))


def test_reads_and_changes_run_no_repository_program(hostile: tuple[ScratchRepo, Path]) -> None:
    repo, marks = hostile
    (repo.path / "a.txt").write_text("two\n", encoding="utf-8")
    (repo.path / "b.dat").write_text("more\n", encoding="utf-8")
    git = GitRepo(repo.path)
    assert "a.txt" in git.execute("status", {})
    assert "+two" in git.execute("diff", {})
    git.execute("log", {"n": 2})
    git.execute("add", {"paths": ["a.txt", "b.dat", ".gitattributes"]})
    git.execute("commit", {"message": "change"})
    git.execute("branch", {"name": "side"})
    git.execute("switch", {"name": "side"})
    assert _ran(marks) == []
    assert git.head().branch == "refs/heads/side"


def test_commit_runs_hooks_only_when_approved(hostile: tuple[ScratchRepo, Path]) -> None:
    repo, marks = hostile
    (repo.path / "a.txt").write_text("three\n", encoding="utf-8")
    git = GitRepo(repo.path)
    preview = git.preview("commit", {"message": "m", "paths": ["a.txt"], "run_hooks": True})
    assert preview.runs_hooks and not preview.error
    git.execute("commit", {"message": "m", "paths": ["a.txt"], "run_hooks": True})
    assert {"pre-commit", "commit-msg", "post-commit"} <= set(_ran(marks))


def test_previews_say_what_is_touched_and_why_not(tmp_path: Path) -> None:
    repo = ScratchRepo(tmp_path / "r")
    repo.git("config", "user.name", "Test")
    repo.git("config", "user.email", "t@example.com")
    repo.write("a.txt", "1\n")
    repo.commit("init")
    git = GitRepo(repo.path)
    assert git.preview("commit", {"message": "m"}).error == \
        "nothing is staged and no paths are given"
    assert "no branch named nope" in git.preview("switch", {"name": "nope"}).error
    assert git.preview("stash", {}).error == "there are no changes to stash"
    assert git.preview("branch", {"name": "main"}).error == "branch main already exists"
    (repo.path / "a.txt").write_text("2\n", encoding="utf-8")
    assert git.preview("restore", {"paths": ["a.txt"]}).touches == ("a.txt",)
    assert git.preview("push", {}).undoable is False
    with pytest.raises(GitError, match="git switch failed"):
        git.execute("switch", {"name": "nope"})


def test_state_capture(tmp_path: Path) -> None:
    repo = ScratchRepo(tmp_path / "r")
    repo.git("config", "user.name", "Test")
    repo.git("config", "user.email", "t@example.com")
    repo.write("a.txt", "1\n")
    repo.commit("init")
    git = GitRepo(repo.path)
    before = git.capture("commit", {})
    assert before.head.branch == "refs/heads/main" and before.refs["refs/heads/main"]
    digest = git.index_digest()
    repo.git("status")  # refreshes stat data only
    assert git.index_digest() == digest
    (repo.path / "a.txt").write_text("2\n", encoding="utf-8")
    git.execute("add", {"paths": ["a.txt"]})
    assert git.index_digest() != digest


@pytest.mark.parametrize("remote,branch,ok", [
    ("origin", "main", True), ("origin", "feature/x-1", True), ("origin", "+main", False),
    ("origin", ":main", False), ("origin", "main:prod", False), ("-oProxy=x", "main", False),
    ("origin", "a..b", False), ("origin", "", False)])
def test_push_takes_plain_names_only(remote: str, branch: str, ok: bool) -> None:
    from consilium_cli.tools.git import push_problem

    assert (push_problem(remote, branch) == "") is ok
