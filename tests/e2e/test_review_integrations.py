"""The documented integrations work as written: the pre-commit hooks, the git alias, and
the CI job that uploads SARIF (docs/review.md, .pre-commit-hooks.yaml)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.git_repo import GitRepo

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "review.md"
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
posix_only = pytest.mark.skipif(os.name != "posix", reason="runs consilium through a shell")


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def doc_block(marker: str) -> str:
    (block,) = [b for b in yaml_blocks() if marker in b]
    return block


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/auth.py", "def check(token):\n    return True\n")
    repo.commit("one")
    repo.write("app/auth.py", "def check(token):\n    return token == 'admin'\n")
    return repo


@pytest.fixture
def env(repo: GitRepo, tiny_gguf: Path) -> dict[str, str]:
    """The environment a user's shell gives consilium: it is on PATH, the tiny model is
    the configured model."""
    env = repo.env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(CONSILIUM_MODEL_PATH=str(tiny_gguf), CONSILIUM_MODEL_CTX="4096",
               CONSILIUM_REVIEW_MAX_TOKENS="200", CONSILIUM_MODEL_THREADS="1",
               PRE_COMMIT_HOME=str(repo.home / "pre-commit"))
    return env


def test_pre_commit_manifest_is_valid() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}
    assert set(hooks) == {"consilium-review", "consilium-review-system"}
    for hook in hooks.values():
        assert hook["entry"] == "consilium review --staged --fail-on high"
        assert hook["pass_filenames"] is False


def test_documented_pre_commit_config_is_valid(tmp_path: Path) -> None:
    from pre_commit.clientlib import load_config

    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(doc_block("repos:"), encoding="utf-8")
    (repo,) = load_config(str(config))["repos"]
    assert [h["id"] for h in repo["hooks"]] == ["consilium-review"]
    assert repo["hooks"][0]["args"] == ["--fail-on", "critical"]


def _reported_exit(output: str) -> int:
    match = re.search(r"exit (\d)\s*$", output.strip(), re.MULTILINE)
    assert match, output
    return int(match.group(1))


@posix_only
def test_the_hook_runs_under_pre_commit(repo: GitRepo, env: dict[str, str]) -> None:
    from pre_commit.clientlib import load_manifest

    hook = {h["id"]: h for h in load_manifest(str(MANIFEST))}["consilium-review-system"]
    local = {"id": hook["id"], "name": hook["name"], "entry": hook["entry"],
             "language": "system", "pass_filenames": hook["pass_filenames"],
             "require_serial": True, "verbose": True}
    repo.write(".pre-commit-config.yaml",
               yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    repo.git("add", "-A")
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--hook-stage",
                          "pre-commit"], cwd=repo.path, env=env, capture_output=True,
                         text=True, timeout=300)
    output = run.stdout + run.stderr
    assert "consilium review of the index against HEAD" in output, output
    assert run.returncode == _reported_exit(output)


@posix_only
def test_the_documented_git_alias(repo: GitRepo, env: dict[str, str]) -> None:
    doc = DOC.read_text(encoding="utf-8")
    aliases = re.findall(r"^git config --global (alias\.\S+) '(.*)'$", doc, re.MULTILINE)
    assert dict(aliases) == {"alias.review": "!consilium review --base",
                             "alias.review-staged": "!consilium review --staged"}
    for key, value in aliases:
        repo.git("config", key, value)
    run = subprocess.run(["git", "review", "HEAD", "--json"], cwd=repo.path / "app",
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["source"] == "the working tree against HEAD"
    assert payload["diff"]["files"] == 1
    repo.git("add", "-A")
    run = subprocess.run(["git", "review-staged", "--format", "markdown"], cwd=repo.path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "the index against HEAD" in run.stdout


def _ci_job() -> dict[str, Any]:
    workflow = yaml.safe_load(doc_block("upload-sarif"))
    assert workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    return job


@posix_only
def test_the_ci_example_writes_sarif_that_upload_sarif_reads(repo: GitRepo,
                                                            env: dict[str, str]) -> None:
    import jsonschema

    steps = _ci_job()["steps"]
    (upload,) = [s for s in steps if str(s.get("uses", "")).startswith(
        "github/codeql-action/upload-sarif@")]
    sarif_file = upload["with"]["sarif_file"]
    assert "always()" in upload["if"]
    (review,) = [s for s in steps if "consilium review" in s.get("run", "")]
    (line,) = [ln.strip() for ln in review["run"].splitlines() if "consilium review" in ln]
    argv = shlex.split(line)
    assert argv[argv.index("--output") + 1] == sarif_file
    assert argv[argv.index("--format") + 1] == "sarif"
    # The job's merge-base is the previous commit here.
    base = repo.git("rev-parse", "HEAD").strip()
    argv = [base if a == "$base" else a for a in argv]
    run = subprocess.run(argv, cwd=repo.path, env=env, capture_output=True, text=True,
                         timeout=300)
    sarif = json.loads((repo.path / sarif_file).read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft4Validator(schema).iter_errors(sarif)) == []
    assert run.returncode == sarif["runs"][0]["properties"]["exitCode"], run.stderr
    assert sarif["runs"][0]["tool"]["driver"]["rules"]
