"""Findings: a bounded schema, salvage of cut-off answers, validation against what the
agent saw, merging across roles, ranking that cannot drop anything, and the exit code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.llm.llamacpp import schema_grammar
from consilium_cli.review.findings import (
    SEVERITIES,
    Finding,
    exit_code_for,
    findings_schema,
    merge_duplicates,
    parse_answer,
    parse_severity,
    validate,
)
from consilium_cli.review.verdict import apply_ranking, parse_verdict, verdict_schema


def walk(schema: Any) -> list[dict[str, Any]]:
    out = []
    if isinstance(schema, dict):
        out.append(schema)
        for value in schema.values():
            out += walk(value)
    elif isinstance(schema, list):
        for value in schema:
            out += walk(value)
    return out


@pytest.mark.parametrize("schema", [findings_schema(["a.py", "b/c.py"]),
                                    findings_schema(['we"ird.py']), verdict_schema(5)])
def test_every_string_and_array_is_bounded(schema: dict[str, Any]) -> None:
    for node in walk(schema):
        if node.get("type") == "string":
            assert "maxLength" in node
        if node.get("type") == "array":
            assert "maxItems" in node
    assert schema_grammar(schema)  # llama.cpp's converter accepts it


def test_file_is_an_enum_unless_a_name_would_break_the_grammar() -> None:
    item = findings_schema(["a.py", "b.py"])["properties"]["findings"]["items"]
    assert item["properties"]["file"] == {"enum": ["a.py", "b.py"]}
    item = findings_schema(['q"uote.py'])["properties"]["findings"]["items"]
    assert item["properties"]["file"]["type"] == "string"


def test_parse_answer_and_salvage_of_a_cut_off_answer() -> None:
    whole = json.dumps({"findings": [{"title": "a"}, {"title": "b"}]})
    assert parse_answer(whole) == ([{"title": "a"}, {"title": "b"}], False)
    cut = whole[:-12]
    items, salvaged = parse_answer(cut)
    assert salvaged and items == [{"title": "a"}]
    assert parse_answer("") == ([], True)
    assert parse_answer('{"other": 1}') == ([], True)


def raw(**kw: Any) -> dict[str, Any]:
    item = {"file": "a.py", "line": 3, "severity": "high", "title": "SQL injection",
            "explanation": "user input in SQL", "suggested_fix": "use parameters",
            "replacement": "cur.execute(q, (name,))"}
    item.update(kw)
    return item


NEW = {"a.py": frozenset({1, 2, 3, 4}), "b.py": frozenset({10})}


def test_validate_keeps_lines_on_the_new_side() -> None:
    (f,) = validate([raw()], role="security", group=2, files=["a.py", "b.py"], new_lines=NEW)
    assert (f.file, f.line, f.severity, f.roles, f.group) == ("a.py", 3, "high",
                                                              ("security",), 2)
    assert f.notes == ()


def test_a_line_outside_the_hunks_moves_to_file_level_with_a_note() -> None:
    (f,) = validate([raw(line=99)], role="dev", group=0, files=["a.py"], new_lines=NEW)
    assert f.file == "a.py" and f.line is None
    assert "line 99" in f.notes[0] and "file level" in f.notes[0]
    (f,) = validate([raw(file="b.py", line=3)], role="dev", group=0, files=["a.py", "b.py"],
                    new_lines=NEW)
    assert f.line is None and f.notes


def test_unknown_files_prefixes_and_bad_values() -> None:
    found = validate([raw(file="b/a.py"), raw(file="elsewhere.py"), raw(severity="urgent"),
                      raw(line=0), raw(title="  ", explanation="x" * 100)],
                     role="dev", group=0, files=["a.py"], new_lines=NEW)
    assert [f.file for f in found] == ["a.py", None, "a.py", "a.py"]
    assert found[1].line is None and "not shown" in found[1].notes[0]
    assert found[2].line is None and not found[2].notes  # line 0 means the whole file
    assert found[3].title == "x" * 60


def test_untrusted_text_is_cleaned() -> None:
    (f,) = validate([raw(title="\x1b]52;c;AAAA\x07pwn\x1b[2J", explanation="a\u202eb")],
                    role="dev", group=0, files=["a.py"], new_lines=NEW)
    assert "\x1b" not in f.title and f.title == "pwn"
    assert "\u202e" not in f.explanation


def finding(file: str | None = "a.py", line: int | None = 3, severity: str = "high",
            role: str = "dev", title: str = "SQL injection in query") -> Finding:
    return Finding(file, line, severity, (role,), title, f"{role} says so")


def test_duplicates_across_roles_merge() -> None:
    merged = merge_duplicates([
        finding(role="dev", severity="medium", title="SQL injection in the query"),
        finding(role="security", severity="critical", title="SQL injection in query"),
        finding(role="qa", line=4, title="SQL injection in query"),
        finding(role="ux", title="Button label unclear"),
    ], ("dev", "security", "qa", "architect", "ux", "seo"))
    assert len(merged) == 3
    first = merged[0]
    assert first.severity == "critical" and first.roles == ("dev", "security")
    assert "dev says so" in first.explanation and "security says so" in first.explanation


def test_ranking_reorders_but_never_drops() -> None:
    items = [finding(title=f"t{i}", severity=s) for i, s in enumerate(SEVERITIES)]
    ranked = apply_ranking(items, [2, 2, 99, -1, 1])
    assert [f.title for f in ranked[:2]] == ["t1", "t0"]
    assert sorted(f.title for f in ranked) == sorted(f.title for f in items)
    assert [f.rank for f in ranked] == [1, 2, 3, 4, 5]
    assert [f.title for f in ranked[2:]] == ["t4", "t3", "t2"]


def test_parse_verdict_keeps_a_cut_off_summary() -> None:
    assert parse_verdict('{"summary": "ok", "ranking": [2, 1]}') == ("ok", [2, 1], True)
    summary, ranking, complete = parse_verdict('{"summary": "Fix the SQL inj')
    assert (summary, ranking, complete) == ("Fix the SQL inj", [], False)


@pytest.mark.parametrize(("threshold", "severities", "code"), [
    ("", ["critical"], 0),
    ("high", ["medium", "low"], 0),
    ("high", ["medium", "high"], 1),
    ("high", ["critical"], 1),
    ("info", ["info"], 1),
    ("critical", ["high"], 0),
    ("low", [], 0),
])
def test_exit_code_from_severities(threshold: str, severities: list[str], code: int) -> None:
    assert exit_code_for([finding(severity=s) for s in severities], threshold) == code


def test_parse_severity() -> None:
    assert parse_severity("HIGH") == "high"
    assert parse_severity("") == ""
    with pytest.raises(UsageError, match="unknown severity"):
        parse_severity("urgent")
