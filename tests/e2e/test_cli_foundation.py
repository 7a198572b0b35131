"""The CLI as a new user meets it: help, version, doctor, models, config, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.hf_cache import place_in_hf_cache

HEAVY = ("llama_cpp", "lancedb", "openai", "torch", "transformers", "pyarrow", "git",
         "huggingface_hub", "numpy", "jinja2")


def test_help_imports_no_heavy_module() -> None:
    code = ("import sys\nfrom consilium_cli.cli.main import app\n"
            "try:\n    app(['--help'], prog_name='consilium')\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:", out.stdout


def test_version() -> None:
    from consilium_cli import __version__

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"consilium {__version__}"


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("ask", "doctor", "models", "config", "history"):
        assert command in result.stdout


@pytest.mark.parametrize("args", [["--no-such-flag"], ["frobnicate"], ["ask"],
                                  ["models", "list", "--bogus"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert invoke(*args).exit_code == 2


def test_models_path_without_the_model_prints_the_pull_command() -> None:
    result = invoke("models", "path", "default")
    assert result.exit_code == 3
    assert "consilium models pull default" in result.stderr
    assert "Traceback" not in result.stderr


def test_models_path_with_the_model_in_the_cache(isolated_home: Path, tiny_gguf: Path) -> None:
    placed = place_in_hf_cache(isolated_home / "hf", "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
                               "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", tiny_gguf)
    result = invoke("models", "path", "default")
    assert result.exit_code == 0
    assert result.stdout.strip() == str(placed)
    listing = json.loads(invoke("models", "list", "--json").stdout)
    assert next(m for m in listing if m["alias"] == "default")["present"] is True


def test_models_pull_offline_exits_3() -> None:
    result = invoke("models", "pull", "default")
    assert result.exit_code == 3
    assert "offline" in result.stderr


def test_models_add_and_verify(tiny_gguf: Path) -> None:
    assert invoke("models", "add", str(tiny_gguf), "--name", "tiny").exit_code == 0
    verified = json.loads(invoke("models", "verify", "tiny", "--json").stdout)
    assert verified["architecture"] == "qwen2"
    assert len(verified["sha256"]) == 64


def test_doctor_without_a_model_says_how_to_fix_it() -> None:
    result = invoke("doctor")
    assert result.exit_code == 3
    assert "python" in result.stdout
    assert "consilium models pull default" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_with_a_model_and_no_key(tiny_gguf: Path) -> None:
    result = invoke("doctor", "--model", str(tiny_gguf), "--json")
    assert result.exit_code == 0, result.stdout
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["model"]["status"] == "ok"
    assert checks["director"]["status"] == "warn"
    assert checks["llama.cpp"]["status"] == "ok"


def test_doctor_never_prints_the_key(tiny_gguf: Path) -> None:
    result = invoke("doctor", "--model", str(tiny_gguf),
                    env={"OPENAI_API_KEY": "sk-proj-SECRETSECRETSECRET"})
    assert "SECRETSECRET" not in result.stdout + result.stderr
    assert "API key set" in result.stdout


def test_config_show_names_every_layer(tmp_path: Path, isolated_home: Path) -> None:
    (isolated_home / "config" / "consilium").mkdir(parents=True)
    (isolated_home / "config" / "consilium" / "config.toml").write_text("[council]\nrounds = 3\n")
    result = invoke("config", "show", "--json", env={"CONSILIUM_MODEL_CTX": "2048",
                                                     "OPENAI_API_KEY": "sk-hidden"})
    shown = json.loads(result.stdout)
    assert shown["council.rounds"] == {"value": 3, "origin": "user"}
    assert shown["model.ctx"] == {"value": 2048, "origin": "env"}
    assert shown["director.api_key"] == {"value": "(set)", "origin": "env"}
    assert "sk-hidden" not in result.stdout


def test_config_syntax_error_exits_2(isolated_home: Path) -> None:
    folder = isolated_home / "config" / "consilium"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text("[model\nctx=1")
    result = invoke("config", "show")
    assert result.exit_code == 2
    assert "config.toml" in result.stderr


def test_config_path() -> None:
    result = invoke("config", "path")
    assert result.exit_code == 0
    assert "config.toml" in result.stdout


def test_project_warning_is_one_line_naming_the_key(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".consilium.toml").write_text('[director]\nbase_url = "http://evil/v1"\n')
    monkeypatch.chdir(tmp_path)
    result = invoke("config", "show", "--json")
    assert json.loads(result.stdout)["director.base_url"]["origin"] == "default"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "director.base_url" in warnings[0]


@pytest.mark.parametrize("kind", ["directory", "text", "truncated", "unreadable"])
def test_bad_model_paths(kind: str, tmp_path: Path, tiny_gguf: Path) -> None:
    target = tmp_path / "model.gguf"
    if kind == "directory":
        target.mkdir()
    elif kind == "text":
        target.write_text("not a model\n")
    elif kind == "truncated":
        target.write_bytes(tiny_gguf.read_bytes()[:5000])
    else:
        target.write_bytes(tiny_gguf.read_bytes())
        target.chmod(0)
        if os.geteuid() == 0:
            pytest.skip("root reads files without permission; see the unprivileged test")
    result = invoke("ask", "hello", "--model", str(target))
    assert result.exit_code == 3, result.stderr
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_model_when_running_as_root(tiny_gguf: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """root reads any file, so the permission check is exercised by denying access."""
    if os.geteuid() != 0:
        pytest.skip("covered by test_bad_model_paths")
    target = tmp_path / "model.gguf"
    target.write_bytes(tiny_gguf.read_bytes())
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == target
                        else real_access(p, mode, **kw))
    result = invoke("doctor", "--model", str(target))
    assert result.exit_code == 3
    assert "permission denied" in result.stdout


@pytest.mark.parametrize("ctx,message", [("0", "must be at least 256"),
                                         ("100000", "larger than the model supports")])
def test_bad_context_sizes_exit_2(tiny_gguf: Path, ctx: str, message: str) -> None:
    result = invoke("ask", "hello", "--model", str(tiny_gguf), "--ctx", ctx)
    assert result.exit_code == 2
    assert message in result.stderr


def test_empty_task_exits_2(tiny_gguf: Path) -> None:
    result = invoke("ask", "   ", "--model", str(tiny_gguf))
    assert result.exit_code == 2
    assert "empty" in result.stderr
