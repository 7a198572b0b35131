"""Real git repositories in temporary folders, for tests that need diffs git produced."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# The user's and the system's git config must not shape the diffs under test.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.home = path.parent / f".{path.name}-home"
        self.home.mkdir(exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_ENV, HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"))
        return env

    def git(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(["git", *args], cwd=self.path, env=self.env(), check=check,
                             capture_output=True)
        return out.stdout.decode("utf-8", "replace")

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_bytes(content.encode("utf-8"))
        return target

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
