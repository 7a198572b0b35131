"""The approval prompt in a real pseudo-terminal: y, n, a, d, q, Ctrl-C, and a file the
user edits while the prompt waits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pexpect
import pytest

from consilium_cli.history import History
from tests.support.apply_repo import make_scratch_repo, spawn_apply, write_plan
from tests.support.cli import invoke

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pexpect needs a POSIX pty")

PROMPT = r"Apply\? "
PERSONAL_PROMPT = r"Apply this one\? "


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    return repo.path


def _three_writes(tmp_path: Path) -> Path:
    return write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "write_file", "path": "two.txt", "content": "2\n"},
        {"kind": "write_file", "path": "three.txt", "content": "3\n"}])


def _answer(child: pexpect.spawn, number: int, key: str) -> None:
    """Wait for action NUMBER's own prompt, then press KEY."""
    child.expect(rf"\[{number}/\d+\]")
    child.expect(PROMPT)
    child.send(key)


def _finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus)


def _answers() -> list[str]:
    with History() as history:
        session = history.list_sessions(kind="apply")[0]
        return [a["answer"] for a in history.get_session(session.id).approvals]


def test_yes_no_and_diff(scratch: Path, tmp_path: Path) -> None:
    child = spawn_apply("apply", "--plan", str(_three_writes(tmp_path)), cwd=scratch)
    _answer(child, 1, "d")  # the whole file, then the same question again
    child.expect(r"\+1")
    child.expect(PROMPT)
    child.send("y")
    _answer(child, 2, "n")
    _answer(child, 3, "\r")  # Enter: the default, no
    assert _finish(child) == 0
    assert (scratch / "one.txt").read_text(encoding="utf-8") == "1\n"
    assert not (scratch / "two.txt").exists() and not (scratch / "three.txt").exists()
    assert _answers() == ["yes", "no", "no"]


def test_all_answers_the_rest(scratch: Path, tmp_path: Path) -> None:
    child = spawn_apply("apply", "--plan", str(_three_writes(tmp_path)), cwd=scratch)
    _answer(child, 1, "n")
    _answer(child, 2, "a")
    child.expect("plan done")
    assert _finish(child) == 0
    assert not (scratch / "one.txt").exists()
    assert (scratch / "three.txt").exists()
    assert _answers() == ["no", "all", "yes (yes to the rest)"]


def test_quit_stops_and_declining_everything_exits_5(scratch: Path, tmp_path: Path) -> None:
    child = spawn_apply("apply", "--plan", str(_three_writes(tmp_path)), cwd=scratch)
    _answer(child, 1, "n")
    _answer(child, 2, "q")
    child.expect("every action was declined")
    assert _finish(child) == 5
    assert not any((scratch / n).exists() for n in ("one.txt", "two.txt", "three.txt"))
    assert _answers() == ["no", "quit"]


def test_ctrl_c_at_the_prompt_keeps_what_was_done_undoable(scratch: Path,
                                                            tmp_path: Path) -> None:
    child = spawn_apply("apply", "--plan", str(_three_writes(tmp_path)), cwd=scratch)
    _answer(child, 1, "y")
    _answer(child, 2, "\x03")  # Ctrl-C
    child.expect("interrupted")
    assert _finish(child) == 130
    assert (scratch / "one.txt").exists() and not (scratch / "two.txt").exists()
    assert _answers() == ["yes", "interrupted"]
    journal = json.loads(invoke("journal", "show", "--json").stdout)
    assert journal["status"] == "interrupted" or journal["status"] == "open"
    assert all(step["finished"] for step in journal["steps"])
    assert invoke("undo", "--yes").exit_code == 0
    assert not (scratch / "one.txt").exists()


def test_ctrl_c_during_a_command_stops_it(scratch: Path, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "run", "argv": [sys.executable, "-c",
                                 "import time; print('started', flush=True); time.sleep(60)"]},
        {"kind": "write_file", "path": "two.txt", "content": "2\n"}])
    child = spawn_apply("apply", "--plan", str(plan), cwd=scratch)
    _answer(child, 1, "a")
    child.expect(r"\nstarted\r?\n")  # the output, not the argv in the preview
    child.sendintr()
    assert _finish(child) == 130
    assert not (scratch / "two.txt").exists()
    journal = json.loads(invoke("journal", "show", "--json").stdout)
    assert [s["kind"] for s in journal["steps"]] == ["write_file", "run"]
    assert all(s["finished"] for s in journal["steps"])
    assert journal["steps"][1]["end"]["ok"] is False
    undo = invoke("undo", "--yes")
    assert undo.exit_code == 0 and "cannot be undone (not reverted): run" in undo.stdout
    assert not (scratch / "one.txt").exists()


def test_file_edited_while_the_prompt_waits_is_not_written(scratch: Path,
                                                           tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "edit_file", "path": "README.md",
         "edits": [{"search": "# scratch\n", "replace": "# Scratch\n"}]}])
    child = spawn_apply("apply", "--plan", str(plan), cwd=scratch)
    child.expect(r"\[1/1\]")
    child.expect(PROMPT)
    (scratch / "README.md").write_text("# scratch\nmy own line\n", encoding="utf-8")
    child.send("y")
    child.expect("changed since it was shown")
    assert _finish(child) == 1
    assert (scratch / "README.md").read_text(encoding="utf-8") == "# scratch\nmy own line\n"


def test_symlink_escape_asks_personally_even_after_all(scratch: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (scratch / "link").symlink_to(outside)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "write_file", "path": "link/evil.txt", "content": "x\n"}])
    child = spawn_apply("apply", "--plan", str(plan), cwd=scratch)
    _answer(child, 1, "a")
    child.expect(r"\[2/2\]")
    child.expect("OUTSIDE THE REPOSITORY")
    child.expect(PERSONAL_PROMPT)
    child.send("n")
    assert _finish(child) == 0
    assert not (outside / "evil.txt").exists()
    assert _answers() == ["all", "no"]
