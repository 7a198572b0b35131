"""`consilium redact [FILE|-] [--json]` through the real app."""

from __future__ import annotations

import json
import os
import random
import string
import sys
from pathlib import Path

import pytest

from tests.support.cli import invoke

RNG = random.Random(7)
TOKEN = "ghp_" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(36))
PASSWORD = "Falcon2029!kR7"
TEXT = f"GITHUB_TOKEN={TOKEN}\nDB_PASSWORD={PASSWORD}\nDEBUG=true\n"
EXPECTED = ("GITHUB_TOKEN=[REDACTED:github-token#1]\n"
            "DB_PASSWORD=[REDACTED:secret-assignment#1]\nDEBUG=true\n")


@pytest.fixture(autouse=True)
def _in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    monkeypatch.chdir(project)
    return project


def test_file(_in_project: Path) -> None:
    (_in_project / ".env").write_text(TEXT, encoding="utf-8")
    result = invoke("redact", ".env")
    assert result.exit_code == 0
    assert result.stdout == EXPECTED
    assert "github-token 1" in result.stderr and "secret-assignment 1" in result.stderr
    assert TOKEN not in result.stderr and PASSWORD not in result.stderr


def test_stdin_dash_and_piped_without_argument() -> None:
    for args in (("redact", "-"), ("redact",)):
        result = invoke(*args, input=TEXT)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == EXPECTED


def test_json() -> None:
    result = invoke("redact", "-", "--json", input=TEXT)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "text": EXPECTED, "replaced": {"github-token": 1, "secret-assignment": 1}}


def test_nothing_to_redact() -> None:
    result = invoke("redact", "-", input="hello\n")
    assert result.exit_code == 0
    assert result.stdout == "hello\n"
    assert "nothing to replace" in result.stderr


@pytest.mark.parametrize("target", ["missing.txt", "."])
def test_unreadable_file_is_exit_2(target: str) -> None:
    result = invoke("redact", target)
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_add_patterns_and_allowed_values(isolated_home: Path) -> None:
    config = isolated_home / "config" / "consilium" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[redact]\nextra_patterns = ["EMP-[0-9]{5}"]\n'
                      f'allow = ["{PASSWORD}"]\n', encoding="utf-8")
    result = invoke("redact", "-", input=f"{TEXT}owner EMP-12345\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"GITHUB_TOKEN=[REDACTED:github-token#1]\nDB_PASSWORD={PASSWORD}\n"
                             "DEBUG=true\nowner [REDACTED:custom#1]\n")


def test_invalid_pattern_in_settings_is_exit_2(isolated_home: Path) -> None:
    config = isolated_home / "config" / "consilium" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[redact]\nextra_patterns = ["(unclosed"]\n', encoding="utf-8")
    result = invoke("redact", "-", input=TEXT)
    assert result.exit_code == 2
    assert "redact.extra_patterns" in result.stderr


def test_paths_inside_the_project_are_kept(_in_project: Path) -> None:
    inside = _in_project / "app" / "main.py"
    result = invoke("redact", "-", input=f"File {inside}, /srv/acme/data.csv\n")
    assert result.exit_code == 0
    assert "app/main.py" in result.stdout
    assert "/srv/acme" not in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_no_file_and_a_terminal_on_stdin_is_exit_2(_in_project: Path) -> None:
    import pexpect

    program = Path(sys.executable).with_name("consilium")
    if not program.exists():
        pytest.skip("the consilium console script is not installed next to python")
    child = pexpect.spawn(str(program), ["redact"], cwd=str(_in_project), env=dict(os.environ),
                          encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "nothing to redact" in child.before
    assert "consilium redact FILE" in child.before
