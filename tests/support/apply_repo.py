"""Scratch repositories for `consilium apply` tests, snapshots of their whole state, and
a pseudo-terminal runner for the approval prompt."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.git_repo import GitRepo

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PLAN = ROOT / "examples" / "plan.json"

AUTH_PY = ("def check_password(user, password):\n"
           "    # TODO: constant-time comparison\n"
           "    return user.password == password\n")


def make_scratch_repo(path: Path) -> GitRepo:
    """The repository examples/plan.json is written for (docs/plan-schema.md)."""
    repo = GitRepo(path)
    repo.git("config", "user.name", "Test")
    repo.git("config", "user.email", "test@example.com")
    repo.write("app/auth.py", AUTH_PY)
    repo.write("README.md", "# scratch\n")
    repo.write("old.py", "print('old')\n")
    repo.write("notes.txt", "a\n")
    conn = sqlite3.connect(path / "app.db")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, active INTEGER)")
    conn.executemany("INSERT INTO users VALUES (?, ?, ?)", [(1, "ann", 1), (2, "test", 1)])
    conn.commit()
    conn.close()
    repo.commit("init")
    return repo


def snapshot(path: Path) -> dict[str, Any]:
    """Every file's bytes (hash) and mode, HEAD, branches, stashes and the index entries."""
    files = {}
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d not in (".git", ".consilium")]
        for name in names:
            full = Path(folder) / name
            rel = full.relative_to(path).as_posix()
            files[rel] = (hashlib.sha256(full.read_bytes()).hexdigest(),
                          full.stat().st_mode & 0o777)

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=path, capture_output=True, check=False)
        return out.stdout.decode("utf-8", "replace").strip()

    return {
        "files": files,
        "head": git("symbolic-ref", "-q", "HEAD"),
        "sha": git("rev-parse", "HEAD"),
        "refs": git("for-each-ref", "--format=%(refname) %(objectname)"),
        "stash": git("stash", "list"),
        "index": git("ls-files", "-s"),
    }


def write_plan(path: Path, actions: list[dict[str, Any]], task: str = "test plan") -> Path:
    path.write_text(json.dumps({"version": 1, "task": task, "actions": actions}),
                    encoding="utf-8")
    return path


def spawn_apply(*args: str, cwd: Path, timeout: float = 30) -> Any:
    """`consilium ARGS` in a real pseudo-terminal (pexpect)."""
    import pexpect

    env = dict(os.environ)
    env.update(COLUMNS="160", LINES="50", TERM="xterm", NO_COLOR="1")
    return pexpect.spawn(sys.executable, ["-m", "consilium_cli.cli.main", *args], cwd=str(cwd),
                         env=env, encoding="utf-8", timeout=timeout, dimensions=(50, 160))
