"""The journal: write-ahead records, objects by hash, torn lines, session status."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.history import History
from consilium_cli.tools.files import sha256_bytes
from consilium_cli.tools.journal import Journal


def test_records_objects_and_status(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    writer = journal.start("abc123", task="t", source="plan.json")
    assert (tmp_path / ".consilium" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    digest = journal.put_object(b"hello")
    assert journal.put_object(b"hello") == digest
    assert journal.get_object(digest) == b"hello"
    step = writer.begin(0, "write_file", "write a", undoable=True,
                        files=[{"path": "a", "exists": False}])
    log = journal.load("abc123")
    assert log.status == "interrupted" and not log.steps[0].finished
    writer.end(step, ok=True, files=[{"path": "a", "exists": True, "sha256": "x"}])
    assert journal.load("abc123").status == "open"
    writer.close("done")
    log = journal.load("abc123")
    assert log.status == "done" and log.changes == 1 and log.steps[0].end["ok"]


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    writer = journal.start("s1", task="t", source="p")
    writer.begin(0, "delete_file", "delete a", undoable=True, files=[])
    with writer.path.open("ab") as handle:
        handle.write(b'{"t": "end", "step": 0, "ok": tr')
    log = journal.load("s1")
    assert len(log.steps) == 1 and not log.steps[0].finished


def test_damaged_object_is_reported(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    digest = journal.put_object(b"data")
    journal.object_path(digest).write_bytes(b"other")
    with pytest.raises(UsageError, match="damaged"):
        journal.get_object(digest)


def test_resolve_picks_the_newest_session_with_changes(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    with pytest.raises(UsageError, match="empty"):
        journal.resolve(None)
    first = journal.start("aaa111", task="one", source="p")
    first.begin(0, "write_file", "write a", undoable=True, files=[])
    second = journal.start("aab222", task="two", source="p")
    second.begin(0, "run", "run ls", undoable=False)
    assert journal.resolve(None).id == "aaa111"
    assert journal.resolve("aab").id == "aab222"
    with pytest.raises(UsageError, match="ambiguous"):
        journal.resolve("aa")


def test_a_linked_state_folder_is_refused(tmp_path: Path) -> None:
    from consilium_cli.errors import UsageError
    from consilium_cli.tools.journal import state_dir

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".consilium").symlink_to(elsewhere)
    with pytest.raises(UsageError, match="not a plain folder"):
        state_dir(repo)
    assert not any(elsewhere.iterdir())


def _crashed_write(root: Path, folders: list[str], file: str) -> Journal:
    """The journal and tree a kill -9 leaves between making a write's folders and its
    end record: the begin record names the folders, they exist, the file does not."""
    journal = Journal(root)
    writer = journal.start("s1", task="t", source="p")
    writer.begin(0, "write_file", f"write {file}", undoable=True,
                 files=[{"path": file, "exists": False, "sha256": "", "mode": None}],
                 intended=[{"path": file, "exists": True, "sha256": "f" * 64}],
                 new_dirs=[str(root / f) for f in folders])
    for folder in folders:
        (root / folder).mkdir()
    return journal


def test_undo_removes_the_folders_of_a_step_a_kill_interrupted(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo, run_undo

    journal = _crashed_write(tmp_path, ["a", "a/b"], "a/b/c.txt")
    log = journal.load("s1")
    assert log.status == "interrupted" and journal.resolve(None).id == "s1"
    plan = plan_undo(journal, log)
    assert plan.created_dirs == [str(tmp_path / "a" / "b"), str(tmp_path / "a")]
    assert not plan.conflicts and plan.already == ["a/b/c.txt"]
    done = run_undo(journal, plan)
    assert not (tmp_path / "a").exists()
    assert len(done) == 2 and not plan.kept_dirs
    assert journal.load("s1").status == "undone"


def test_a_kill_before_the_folders_were_made_leaves_nothing_to_remove(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo, run_undo

    journal = _crashed_write(tmp_path, ["a"], "a/b/c.txt")  # killed before making a/b
    plan = plan_undo(journal, journal.load("s1"))
    assert plan.created_dirs == [str(tmp_path / "a")]
    run_undo(journal, plan)
    assert not (tmp_path / "a").exists()


def test_undo_keeps_and_reports_a_folder_that_holds_other_files(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo, run_undo

    journal = _crashed_write(tmp_path, ["a", "a/b"], "a/b/c.txt")
    (tmp_path / "a" / "mine.txt").write_text("the user's\n", encoding="utf-8")
    plan = plan_undo(journal, journal.load("s1"))
    run_undo(journal, plan)
    assert not (tmp_path / "a" / "b").exists()
    assert (tmp_path / "a" / "mine.txt").read_text(encoding="utf-8") == "the user's\n"
    assert plan.kept_dirs == [f"{tmp_path / 'a'} (it holds files consilium did not write)"]
    assert plan.to_json()["kept_dirs"] == plan.kept_dirs


def test_undo_does_not_remove_a_folder_through_a_link_made_since(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo, run_undo

    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    (outside / "b").mkdir(parents=True)
    journal = _crashed_write(root, ["a", "a/b"], "a/b/c.txt")
    (root / "a" / "b").rmdir()
    (root / "a").rmdir()
    (root / "a").symlink_to(outside)
    plan = plan_undo(journal, journal.load("s1"))
    run_undo(journal, plan)
    assert (outside / "b").is_dir()
    assert [k.split(" (")[1] for k in plan.kept_dirs] == [
        "it is no longer the folder consilium made)"] * 2


def test_a_finished_step_removes_the_folders_its_end_record_names(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo

    journal = _crashed_write(tmp_path, ["a", "a/b"], "a/b/c.txt")
    writer = journal.writer("s1")
    # the step found a/b made by someone else in the meantime and failed; it made only a
    writer.end(0, ok=False, error="exists", files=[{"path": "a/b/c.txt", "exists": False}],
               created_dirs=[str(tmp_path / "a")])
    assert plan_undo(journal, journal.load("s1")).created_dirs == [str(tmp_path / "a")]


def test_a_journal_naming_a_folder_inside_git_is_refused(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo

    (tmp_path / ".git").mkdir()
    journal = _crashed_write(tmp_path, [".git/hooks"], ".git/hooks/x")
    with pytest.raises(UsageError, match="never writes"):
        plan_undo(journal, journal.load("s1"))
    assert (tmp_path / ".git" / "hooks").is_dir()


def _history_with(tmp_path: Path, kind: str, cwd: Path) -> tuple[History, str]:
    history = History(tmp_path / "history.sqlite3")
    return history, history.start_session(kind, "t", cwd=str(cwd))


@pytest.mark.parametrize(("kind", "where", "why"), [
    ("apply", "here", ""),
    ("ask", "here", "records it as a `consilium ask` session"),
    ("apply", "elsewhere", "it was made in"),
])
def test_provenance_needs_an_apply_session_of_this_repository(
        tmp_path: Path, kind: str, where: str, why: str) -> None:
    from consilium_cli.tools.undo import UntrustedSession, check_provenance

    root = tmp_path / "repo"
    root.mkdir()
    history, session = _history_with(tmp_path, kind, root if where == "here" else tmp_path)
    with history:
        journal = Journal(root)
        journal.start(session, task="t", source="p")
        log = journal.load(session)
        if not why:
            check_provenance(history, journal.root, log)
            return
        with pytest.raises(UntrustedSession, match=why) as err:
            check_provenance(history, journal.root, log)
    assert err.value.exit_code == 2
    assert "not made by consilium apply on this machine" in err.value.message
    assert f"consilium undo {session} --trust-journal" in err.value.hint


def test_provenance_refuses_a_session_history_does_not_know(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import UntrustedSession, check_provenance

    journal = Journal(tmp_path)
    journal.start("c0ffee000000", task="t", source="p")
    with History(tmp_path / "history.sqlite3") as history:
        history.start_session("apply", "t", cwd=str(journal.root))
        with pytest.raises(UntrustedSession, match="no session with this id"):
            check_provenance(history, journal.root, journal.load("c0ffee000000"))
        assert history.session_origin("c0ffee") is None  # an exact id, not a prefix


def test_the_plan_lists_what_lies_outside_the_repository(tmp_path: Path) -> None:
    from consilium_cli.tools.undo import plan_undo

    root, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    journal = Journal(root)
    writer = journal.start("s1", task="t", source="p")
    outside, inside = elsewhere / "new.txt", root / "d" / "in.txt"
    writer.begin(0, "write_file", "write", undoable=True,
                 files=[{"path": str(outside), "exists": False},
                        {"path": "d/in.txt", "exists": False}],
                 new_dirs=[str(elsewhere), str(root / "d")])
    outside.write_text("x\n", encoding="utf-8")
    inside.parent.mkdir()
    inside.write_text("x\n", encoding="utf-8")
    writer.end(0, ok=True, files=[{"path": str(outside), "exists": True,
                                   "sha256": sha256_bytes(b"x\n")},
                                  {"path": "d/in.txt", "exists": True,
                                   "sha256": sha256_bytes(b"x\n")}],
               created_dirs=[str(elsewhere), str(root / "d")])
    plan = plan_undo(journal, journal.load("s1"))
    assert not plan.conflicts
    assert plan.outside == [str(outside), str(elsewhere)]
    assert plan.to_json()["outside"] == plan.outside
