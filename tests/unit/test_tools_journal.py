"""The journal: write-ahead records, objects by hash, torn lines, session status."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
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
