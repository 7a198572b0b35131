"""From a council decision to a plan: `ask --save-plan` and `apply "TASK"`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import invoke
from tests.support.openai_server import DECISION, serve_openai

SECRET = "sk-proj-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3"
SOURCE = f'import os\n\nAPI_KEY = "{SECRET}"\n\n\ndef login(user, password):\n    return True\n'


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "auth.py").write_text(SOURCE)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t",
                    "commit", "-qm", "init"], check=True)
    monkeypatch.chdir(root)
    return root


def placeholder_in(body: dict[str, Any]) -> str:
    files = body["messages"][1]["content"].split("# Files", 1)[1]
    assert SECRET not in files
    return re.findall(r"\[REDACTED:[a-z0-9-]+#\d+\]", files)[0]


def plan_using_placeholder(body: dict[str, Any]) -> str:
    key = placeholder_in(body)
    return json.dumps({"version": 1, "task": "read the key from the environment",
                       "summary": "move the key out of the code", "actions": [{
                           "kind": "edit_file", "path": "auth.py", "why": "no secrets in code",
                           "edits": [{"search": f'API_KEY = "{key}"',
                                      "replace": 'API_KEY = os.environ["API_KEY"]'}]}]})


def env_for(url: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url,
            "CONSILIUM_DIRECTOR_TIMEOUT_S": "5"}


def test_save_plan_from_the_remote_director_maps_placeholders_back(tiny_gguf: Path,
                                                                   repo: Path) -> None:
    with serve_openai(["ok"], answers=[json.dumps(DECISION), plan_using_placeholder]) as server:
        result = invoke("ask", "move the API key out of auth.py", "-f", "auth.py", "--model",
                        str(tiny_gguf), "--max-tokens", "8", "--rounds", "1", "--agents",
                        "dev", "--save-plan", "plan.json", env=env_for(server.url))
    assert result.exit_code == 0, result.stderr
    assert len(server.bodies) == 2
    for body in server.bodies:
        assert SECRET.encode() not in body
    plan = json.loads((repo / "plan.json").read_text())
    assert plan["actions"][0]["edits"][0]["search"] == f'API_KEY = "{SECRET}"'
    assert "plan saved" in result.stderr


def test_apply_task_runs_the_plan_and_undo_restores(tiny_gguf: Path, repo: Path) -> None:
    with serve_openai(["ok"], answers=[json.dumps(DECISION), plan_using_placeholder]) as server:
        result = invoke("apply", "move the API key out of auth.py", "-f", "auth.py",
                        "--model", str(tiny_gguf), "--max-tokens", "8", "--rounds", "1",
                        "--agents", "dev", "--approve", "edits", env=env_for(server.url))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert 'API_KEY = os.environ["API_KEY"]' in (repo / "auth.py").read_text()
    undone = invoke("undo", "--yes")
    assert undone.exit_code == 0, undone.stdout + undone.stderr
    assert (repo / "auth.py").read_text() == SOURCE


def test_a_plan_with_an_unknown_placeholder_is_refused(tiny_gguf: Path, repo: Path) -> None:
    bad = json.dumps({"version": 1, "task": "t", "summary": "s", "actions": [{
        "kind": "write_file", "path": "x.txt", "content": "[REDACTED:github-token#7]"}]})
    with serve_openai(["ok"], answers=[json.dumps(DECISION), bad]) as server:
        result = invoke("apply", "do it", "--model", str(tiny_gguf), "--max-tokens", "8",
                        "--rounds", "1", "--agents", "dev", "--approve", "all",
                        env=env_for(server.url))
    assert result.exit_code == 4
    assert "never given" in result.stderr
    assert not (repo / "x.txt").exists()


def test_a_failed_plan_request_exits_4_and_is_in_history(tiny_gguf: Path, repo: Path) -> None:
    with serve_openai(["ok", "401"], answers=[json.dumps(DECISION)]) as server:
        result = invoke("ask", "move the API key out of auth.py", "-f", "auth.py", "--model",
                        str(tiny_gguf), "--max-tokens", "8", "--rounds", "1", "--agents",
                        "dev", "--save-plan", "plan.json", env=env_for(server.url))
    assert result.exit_code == 4, result.stderr
    assert not (repo / "plan.json").exists()
    record = json.loads(invoke("history", "export", "last").stdout)
    outcomes = [r["outcome"] for r in record["director_requests"]]
    assert outcomes == ["ok", "failed (plan): 401 unauthorized: the API key is invalid"]


def test_apply_task_without_a_terminal_or_policy_refuses_before_the_council(
        tiny_gguf: Path, repo: Path) -> None:
    result = invoke("apply", "do it", "--model", str(tiny_gguf))
    assert result.exit_code == 2
    assert "--approve" in result.stderr
    assert "Round" not in result.stdout


def test_local_plan_on_the_tiny_model_is_valid_or_a_clear_error(tiny_gguf: Path,
                                                                repo: Path) -> None:
    result = invoke("ask", "add a docstring to auth.py", "-f", "auth.py", "--model",
                    str(tiny_gguf), "--max-tokens", "8", "--rounds", "1", "--agents", "dev",
                    "--director", "local", "--save-plan", "plan.json", "--seed", "5")
    if result.exit_code == 0:
        json.loads((repo / "plan.json").read_text())
    else:
        assert result.exit_code == 3
        assert "plan" in result.stderr
        assert "Traceback" not in result.stderr
