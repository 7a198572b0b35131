"""The plan schema: validation errors name the action and field; the schema is also a
grammar llama.cpp accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consilium_cli.tools.plan import (
    EditFile,
    GitOp,
    PlanError,
    RunCommand,
    load_plan,
    parse_plan,
    plan_schema,
)
from tests.support.apply_repo import EXAMPLE_PLAN


def _plan(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "task": "t", "actions": list(actions)}


def _error(data: Any) -> str:
    with pytest.raises(PlanError) as info:
        parse_plan(data, source="plan.json")
    return info.value.message


def test_example_plan_is_valid_for_us_and_for_jsonschema() -> None:
    import jsonschema

    data = json.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))
    jsonschema.validate(data, plan_schema())
    plan = load_plan(EXAMPLE_PLAN)
    kinds = {a.kind for a in plan.actions}
    assert kinds == {"search", "sysinfo", "git", "edit_file", "write_file", "delete_file",
                     "move_file", "run", "db_query"}
    ops = {a.op for a in plan.actions if isinstance(a, GitOp)}
    assert ops >= {"status", "branch", "diff", "add", "commit", "log", "stash", "switch",
                   "restore"}
    assert isinstance(plan.actions[4], EditFile) and len(plan.actions[4].edits) == 2


def test_round_trip_through_json() -> None:
    plan = load_plan(EXAMPLE_PLAN)
    again = parse_plan(json.loads(json.dumps(plan.to_json())))
    assert again.actions == plan.actions


@pytest.mark.parametrize(("action", "expected"), [
    ({"kind": "edit_file", "path": "a.py"}, "actions[0]: missing required field `edits`"),
    ({"kind": "edit_file", "path": "a.py", "edits": []},
     "actions[0].edits: needs at least 1 item"),
    ({"kind": "edit_file", "path": "a.py", "edits": [{"search": "", "replace": "x"}]},
     "actions[0].edits[0].search: must not be empty"),
    ({"kind": "edit_file", "path": "a.py", "edits": [{"search": "a", "replace": 3}]},
     "actions[0].edits[0].replace: must be a string, got 3"),
    ({"kind": "write_file", "path": "a", "content": "x", "mode": 7},
     "actions[0]: unknown field `mode`"),
    ({"kind": "format_disk"}, "actions[0].kind: unknown kind \"format_disk\""),
    ({"path": "x"}, "actions[0]: missing required field `kind`"),
    ({"kind": "git", "op": "rebase"}, "actions[0].op: unknown git op \"rebase\""),
    ({"kind": "git", "op": "commit"}, "actions[0]: missing required field `args`"),
    ({"kind": "git", "op": "log", "args": {"n": 0}}, "actions[0].args.n: must be at least 1"),
    ({"kind": "run", "argv": []}, "actions[0].argv: needs at least 1 item"),
    ({"kind": "run", "argv": ["ls"], "timeout_s": "5"},
     "actions[0].timeout_s: must be a number"),
    ({"kind": "run", "pipeline": True}, "actions[0]: missing required field `command`"),
    ({"kind": "db_query", "url": "sqlite:///a.db", "sql": "select 1", "params": [[1]]},
     "actions[0].params[0]"),
    ({"kind": "delete_file", "path": "a", "sha256": "z" * 64},
     "actions[0].sha256: must be 64 hexadecimal digits"),
])
def test_errors_name_the_action_index_and_field(action: dict[str, Any], expected: str) -> None:
    message = _error(_plan(action))
    assert message.startswith("plan.json: ")
    assert expected in message


def test_index_of_a_later_action() -> None:
    message = _error(_plan({"kind": "sysinfo"}, {"kind": "sysinfo"},
                           {"kind": "move_file", "path": "a"}))
    assert "actions[2]: missing required field `to`" in message


@pytest.mark.parametrize(("data", "expected"), [
    ([], "a plan is a JSON object"),
    ({"actions": []}, "plan version null is not supported"),
    ({"version": 2, "actions": []}, "plan version 2 is not supported"),
    ({"version": 1, "actions": []}, "actions: needs at least 1 item"),
    ({"version": 1, "actions": [], "extra": 1}, "unknown field `extra`"),
])
def test_document_level_errors(data: Any, expected: str) -> None:
    assert expected in _error(data)


def test_unreadable_and_malformed_files_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1,', encoding="utf-8")
    with pytest.raises(PlanError, match="not valid JSON") as info:
        load_plan(bad)
    assert info.value.exit_code == 2
    with pytest.raises(PlanError, match="cannot read the plan"):
        load_plan(tmp_path / "missing.json")


def test_pipeline_and_argv_forms() -> None:
    plan = parse_plan(_plan({"kind": "run", "argv": ["pytest", "-q"], "cwd": "src"},
                            {"kind": "run", "pipeline": True, "command": "ls | wc -l"}))
    first, second = plan.actions
    assert isinstance(first, RunCommand) and first.argv == ("pytest", "-q")
    assert not first.pipeline and first.cwd == "src"
    assert isinstance(second, RunCommand) and second.pipeline and second.command == "ls | wc -l"


def test_schema_strings_are_bounded_for_the_grammar() -> None:
    """Every string is bounded (maxLength <= 1000, which llama.cpp's grammar parser
    accepts), except the documented free-text fields."""
    free_text = {"search", "replace", "content", "sql"}

    def walk(node: Any, name: str = "") -> None:
        if isinstance(node, dict):
            if node.get("type") == "string":
                if name in free_text:
                    assert "maxLength" not in node
                else:
                    assert 0 < node["maxLength"] <= 1000, name
            if node.get("type") == "array":
                assert "maxItems" in node, name
            for key, value in node.items():
                walk(value, key if key not in ("properties", "items", "anyOf") else name)
            for key, value in node.get("properties", {}).items():
                walk(value, key)
        elif isinstance(node, list):
            for item in node:
                walk(item, name)

    walk(plan_schema())


def test_schema_compiles_to_a_llama_cpp_grammar(tiny_engine: Any) -> None:
    from consilium_cli.llm.engine import (
        ChatMessage,
        GenerationRequest,
        SamplingParams,
        collect,
    )

    request = GenerationRequest(
        messages=(ChatMessage("user", "Write the plan."),),
        params=SamplingParams(max_tokens=24, temperature=0.7, seed=1, json_schema=plan_schema()))
    finished = collect(tiny_engine.stream([request]), 1)
    assert finished[0].text.lstrip().startswith("{")
