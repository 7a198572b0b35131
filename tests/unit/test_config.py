"""Settings layers, validation and the project-file policy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from consilium_cli.config import load_settings
from consilium_cli.errors import ConfigError, ExitCode


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "pkg").mkdir(parents=True)
    return root


def user_file(home: Path, text: str) -> Path:
    path = home / "config" / "consilium" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_origins(repo: Path) -> None:
    loaded = load_settings(cwd=repo, env={})
    assert loaded.settings.model.ctx == 8192
    assert loaded.origins["model.ctx"] == "default"
    assert loaded.project_file is None


def test_layers_in_order(repo: Path, isolated_home: Path) -> None:
    user_file(isolated_home, "[model]\nctx = 2048\nthreads = 3\nbatch = 64\n")
    (repo / ".consilium.toml").write_text("[model]\nthreads = 4\nbatch = 128\n")
    env = {"CONSILIUM_MODEL_BATCH": "256", "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"]}
    loaded = load_settings(cwd=repo / "src" / "pkg", env=env,
                           flags={"model.flash_attn": False, "model.ctx": None})
    s = loaded.settings.model
    assert (s.ctx, s.threads, s.batch, s.flash_attn) == (2048, 4, 256, False)
    assert loaded.origins["model.ctx"] == "user"
    assert loaded.origins["model.threads"] == "project"
    assert loaded.origins["model.batch"] == "env"
    assert loaded.origins["model.flash_attn"] == "flag"


def test_project_file_found_by_walking_up_to_the_git_root(repo: Path) -> None:
    (repo / ".consilium.toml").write_text("[council]\nrounds = 3\n")
    loaded = load_settings(cwd=repo / "src" / "pkg", env={})
    assert loaded.settings.council.rounds == 3
    assert loaded.project_file == repo / ".consilium.toml"


def test_project_file_above_the_git_root_is_not_used(tmp_path: Path, repo: Path) -> None:
    (tmp_path / ".consilium.toml").write_text("[council]\nrounds = 3\n")
    assert load_settings(cwd=repo, env={}).settings.council.rounds == 2


@pytest.mark.parametrize("planted", [
    '[director]\nbase_url = "https://attacker.example/v1"\n',
    '[director]\napi_key = "sk-from-the-repo"\n',
    '[director]\nmode = "remote"\n',
    '[director]\nconfirm = false\n',
    '[approval]\npolicy = "all"\n',
    '[shell]\nallow_pipelines = true\n',
    '[shell]\ntimeout_s = 9999.0\n',
    '[redact]\nallow = ["sk-live-value"]\n',
])
def test_project_file_cannot_set_what_sends_data_or_runs_things(repo: Path,
                                                                planted: str) -> None:
    (repo / ".consilium.toml").write_text(planted)
    loaded = load_settings(cwd=repo, env={})
    key = planted.split("\n")[1].split("=")[0].strip()
    section = planted.split("]")[0].strip("[")
    dotted = f"{section}.{key}"
    assert loaded.origins[dotted] == "default"
    assert len(loaded.warnings) == 1
    assert f"`{dotted}`" in loaded.warnings[0]
    assert str(repo / ".consilium.toml") in loaded.warnings[0]


@pytest.mark.parametrize("key,value", [("model.path", '"/etc/passwd.gguf"'),
                                       ("model.path", '"../outside.gguf"'),
                                       ("kb.paths", '["docs", "/home/someone/kb"]')])
def test_project_paths_outside_the_project_are_ignored(repo: Path, key: str,
                                                       value: str) -> None:
    section, name = key.split(".")
    (repo / ".consilium.toml").write_text(f"[{section}]\n{name} = {value}\n")
    loaded = load_settings(cwd=repo, env={})
    assert loaded.origins[key] == "default"
    assert "only name paths inside the project" in loaded.warnings[0]


def test_project_path_inside_the_project_is_resolved(repo: Path) -> None:
    (repo / ".consilium.toml").write_text('[model]\npath = "models/own.gguf"\n')
    loaded = load_settings(cwd=repo / "src", env={})
    assert loaded.settings.model.path == str((repo / "models" / "own.gguf").resolve())


def test_user_file_may_set_the_director(repo: Path, isolated_home: Path) -> None:
    user_file(isolated_home, '[director]\nbase_url = "http://127.0.0.1:9/v1"\n')
    loaded = load_settings(cwd=repo, env={})
    assert loaded.settings.director.base_url == "http://127.0.0.1:9/v1"
    assert not loaded.warnings


def test_openai_variables_feed_the_director_below_consilium_ones(repo: Path) -> None:
    env = {"OPENAI_API_KEY": "sk-a", "OPENAI_BASE_URL": "http://x/v1",
           "CONSILIUM_DIRECTOR_BASE_URL": "http://y/v1"}
    director = load_settings(cwd=repo, env=env).settings.director
    assert (director.api_key, director.base_url) == ("sk-a", "http://y/v1")


def test_unknown_key_names_file_key_and_valid_keys(repo: Path) -> None:
    (repo / ".consilium.toml").write_text("[model]\ncontext = 4096\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=repo, env={})
    assert "unknown key `model.context`" in err.value.message
    assert str(repo / ".consilium.toml") in err.value.message
    assert "ctx" in err.value.hint
    assert err.value.exit_code == ExitCode.USAGE


def test_unknown_section(repo: Path) -> None:
    (repo / ".consilium.toml").write_text("[modle]\nctx = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[modle\]"):
        load_settings(cwd=repo, env={})


@pytest.mark.parametrize("text,expected", [
    ('[model]\nctx = "big"\n', "`model.ctx` expects an integer, got str 'big'"),
    ("[model]\nflash_attn = 1\n", "`model.flash_attn` expects a boolean"),
    ("[council]\nagents = \"dev\"\n", "`council.agents` expects a list of strings"),
    ("[model]\nctx = 0\n", "`model.ctx` must be at least 256"),
    ('[director]\nmode = "cloud"\n', "`director.mode` must be one of"),
])
def test_wrong_types_name_the_expected_type(repo: Path, isolated_home: Path, text: str,
                                            expected: str) -> None:
    path = user_file(isolated_home, text)
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=repo, env={})
    assert expected in err.value.message
    assert str(path) in err.value.message


def test_syntax_error_names_the_file_and_line(repo: Path) -> None:
    (repo / ".consilium.toml").write_text("[model]\nctx = = 4\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=repo, env={})
    assert "TOML syntax error" in err.value.message
    assert "line 2" in err.value.message


def test_unreadable_file(repo: Path) -> None:
    (repo / ".consilium.toml").mkdir()  # a folder where a file should be
    loaded = load_settings(cwd=repo, env={})
    assert loaded.project_file is None
    bad = repo / "sub"
    bad.mkdir()
    (bad / ".consilium.toml").write_bytes(b"\xff\xfe[model]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(cwd=bad, env={})


@pytest.mark.parametrize("var,value,message", [
    ("CONSILIUM_MODEL_CTX", "lots", "expects an integer"),
    ("CONSILIUM_MODEL_FLASH_ATTN", "maybe", "expects a boolean"),
    ("CONSILIUM_MODEL_CONTEXT", "1", "unknown environment variable CONSILIUM_MODEL_CONTEXT"),
])
def test_bad_environment_values(repo: Path, var: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(cwd=repo, env={var: value})


def test_environment_lists_and_booleans(repo: Path) -> None:
    loaded = load_settings(cwd=repo, env={"CONSILIUM_COUNCIL_AGENTS": "dev, qa",
                                          "CONSILIUM_MODEL_FLASH_ATTN": "no"})
    assert loaded.settings.council.agents == ["dev", "qa"]
    assert loaded.settings.model.flash_attn is False


def test_flag_values_are_validated(repo: Path) -> None:
    with pytest.raises(ConfigError, match=r"`model\.ctx` must be at least 256"):
        load_settings(cwd=repo, env={}, flags={"model.ctx": 0})
