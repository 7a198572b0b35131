"""The executor: prepare, show, decide, journal, apply; stops at the first failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.tools.actions import ApplyEnv
from consilium_cli.tools.approval import ApprovalGate, Preview
from consilium_cli.tools.executor import ActionFinished, ActionShown, Executor, PlanFinished
from consilium_cli.tools.journal import Journal
from consilium_cli.tools.plan import parse_plan
from consilium_cli.tools.undo import plan_undo, run_undo


def _run(root: Path, actions: list[dict[str, Any]], ask: Callable[[Preview], str] | None,
         policy: str = "ask", session: str = "s1") -> list[Any]:
    plan = parse_plan({"version": 1, "actions": actions})
    env = ApplyEnv(root=root, env={"PATH": "/usr/bin:/bin"}, protected=[],
                   journal_factory=lambda: Journal(root).start(session, task="t", source="p"))
    return list(Executor(plan, ApprovalGate(policy, ask), env, session).run())


def _finished(events: list[Any]) -> PlanFinished:
    assert isinstance(events[-1], PlanFinished)
    return events[-1]


def test_file_changed_between_preview_and_yes_is_not_written(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("one\n", encoding="utf-8")

    def ask(preview: Preview) -> str:
        target.write_text("one\nuser edit\n", encoding="utf-8")
        return "y"

    events = _run(tmp_path, [{"kind": "edit_file", "path": "a.txt",
                              "edits": [{"search": "one", "replace": "two"}]}], ask)
    result = next(e.result for e in events if isinstance(e, ActionFinished))
    assert not result.ok and "changed since it was shown" in result.message
    assert target.read_text(encoding="utf-8") == "one\nuser edit\n"
    assert _finished(events).status == "failed"
    assert Journal(tmp_path).session_ids() == []  # nothing was journaled: nothing changed


def test_plan_hash_mismatch_is_refused_before_asking(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n", encoding="utf-8")
    events = _run(tmp_path, [{"kind": "delete_file", "path": "a.txt", "sha256": "0" * 64}],
                  lambda p: "y")
    shown = next(e.preview for e in events if isinstance(e, ActionShown))
    assert "sha256 differs" in shown.error and (tmp_path / "a.txt").exists()


def test_a_block_that_does_not_match_stops_everything(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n", encoding="utf-8")
    events = _run(tmp_path, [
        {"kind": "edit_file", "path": "a.py", "edits": [
            {"search": "x = 1", "replace": "x = 10"}, {"search": "z = 3", "replace": "z"}]},
        {"kind": "write_file", "path": "b.txt", "content": "later\n"}], lambda p: "y")
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "x = 1\ny = 2\n"
    assert not (tmp_path / "b.txt").exists()
    finished = _finished(events)
    assert finished.status == "failed" and finished.not_run == 1


def test_binary_file_edit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0IHDR")
    events = _run(tmp_path, [{"kind": "edit_file", "path": "logo.png",
                              "edits": [{"search": "PNG", "replace": "GIF"}]}], lambda p: "y")
    assert "binary" in next(e.preview for e in events if isinstance(e, ActionShown)).error


def test_crlf_file_keeps_its_line_endings_and_undo_restores_bytes(tmp_path: Path) -> None:
    original = b"first\r\nsecond\r\n"
    (tmp_path / "win.txt").write_bytes(original)
    events = _run(tmp_path, [{"kind": "edit_file", "path": "win.txt", "edits": [
        {"search": "first\nsecond\n", "replace": "first\nthird\n"}]}], lambda p: "y")
    assert _finished(events).status == "done"
    assert (tmp_path / "win.txt").read_bytes() == b"first\r\nthird\r\n"
    journal = Journal(tmp_path)
    run_undo(journal, plan_undo(journal, journal.load("s1")))
    assert (tmp_path / "win.txt").read_bytes() == original


def test_whitespace_offer_needs_a_person(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n        return 1\n", encoding="utf-8")
    action = {"kind": "edit_file", "path": "a.py",
              "edits": [{"search": "def f():\n    return 1\n",
                         "replace": "def f():\n    return 2\n"}]}
    events = _run(tmp_path, [action], None, policy="all")
    assert _finished(events).status == "declined"
    assert "return 1" in (tmp_path / "a.py").read_text(encoding="utf-8")
    seen: list[Preview] = []
    events = _run(tmp_path, [action], lambda p: seen.append(p) or "y", session="s2")
    assert seen[0].personal == "a match that ignores whitespace"
    assert "whitespace is ignored" in seen[0].warnings[0]
    # the indentation differs on one line only, so the replacement is taken as written
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "def f():\n    return 2\n"


def test_escape_is_asked_personally_and_undone(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    action = {"kind": "write_file", "path": "../outside.txt", "content": "x\n"}
    assert _finished(_run(root, [action], None, policy="all")).status == "declined"
    assert not outside.exists()
    seen: list[Preview] = []
    _run(root, [action], lambda p: seen.append(p) or "y")
    assert "OUTSIDE THE REPOSITORY" in seen[0].danger[0]
    assert outside.read_text(encoding="utf-8") == "x\n"
    journal = Journal(root)
    run_undo(journal, plan_undo(journal, journal.load("s1")))
    assert not outside.exists()


def test_pipeline_refused_unless_allowed(tmp_path: Path) -> None:
    events = _run(tmp_path, [{"kind": "run", "pipeline": True, "command": "echo hi | wc -c"}],
                  lambda p: "y")
    assert "shell pipelines are off" in next(
        e.preview for e in events if isinstance(e, ActionShown)).error


def test_a_write_that_fails_is_a_failed_action_with_its_journal_step_closed(
        tmp_path: Path) -> None:
    too_long = "d/" + "a" * 300  # the folder is made, then the file name is refused
    events = _run(tmp_path, [{"kind": "write_file", "path": too_long, "content": "x\n"}],
                  lambda p: "y")
    result = next(e.result for e in events if isinstance(e, ActionFinished))
    assert not result.ok and "could not write" in result.message
    assert _finished(events).status == "failed"
    log = Journal(tmp_path).load("s1")
    assert log.status == "failed" and log.steps[0].finished
    assert log.steps[0].end["created_dirs"] == [str(tmp_path / "d")]  # for undo to remove


def test_a_path_that_cannot_be_read_cannot_be_applied(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n", encoding="utf-8")
    events = _run(tmp_path, [{"kind": "write_file", "path": "f.txt/x", "content": "y\n"}],
                  lambda p: "y")
    shown = next(e.preview for e in events if isinstance(e, ActionShown))
    assert "cannot read" in shown.error
    assert _finished(events).status == "failed"


def test_undo_does_not_follow_a_link_made_since_out_of_the_repository(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "sub").mkdir()
    events = _run(root, [{"kind": "write_file", "path": "sub/a.txt", "content": "x\n"}],
                  lambda p: "y")
    assert _finished(events).status == "done"
    (root / "sub" / "a.txt").unlink()
    (root / "sub").rmdir()
    (root / "sub").symlink_to(outside)
    (outside / "a.txt").write_text("x\n", encoding="utf-8")
    plan = plan_undo(Journal(root), Journal(root).load("s1"))
    assert "now leads outside the repository" in plan.conflicts[0].conflict
    with pytest.raises(UsageError, match="refusing to undo"):
        run_undo(Journal(root), plan)
    assert (outside / "a.txt").read_text(encoding="utf-8") == "x\n"
