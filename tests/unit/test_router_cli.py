"""`consilium route` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consilium_cli.council.roles import ROLES
from tests.support.cli import invoke


def test_json_output_has_exactly_roles_reasons_stage() -> None:
    result = invoke("route", "Пароли хранятся в открытом виде, исправь", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"roles", "reasons", "stage"}
    assert payload["roles"] == ["dev", "security"]
    assert payload["stage"] == "lexicon"
    assert "word 'пароли'" in payload["reasons"]["security"]


def test_plain_output_lists_roles_with_reasons() -> None:
    result = invoke("route", "Fix the flaky test", "--file", "tests/test_api.py")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dev")
    assert any(line.startswith("qa") and "word 'flaky'" in line for line in lines)
    assert lines[-1].startswith("stage: lexicon")


def test_task_from_stdin() -> None:
    result = invoke("route", "-", "--json", input="Добавь sitemap.xml и robots.txt\n")
    assert result.exit_code == 0, result.stderr
    assert "seo" in json.loads(result.stdout)["roles"]


def test_untrusted_text_in_reasons_is_cleaned() -> None:
    result = invoke("route", "fix \x1b]52;c;aGk=\x07 the [bold]login[/] page",
                    "--file", "templates/\x1b[31mbase.html")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("task", ["", "   "])
def test_an_empty_task_exits_2(task: str) -> None:
    result = invoke("route", task)
    assert result.exit_code == 2
    assert "empty" in result.stderr


def test_an_unknown_role_exits_2_and_lists_the_valid_ones() -> None:
    result = invoke("route", "fix it", "--agents", "dev,marketing")
    assert result.exit_code == 2
    assert "marketing" in result.stderr
    assert all(role in result.stderr for role in ROLES)
    assert invoke("route", "fix it", "--agents", "").exit_code == 2


def test_agents_and_all_override() -> None:
    result = invoke("route", "Пароли", "--agents", "ux,qa", "--json")
    assert json.loads(result.stdout) == {"roles": ["ux", "qa"],
                                         "reasons": {"ux": ["--agents"], "qa": ["--agents"]},
                                         "stage": "override"}
    every = json.loads(invoke("route", "fix it", "--all", "--json").stdout)
    assert every["roles"] == list(ROLES)
    assert every["stage"] == "override"
    assert invoke("route", "fix it", "--all", "--agents", "dev").exit_code == 2


def test_configured_agents_apply_unless_flags_say_otherwise(tmp_path: Path,
                                                             isolated_home: Path) -> None:
    config = isolated_home / "config" / "consilium" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[council]\nagents = ["architect"]\n', encoding="utf-8")
    assert json.loads(invoke("route", "fix it", "--json").stdout)["roles"] == ["architect"]
    flagged = json.loads(invoke("route", "fix it", "--agents", "qa", "--json").stdout)
    assert flagged["roles"] == ["qa"]


def test_classify_without_a_model_exits_3() -> None:
    result = invoke("route", "hello there", "--classify")
    assert result.exit_code == 3


def test_classify_is_not_needed_for_a_clear_task() -> None:
    result = invoke("route", "Пароли хранятся в открытом виде", "--classify", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stage"] == "lexicon"


def test_classify_with_a_model_uses_stage_two(tiny_gguf: Path) -> None:
    result = invoke("route", "hello there", "--classify", "--model", str(tiny_gguf),
                    "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["stage"] == "model"
    assert set(payload["roles"]) <= set(ROLES)
    assert payload["roles"]
