"""The journal: write-ahead records, objects by hash, torn lines, session status."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.history import History
from consilium_cli.tools.files import sha256_bytes
from consilium_cli.tools.journal import Journal, SessionLog


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


# -- sessions a repository ships: damaged or crafted records --------------------------------

_OBJ = "ab" * 32


def _write_session(root: Path, session_id: str, *records: str) -> None:
    folder = root / ".consilium" / "journal" / "sessions" / session_id
    folder.mkdir(parents=True)
    (folder / "log.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")


@pytest.mark.parametrize("record", [
    '{"t":"begin","action":0,"kind":"write_file"}',
    '{"t":"begin","step":0,"kind":"write_file"}',
    '{"t":"begin","step":0,"action":0}',
    '{"t":"begin","step":"0","action":0,"kind":"write_file"}',
    '{"t":"begin","step":true,"action":0,"kind":"write_file"}',
    '{"t":"begin","step":0,"action":0,"kind":["write_file"]}',
    '{"t":"begin","step":0,"action":0,"kind":"w","label":7}',
    '{"t":"begin","step":0,"action":0,"kind":"w","files":{"path":"a"}}',
    '{"t":"begin","step":0,"action":0,"kind":"w","files":[{"exists":false}]}',
    '{"t":"begin","step":0,"action":0,"kind":"w","files":[{"path":"a","exists":true}]}',
    '{"t":"begin","step":0,"action":0,"kind":"w",'
    '"files":[{"path":"a","exists":true,"object":"../../../../etc/passwd"}]}',
    '{"t":"begin","step":0,"action":0,"kind":"w",'
    f'"files":[{{"path":"a","exists":true,"object":"{_OBJ}","mode":"rwx"}}]}}',
    '{"t":"begin","step":0,"action":0,"kind":"w","new_dirs":["a\\u0000b"]}',
    '{"t":"begin","step":0,"action":0,"kind":"git","git":{"head":"main","refs":{}}}',
    '{"t":"begin","step":0,"action":0,"kind":"git","git":{"head":{"branch":"--exec=x",'
    '"sha":null},"refs":{},"index_object":null,"index_digest":""}}',
    '{"t":"begin","step":0,"action":0,"kind":"db","db":["sqlite"]}',
    '{"t":"begin","step":0,"action":0,"kind":"db","db":{"engine":"sqlite","path":"x.db",'
    '"backup":"zz"}}',
    '{"t":"end","step":[0],"ok":true}',
    '{"t":"end","step":0,"ok":true,"created_dirs":"a"}',
    "[" * 100_000 + "]" * 100_000,
])
def test_a_malformed_session_is_damaged_and_skipped(tmp_path: Path, record: str) -> None:
    journal = Journal(tmp_path)
    own = journal.start("aaa111", task="mine", source="p")
    own.begin(0, "write_file", "write a", undoable=True, files=[])
    _write_session(tmp_path, "bad", '{"t":"session","created_at":9e9}', record)
    with pytest.raises(UsageError, match="damaged"):
        journal.load("bad")
    assert [s.id for s in journal.sessions()] == ["aaa111"]
    assert list(journal.damaged) == ["bad"]
    assert journal.resolve(None).id == "aaa111"
    with pytest.raises(UsageError, match="damaged"):
        journal.resolve("bad")  # named: the reason, not "no such session"


@pytest.mark.parametrize(("stamp", "seconds"), [
    ('"soon"', 0.0), ("1e400", 0.0), ("-1e400", 0.0), ("NaN", 0.0), ("null", 0.0),
    ("[1]", 0.0), ('"12.5"', 12.5), ("7", 7.0),
])
def test_a_session_time_that_is_no_number_counts_as_zero(tmp_path: Path, stamp: str,
                                                        seconds: float) -> None:
    journal = Journal(tmp_path)
    journal.start("aaa111", task="mine", source="p")
    _write_session(tmp_path, "odd", f'{{"t":"session","created_at":{stamp}}}')
    assert journal.load("odd").created_at == seconds
    assert [s.id for s in journal.sessions()] == ["aaa111", "odd"]  # no mixed-type sort


def test_a_real_session_passes_the_record_checks(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    writer = journal.start("s1", task="t", source="p")
    digest = journal.put_object(b"old\n")
    writer.begin(0, "write_file", "write a/b.txt", undoable=True,
                 files=[{"path": "a/b.txt", "exists": True, "sha256": digest, "mode": 0o644,
                         "object": digest}],
                 intended=[{"path": "a/b.txt", "exists": True, "sha256": "f" * 64}],
                 new_dirs=[str(tmp_path / "a")])
    writer.end(0, ok=True, files=[{"path": "a/b.txt", "exists": True, "sha256": "f" * 64,
                                   "mode": 0o644}], created_dirs=[])
    writer.begin(1, "git", "git commit", undoable=True, op="commit", args={}, files=[],
                 git={"head": {"branch": "refs/heads/main", "sha": "1" * 40},
                      "refs": {"refs/heads/main": "1" * 40}, "index_object": digest,
                      "index_digest": "d"})
    writer.end(1, ok=True, files=[], git={"head": {"branch": "refs/heads/main", "sha": None},
                                          "refs": {"refs/heads/main": None},
                                          "index_object": None, "index_digest": ""})
    writer.begin(2, "db", "db x.db", undoable=True, files=[],
                 db={"engine": "sqlite", "path": "x.db", "sql": "DELETE", "params": [],
                     "existed": False, "backup": "", "digest_before": ""})
    writer.end(2, ok=True, rowcount=0, db={"digest_after": "x"})
    writer.begin(3, "db", "db pg", undoable=False,
                 db={"engine": "postgresql", "url": "postgresql://h/d", "sql": "x"})
    writer.close("done")
    log = journal.load("s1")
    assert [s.finished for s in log.steps] == [True, True, True, False]


def test_a_shipped_object_under_the_right_name_is_replaced(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    digest = sha256_bytes(b"the user's file\n")
    path = journal.object_path(digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"junk")
    assert journal.put_object(b"the user's file\n") == digest
    assert journal.get_object(digest) == b"the user's file\n"
    # a link there would follow whatever it leads to; it is replaced by a plain file
    shipped = tmp_path / "README.md"
    shipped.write_bytes(b"the user's file\n")
    path.unlink()
    path.symlink_to(shipped)
    journal.put_object(b"the user's file\n")
    shipped.write_bytes(b"edited\n")
    assert not path.is_symlink() and journal.get_object(digest) == b"the user's file\n"


def test_a_journal_folder_shipped_as_a_link_is_refused(tmp_path: Path) -> None:
    elsewhere, root = tmp_path / "elsewhere", tmp_path / "repo"
    elsewhere.mkdir()
    (root / ".consilium" / "journal").mkdir(parents=True)
    (root / ".consilium" / "journal" / "objects").symlink_to(elsewhere)
    (root / ".consilium" / "journal" / "sessions").symlink_to(elsewhere)
    journal = Journal(root)
    with pytest.raises(UsageError, match="not a plain folder"):
        journal.put_object(b"data")
    with pytest.raises(UsageError, match="not a plain folder"):
        journal.start("s1", task="t", source="p")
    assert not any(elsewhere.iterdir())


def test_get_object_refuses_a_name_that_is_no_hash(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="bad hash"):
        Journal(tmp_path).get_object("../../../../etc/passwd")


def _sessions(root: Path, *ids: str) -> Journal:
    journal = Journal(root)
    for number, session_id in enumerate(ids):
        writer = journal.start(session_id, task="t", source="p")
        writer.begin(number, "write_file", "write", undoable=True, files=[])
    return journal


def test_an_exact_id_wins_over_longer_ids_it_starts(tmp_path: Path) -> None:
    journal = _sessions(tmp_path, "abc", "abcd", "abce")
    assert journal.resolve("abc").id == "abc"
    with pytest.raises(UsageError, match="ambiguous"):
        journal.resolve("ab")


def test_sessions_not_vouched_for_cannot_make_a_prefix_ambiguous(tmp_path: Path) -> None:
    shipped = [f"{digit}{digit}00" for digit in "0123456789abcdef"] + ["0f00"]
    journal = _sessions(tmp_path, "a1b2c3", "f0e1d2", *shipped)
    mine = {"a1b2c3", "f0e1d2"}

    def vouched(log: SessionLog) -> bool:
        return log.id in mine

    assert journal.resolve("a", vouched=vouched).id == "a1b2c3"
    assert journal.resolve("f", vouched=vouched).id == "f0e1d2"
    with pytest.raises(UsageError, match="ambiguous"):
        journal.resolve("a")  # without `vouched` (--trust-journal) every session counts
    mine.add("aa00")
    with pytest.raises(UsageError, match=r"ambiguous \(2 sessions\)"):
        journal.resolve("a", vouched=vouched)
    # none vouched for: still ambiguous, so undo never picks a shipped one by itself
    with pytest.raises(UsageError, match="ambiguous"):
        journal.resolve("0", vouched=lambda log: False)


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_a_session_log_shipped_as_a_link_is_not_written_through(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    journal = Journal(root)
    journal.start("abc123", task="t", source="s").close("done")
    log = journal.session_dir("abc123") / "log.jsonl"
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    log.unlink()
    log.symlink_to(victim)
    with pytest.raises(UsageError, match="is it a link"):
        journal.writer("abc123").append({"t": "undone"})
    assert victim.read_text() == "untouched\n"
