"""`consilium apply --plan examples/plan.json` on the scratch repository, then `undo`: the
tree, HEAD, branches, stashes and index come back byte for byte."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from consilium_cli.history import History
from tests.support.apply_repo import EXAMPLE_PLAN, make_scratch_repo, snapshot, write_plan
from tests.support.cli import invoke


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    return repo.path


def test_example_plan_applies_and_undo_restores_everything(scratch: Path) -> None:
    before = snapshot(scratch)
    result = invoke("apply", "--plan", str(EXAMPLE_PLAN), "--approve", "all")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[5/20] edit app/auth.py" in out and "+    return hmac.compare_digest" in out
    assert "NOT UNDOABLE: a command's effects cannot be undone" in out
    assert "plan done: 20 applied, 0 declined" in out
    after = snapshot(scratch)
    assert after["head"] == "refs/heads/consilium/before-auth"
    assert "refs/heads/main" in after["refs"] and after["stash"]
    rows = sqlite3.connect(scratch / "app.db").execute("SELECT active FROM users ORDER BY id")
    assert [r[0] for r in rows] == [1, 1]  # the UPDATE went into the stash with the file
    assert (scratch / ".consilium" / ".gitignore").exists()

    with History() as history:
        session = history.list_sessions(kind="apply")[0]
        record = history.get_session(session.id)
    assert len(record.approvals) == 20
    assert {a["answer"] for a in record.approvals} == {"yes (policy all)"}

    listing = invoke("journal", "list", "--json")
    sessions = json.loads(listing.stdout)
    assert sessions[0]["id"] == session.id and sessions[0]["status"] == "done"

    undone = invoke("undo", "--yes")
    assert undone.exit_code == 0, undone.stdout + undone.stderr
    assert "cannot be undone (not reverted): run git ls-files" in undone.stdout
    assert snapshot(scratch) == before
    again = invoke("undo", session.id, "--yes")
    assert again.exit_code == 2 and "already undone" in again.stderr


def test_no_terminal_and_no_policy_is_refused(scratch: Path) -> None:
    result = invoke("apply", "--plan", str(EXAMPLE_PLAN))
    assert result.exit_code == 2
    assert "no terminal" in result.stderr and "--approve" in result.stderr


def test_no_task_and_no_plan_is_a_usage_error(scratch: Path) -> None:
    result = invoke("apply")
    assert result.exit_code == 2 and "--plan" in result.stderr


def test_task_and_plan_together_is_a_usage_error(scratch: Path, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "p.json", [{"kind": "sysinfo"}])
    result = invoke("apply", "make it faster", "--plan", str(plan))
    assert result.exit_code == 2 and "not both" in result.stderr


def test_invalid_plan_names_the_action_and_field(scratch: Path, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "bad.json", [{"kind": "sysinfo"},
                                              {"kind": "git", "op": "commit", "args": {}}])
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 2
    assert "actions[1].args: missing required field `message`" in result.stderr


def test_policy_that_covers_nothing_declines_everything(scratch: Path, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "p.json", [{"kind": "write_file", "path": "x.txt",
                                             "content": "x"}])
    result = invoke("apply", "--plan", str(plan), "--approve", "read-only")
    assert result.exit_code == 5
    assert "policy read-only does not cover edit" in result.stdout
    assert not (scratch / "x.txt").exists()


@pytest.mark.parametrize(("path", "why"), [
    ("../escape.txt", "`..` leads outside"),
    ("/tmp/consilium-absolute-escape.txt", "an absolute path outside"),
    ("etc-link/consilium-test", "symbolic link"),
])
def test_path_escapes_are_not_written_under_a_policy(scratch: Path, tmp_path: Path,
                                                     path: str, why: str) -> None:
    (scratch / "etc-link").symlink_to("/etc")
    plan = write_plan(tmp_path / "p.json", [{"kind": "write_file", "path": path,
                                             "content": "owned\n"}])
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 5, result.stdout
    assert why in result.stdout and "only a person may approve this" in result.stdout
    assert not (scratch.parent / "escape.txt").exists()
    assert not Path("/tmp/consilium-absolute-escape.txt").exists()
    assert not Path("/etc/consilium-test").exists()


@pytest.mark.parametrize("path", [".git/config", ".consilium/journal/x", ".consilium.toml"])
def test_protected_paths_fail_the_plan(scratch: Path, tmp_path: Path, path: str) -> None:
    plan = write_plan(tmp_path / "p.json", [{"kind": "write_file", "path": path,
                                             "content": "x"}])
    config_before = (scratch / ".git" / "config").read_bytes()
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 1
    assert "refused to touch" in result.stdout
    assert (scratch / ".git" / "config").read_bytes() == config_before
    assert not (scratch / ".consilium.toml").exists()


def test_escape_sequences_in_the_plan_never_reach_the_terminal(scratch: Path,
                                                              tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "p.json", [
        {"kind": "write_file", "path": "x.txt", "content": "\x1b]52;c;cHduZWQ=\x07hi\n",
         "why": "\x1b[2J clear"}])
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout


def test_text_inside_an_escape_sequence_is_shown_for_approval(scratch: Path,
                                                             tmp_path: Path) -> None:
    """Removing `ESC ] ... BEL` from the preview would hide the command written between."""
    plan = write_plan(tmp_path / "p.json", [
        {"kind": "write_file", "path": "run.sh",
         "content": "echo ok\x1b]0;x; rm -rf ./victim;\x07\n"}])
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "rm -rf ./victim" in result.stdout
