"""Reports: SARIF 2.1.0 valid against the official schema and with what GitHub code
scanning needs; text, Markdown and the rich view never pass terminal control or markup."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from consilium_cli.config import Settings
from consilium_cli.review.diff import parse_diff
from consilium_cli.review.report import (
    ReportMeta,
    md_code,
    md_escape,
    rich_report,
    to_json,
    to_markdown,
    to_sarif,
    to_text,
)
from consilium_cli.review.runner import ReviewResult
from consilium_cli.review.service import review_diff
from tests.support.git_repo import GitRepo
from tests.support.review_engine import ScriptedEngine, findings_json, role_of

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
NASTY = "\x1b]52;c;cHduZWQ=\x07\x1b[2J[bold red]fake[/] [/] \u202eevil"


@pytest.fixture
def result(tmp_path: Path) -> ReviewResult:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/views.py", "def view():\n    return 1\n")
    repo.write("sp ace/ü.py", "x = 1\n")
    repo.commit()
    repo.write("app/views.py", f"def view():\n    # {NASTY}\n    return render(request)\n")
    repo.write("sp ace/ü.py", "x = 2\n")
    repo.write("data.bin", bytes(range(256)))

    def answer(request: Any) -> str:
        role = role_of(request)
        if role == "dev":
            return findings_json(
                {"file": "app/views.py", "line": 2, "severity": "medium", "title": NASTY,
                 "explanation": f"explains {NASTY}", "suggested_fix": "remove [/]",
                 "replacement": "    # fine\n    ```\n"},
                {"file": "sp ace/ü.py", "line": 0, "severity": "low", "title": "file note"},
                {"file": "app/views.py", "line": 77, "severity": "critical",
                 "title": "misplaced"})
        if role == "summary":
            return json.dumps({"summary": f"summary {NASTY}", "ranking": [3, 1, 2]})
        return findings_json()

    repo.git("add", "-A")
    diff = parse_diff(repo.git("diff", "--cached"))
    return review_diff(diff, ScriptedEngine(answer), Settings(), root=repo.path)


META = ReportMeta(source="standard input", model="scripted", fail_on="high", exit_code=1,
                  version="0.1.0")


def test_sarif_is_valid_against_the_official_schema(result: ReviewResult) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    sarif = json.loads(json.dumps(to_sarif(result, META)))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(sarif))
    assert errors == []


def test_sarif_has_what_github_code_scanning_needs(result: ReviewResult) -> None:
    sarif = to_sarif(result, META)
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == [f"consilium/{role}" for role in result.plan.roles]
    assert all(r["shortDescription"]["text"] and r["fullDescription"]["text"] for r in rules)
    assert len(run["results"]) == 3
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        (loc,) = res["locations"]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and " " not in uri
        assert loc["physicalLocation"]["region"]["startLine"] >= 1
        assert "\x1b" not in res["message"]["text"]
    levels = {r["properties"]["severity"]: r["level"] for r in run["results"]}
    assert levels == {"critical": "error", "medium": "warning", "low": "note"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert "sp%20ace/%C3%BC.py" in uris
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("data.bin" in n["message"]["text"] for n in notes)


def test_json_report(result: ReviewResult) -> None:
    payload = json.loads(json.dumps(to_json(result, META)))
    assert payload["exit_code"] == 1 and payload["fail_on"] == "high"
    assert [f["rank"] for f in payload["findings"]] == [1, 2, 3]
    # The summarizer saw them by severity (critical, medium, low) and ranked 3, 1, 2.
    assert [f["title"] for f in payload["findings"]][:2] == ["file note", "misplaced"]
    assert payload["diff"]["skipped"] == [{"path": "data.bin", "reason": "binary file"}]
    misplaced = payload["findings"][1]
    assert misplaced["line"] is None and "line 77" in misplaced["notes"][0]


def test_text_report_is_clean(result: ReviewResult) -> None:
    text = to_text(result, META)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "[bold red]fake[/]" in text  # shown literally
    assert "Not reviewed:" in text and "data.bin: binary file" in text
    assert text.rstrip().endswith("fail on high or above: exit 1")


def test_markdown_escapes_untrusted_text(result: ReviewResult) -> None:
    md = to_markdown(result, META)
    assert "\x1b" not in md
    assert "\\[bold red\\]fake\\[/\\]" in md
    assert "````" in md  # the replacement holds ``` so its fence is longer
    assert md_escape("<script>x</script> [a](b)") == \
        "&lt;script&gt;x&lt;/script&gt; \\[a\\]\\(b\\)"
    assert md_code("a ``` b").startswith("````\n")


def test_rich_view_shows_code_around_the_line_without_control(result: ReviewResult) -> None:
    from rich.console import Console

    from consilium_cli.ui.console import theme

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, theme=theme(),
                      color_system="truecolor")
    for renderable in rich_report(result, META):
        console.print(renderable)
    out = buffer.getvalue()
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x07" not in out
    plain = Console(file=io.StringIO(), width=100, theme=theme())
    for renderable in rich_report(result, META):
        plain.print(renderable)
    text = plain.file.getvalue()  # type: ignore[attr-defined]
    assert "[bold red]fake[/]" in text
    assert ">    2 │" in text and "return render(request)" in text
