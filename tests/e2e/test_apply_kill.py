"""kill -9 in the middle of a plan: the tree and the journal stay consistent and undo
still puts everything back."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from tests.support.apply_repo import make_scratch_repo, snapshot, spawn_apply, write_plan
from tests.support.cli import invoke

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and pty")

PROMPT = r"Apply\? "


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    return repo.path


def _answer(child: pexpect.spawn, number: int, key: str) -> None:
    child.expect(rf"\[{number}/\d+\]")
    child.expect(PROMPT)
    child.send(key)


def test_kill_between_actions(scratch: Path, tmp_path: Path) -> None:
    before = snapshot(scratch)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "edit_file", "path": "README.md",
         "edits": [{"search": "# scratch", "replace": "# Scratch"}]},
        {"kind": "git", "op": "add", "args": {"paths": ["one.txt"]}},
        {"kind": "delete_file", "path": "old.py"}])
    child = spawn_apply("apply", "--plan", str(plan), cwd=scratch)
    _answer(child, 1, "y")
    _answer(child, 2, "y")
    _answer(child, 3, "y")
    child.expect(r"\[4/4\]")
    child.expect(PROMPT)
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGKILL

    assert (scratch / "one.txt").read_text(encoding="utf-8") == "1\n"
    assert (scratch / "README.md").read_text(encoding="utf-8") == "# Scratch\n"
    assert (scratch / "old.py").exists()
    show = json.loads(invoke("journal", "show", "--json").stdout)
    assert show["status"] == "open"  # killed before it could close the session
    assert [s["finished"] for s in show["steps"]] == [True, True, True]
    assert invoke("undo", "--yes").exit_code == 0
    assert snapshot(scratch) == before


def test_kill_during_a_command(scratch: Path, tmp_path: Path) -> None:
    before = snapshot(scratch)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "run", "argv": [sys.executable, "-c",
                                 "import os, time; print('pid', os.getpid(), flush=True); "
                                 "time.sleep(60)"]},
        {"kind": "write_file", "path": "two.txt", "content": "2\n"}])
    child = spawn_apply("apply", "--plan", str(plan), cwd=scratch)
    _answer(child, 1, "a")
    child.expect(r"\npid (\d+)\r?\n")
    command_pid = int(child.match.group(1))
    try:
        child.kill(signal.SIGKILL)
        child.expect(pexpect.EOF)
        child.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(command_pid, signal.SIGKILL)  # the command outlives a kill -9 of consilium
    assert not (scratch / "two.txt").exists()
    show = json.loads(invoke("journal", "show", "--json").stdout)
    assert show["status"] == "interrupted"
    assert [(s["kind"], s["finished"]) for s in show["steps"]] == [("write_file", True),
                                                                   ("run", False)]
    listing = invoke("journal", "list")
    assert re.search(r"interrupted\s+1 change", listing.stdout)
    undo = invoke("undo", "--yes")
    assert undo.exit_code == 0, undo.stdout + undo.stderr
    assert snapshot(scratch) == before


# `consilium apply` in a real process that kills itself with SIGKILL at a chosen moment of
# a write: `write` when it has made its folders and has not yet written the file (nor its
# journal's end record); `mkdir` when its begin record names the folders and none is made.
KILL_AT = """
import os, signal, sys
from pathlib import Path
import consilium_cli.tools.files as files

def killer(real):
    def call(path, *args, **kwargs):
        if os.path.basename(path) == name:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(path, *args, **kwargs)
    return call

when, name, sys.argv = sys.argv[1], sys.argv[2], ["consilium", *sys.argv[3:]]
if when == "write":
    files.atomic_write_bytes = killer(files.atomic_write_bytes)
else:
    Path.mkdir = killer(Path.mkdir)
from consilium_cli.cli.main import run
run()
"""


def _apply_killed(scratch: Path, plan: Path, when: str, name: str) -> None:
    import subprocess

    killed = subprocess.run([sys.executable, "-c", KILL_AT, when, name, "apply",
                             "--plan", str(plan), "--approve", "all"],
                            cwd=scratch, capture_output=True, timeout=60, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def test_kill_after_a_write_made_its_folders(scratch: Path, tmp_path: Path) -> None:
    before = snapshot(scratch)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "write_file", "path": "a/b/c.txt", "content": "c\n"}])
    _apply_killed(scratch, plan, "write", "c.txt")
    assert (scratch / "a" / "b").is_dir() and not (scratch / "a" / "b" / "c.txt").exists()
    show = json.loads(invoke("journal", "show", "--json").stdout)
    assert show["status"] == "interrupted"
    root = scratch.resolve()
    assert show["steps"][1]["begin"]["new_dirs"] == [str(root / "a"), str(root / "a" / "b")]
    undo = invoke("undo", "--yes")
    assert undo.exit_code == 0, undo.stdout + undo.stderr
    assert "will remove the folder" in undo.stdout
    assert snapshot(scratch) == before
    assert not (scratch / "a").exists()


def test_folders_someone_else_made_after_a_kill_are_kept(scratch: Path,
                                                         tmp_path: Path) -> None:
    before = snapshot(scratch)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "write_file", "path": "one.txt", "content": "1\n"},
        {"kind": "write_file", "path": "fresh/sub/c.txt", "content": "c\n"}])
    _apply_killed(scratch, plan, "mkdir", "fresh")  # journaled, not made
    assert not (scratch / "fresh").exists()
    root = scratch.resolve()
    show = json.loads(invoke("journal", "show", "--json").stdout)
    assert show["steps"][1]["begin"]["new_dirs"] == [str(root / "fresh"),
                                                      str(root / "fresh" / "sub")]
    # someone else makes the same folders and puts their work in them before the undo
    theirs = scratch / "fresh" / "sub" / "theirs.txt"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("their work\n", encoding="utf-8")
    undo = invoke("undo", "--yes")
    assert undo.exit_code == 0, undo.stdout + undo.stderr
    assert theirs.read_text(encoding="utf-8") == "their work\n"
    assert not (scratch / "one.txt").exists()
    kept = re.findall(r"folder kept \(not removed\): (\S+) \(([^)]*)\)", undo.stdout)
    assert kept == [(str(root / "fresh" / "sub"), "it holds files consilium did not write"),
                    (str(root / "fresh"), "it holds files consilium did not write")]
    after = snapshot(scratch)
    assert after["files"].pop("fresh/sub/theirs.txt")
    assert after == before
