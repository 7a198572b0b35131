"""`consilium undo` after each kind of action: everything back byte for byte, refusals
when something changed since, and nothing touched that the session did not write."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.apply_repo import make_scratch_repo, snapshot, write_plan
from tests.support.cli import invoke
from tests.support.git_repo import GitRepo


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    return repo


def _apply(tmp_path: Path, actions: list[dict[str, Any]]) -> None:
    plan = write_plan(tmp_path / "plan.json", actions)
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 0, result.stdout + result.stderr


def _modify(repo: GitRepo) -> None:
    (repo.path / "README.md").write_text("# scratch\nchanged\n", encoding="utf-8")


def _stage(repo: GitRepo) -> None:
    _modify(repo)
    repo.git("add", "README.md")


def _nothing(repo: GitRepo) -> None:
    return None


def _other_branch(repo: GitRepo) -> None:
    """A branch `other` with one more file and a changed README."""
    repo.git("switch", "-q", "-c", "other")
    repo.write("only-here.txt", "x\n")
    repo.write("README.md", "# other\n")
    repo.commit("other")
    repo.git("switch", "-q", "main")


CASES: dict[str, tuple[Callable[[GitRepo], None], list[dict[str, Any]]]] = {
    "edit": (_nothing, [{"kind": "edit_file", "path": "app/auth.py", "edits": [
        {"search": "return user.password == password", "replace": "return False"}]}]),
    "write-new-nested": (_nothing, [{"kind": "write_file", "path": "a/b/c.txt",
                                     "content": "new\n"}]),
    "write-over": (_nothing, [{"kind": "write_file", "path": "README.md", "content": "x"}]),
    "delete": (_nothing, [{"kind": "delete_file", "path": "old.py"}]),
    "move": (_nothing, [{"kind": "move_file", "path": "notes.txt", "to": "docs/n.txt"}]),
    "git-add": (_modify, [{"kind": "git", "op": "add", "args": {"paths": ["README.md"]}}]),
    "git-commit": (_stage, [{"kind": "git", "op": "commit", "args": {"message": "m"}}]),
    "git-commit-paths": (_modify, [{"kind": "git", "op": "commit",
                                    "args": {"message": "m", "paths": ["README.md"]}}]),
    "git-branch": (_nothing, [{"kind": "git", "op": "branch", "args": {"name": "topic"}}]),
    "git-switch": (_other_branch, [{"kind": "git", "op": "switch", "args": {"name": "other"}}]),
    "git-stash": (_stage, [{"kind": "git", "op": "stash", "args": {"message": "s"}}]),
    "git-restore": (_modify, [{"kind": "git", "op": "restore",
                               "args": {"paths": ["README.md"]}}]),
    "sqlite-update": (_nothing, [{"kind": "db_query", "url": "sqlite:///app.db",
                                  "sql": "UPDATE users SET name = ? WHERE id = 1",
                                  "params": ["zed"]}]),
    "sqlite-new-db": (_nothing, [{"kind": "db_query", "url": "sqlite:///new.db",
                                  "sql": "CREATE TABLE t (x INTEGER)"}]),
    "edit-then-run": (_nothing, [
        {"kind": "write_file", "path": "x.txt", "content": "x\n"},
        {"kind": "run", "argv": ["git", "--version"]}]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_undo_restores_each_kind(scratch: GitRepo, tmp_path: Path, case: str) -> None:
    setup, actions = CASES[case]
    setup(scratch)
    before = snapshot(scratch.path)
    _apply(tmp_path, actions)
    assert snapshot(scratch.path) != before
    result = invoke("undo", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert snapshot(scratch.path) == before
    assert not (scratch.path / "a").exists() and not (scratch.path / "docs").exists()


def test_undo_keeps_a_folder_it_made_that_now_holds_other_files(scratch: GitRepo,
                                                                tmp_path: Path) -> None:
    _apply(tmp_path, [{"kind": "write_file", "path": "a/b/c.txt", "content": "new\n"}])
    scratch.write("a/mine.txt", "the user's\n")
    result = invoke("undo", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not (scratch.path / "a" / "b").exists()
    assert (scratch.path / "a" / "mine.txt").read_text(encoding="utf-8") == "the user's\n"
    assert "folder kept (not removed)" in result.stdout
    assert "holds files consilium did not write" in result.stdout


def test_undo_refuses_when_a_file_changed_since_and_force_overrides(scratch: GitRepo,
                                                                   tmp_path: Path) -> None:
    _apply(tmp_path, [{"kind": "write_file", "path": "README.md", "content": "mine\n"},
                      {"kind": "write_file", "path": "new.txt", "content": "n\n"}])
    (scratch.path / "README.md").write_text("the user's own edit\n", encoding="utf-8")
    refused = invoke("undo", "--yes")
    assert refused.exit_code == 2
    assert "README.md" in refused.stderr and "--force" in refused.stderr
    assert "CHANGED SINCE: README.md" in refused.stdout
    assert (scratch.path / "new.txt").exists()  # nothing was restored
    forced = invoke("undo", "--yes", "--force")
    assert forced.exit_code == 0
    assert (scratch.path / "README.md").read_text(encoding="utf-8") == "# scratch\n"
    assert not (scratch.path / "new.txt").exists()


def test_undo_never_touches_what_it_did_not_write(scratch: GitRepo, tmp_path: Path) -> None:
    _apply(tmp_path, [{"kind": "edit_file", "path": "README.md",
                       "edits": [{"search": "# scratch", "replace": "# Scratch"}]}])
    scratch.write("user.txt", "user file\n")
    (scratch.path / "old.py").write_text("print('user')\n", encoding="utf-8")
    scratch.git("add", "old.py")
    index_before = scratch.git("ls-files", "-s")
    assert invoke("undo", "--yes").exit_code == 0
    assert (scratch.path / "README.md").read_text(encoding="utf-8") == "# scratch\n"
    assert (scratch.path / "user.txt").read_text(encoding="utf-8") == "user file\n"
    assert (scratch.path / "old.py").read_text(encoding="utf-8") == "print('user')\n"
    assert scratch.git("ls-files", "-s") == index_before


def test_undo_refuses_when_the_staging_area_changed_since(scratch: GitRepo,
                                                         tmp_path: Path) -> None:
    _modify(scratch)
    _apply(tmp_path, [{"kind": "git", "op": "add", "args": {"paths": ["README.md"]}}])
    (scratch.path / "old.py").write_text("print('user')\n", encoding="utf-8")
    scratch.git("add", "old.py")
    refused = invoke("undo", "--yes")
    assert refused.exit_code == 2 and "index" in refused.stderr
    assert "old.py" in scratch.git("diff", "--cached", "--name-only")


def test_undo_refuses_when_the_branch_moved(scratch: GitRepo, tmp_path: Path) -> None:
    _modify(scratch)
    _apply(tmp_path, [{"kind": "git", "op": "commit",
                       "args": {"message": "m", "paths": ["README.md"]}}])
    scratch.write("later.txt", "x\n")
    scratch.commit("the user's commit")
    refused = invoke("undo", "--yes")
    assert refused.exit_code == 2 and "refs/heads/main" in refused.stderr


def test_undo_of_sqlite_refuses_after_other_writes(scratch: GitRepo, tmp_path: Path) -> None:
    _apply(tmp_path, [{"kind": "db_query", "url": "sqlite:///app.db",
                       "sql": "DELETE FROM users WHERE id = 2"}])
    conn = sqlite3.connect(scratch.path / "app.db")
    conn.execute("INSERT INTO users VALUES (9, 'new', 1)")
    conn.commit()
    conn.close()
    refused = invoke("undo", "--yes")
    assert refused.exit_code == 2 and "app.db" in refused.stderr


def test_undo_without_a_terminal_needs_yes(scratch: GitRepo, tmp_path: Path) -> None:
    _apply(tmp_path, [{"kind": "write_file", "path": "n.txt", "content": "n\n"}])
    result = invoke("undo")
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert (scratch.path / "n.txt").exists()


def test_undo_refuses_a_journal_that_names_a_path_inside_git(scratch: GitRepo,
                                                             tmp_path: Path) -> None:
    """The journal is a folder in the repository: a record someone else wrote there must
    not make undo write where apply never would."""
    from consilium_cli.tools.journal import Journal

    journal = Journal(scratch.path)
    writer = journal.start("forged", task="t", source="p")
    hook = ".git/hooks/post-checkout"
    writer.begin(0, "write_file", "write x", undoable=True,
                 files=[{"path": hook, "exists": True, "sha256": "0" * 64, "mode": 0o755,
                         "object": journal.put_object(b"#!/bin/sh\necho owned\n")}])
    result = invoke("undo", "forged", "--yes", "--force", "--trust-journal")
    assert result.exit_code == 2 and "never writes" in result.stderr
    assert not (scratch.path / hook).exists()
