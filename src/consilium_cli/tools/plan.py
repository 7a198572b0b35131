"""The action plan: a versioned JSON document that `consilium apply` carries out.

`plan.schema.json` (package data) is the one definition: this module validates plans
against it (dispatching on `kind`, and `op` for git, so an error names the action index
and the field) and turns them into typed actions. The same file is the grammar for plans
that a model generates, so it stays within what llama.cpp's `json_schema_to_gbnf`
accepts. See docs/plan-schema.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from consilium_cli.errors import UsageError

SCHEMA_VERSION = 1
# Limits on the fields that the schema leaves unbounded (llama.cpp's grammar parser
# refuses string repetitions much above 1,000 characters).
MAX_BLOCK_CHARS = 100_000
MAX_CONTENT_CHARS = 2_000_000
MAX_SQL_CHARS = 100_000
MAX_PLAN_BYTES = 16 * 1024 * 1024

READ_ONLY_GIT_OPS = frozenset({"status", "diff", "log"})


class PlanError(UsageError):
    """A plan that does not validate; the message names the action index and field."""


@dataclass(frozen=True)
class EditBlock:
    search: str
    replace: str


@dataclass(frozen=True)
class Action:
    index: int
    kind: str
    why: str = ""

    def label(self) -> str:
        return self.kind


@dataclass(frozen=True)
class EditFile(Action):
    path: str = ""
    edits: tuple[EditBlock, ...] = ()
    sha256: str = ""

    def label(self) -> str:
        return f"edit {self.path}"


@dataclass(frozen=True)
class WriteFile(Action):
    path: str = ""
    content: str = ""
    sha256: str = ""

    def label(self) -> str:
        return f"write {self.path}"


@dataclass(frozen=True)
class DeleteFile(Action):
    path: str = ""
    sha256: str = ""

    def label(self) -> str:
        return f"delete {self.path}"


@dataclass(frozen=True)
class MoveFile(Action):
    path: str = ""
    to: str = ""
    sha256: str = ""

    def label(self) -> str:
        return f"move {self.path} -> {self.to}"


@dataclass(frozen=True)
class RunCommand(Action):
    argv: tuple[str, ...] = ()
    command: str = ""
    pipeline: bool = False
    cwd: str = "."
    timeout_s: float | None = None
    allow_failure: bool = False

    def label(self) -> str:
        return f"run {self.command}" if self.pipeline else "run " + " ".join(self.argv)


@dataclass(frozen=True)
class GitOp(Action):
    op: str = ""
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def read_only(self) -> bool:
        return self.op in READ_ONLY_GIT_OPS

    def label(self) -> str:
        return f"git {self.op}"


@dataclass(frozen=True)
class DbQuery(Action):
    url: str = ""
    sql: str = ""
    params: tuple[Any, ...] = ()

    def label(self) -> str:
        return "db_query " + " ".join(self.sql.split())[:60]


@dataclass(frozen=True)
class Search(Action):
    pattern: str = ""
    regex: bool = False
    glob: str = ""
    max_results: int = 200

    def label(self) -> str:
        return f"search {self.pattern}"


@dataclass(frozen=True)
class SysInfo(Action):
    pass


@dataclass(frozen=True)
class Plan:
    version: int
    task: str
    summary: str
    actions: tuple[Action, ...]
    source: str = "plan"

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "task": self.task, "summary": self.summary,
                "actions": [action_to_json(a) for a in self.actions]}


@cache
def _schema_text() -> str:
    from importlib.resources import files

    return (files("consilium_cli.tools") / "plan.schema.json").read_text(encoding="utf-8")


def plan_schema() -> dict[str, Any]:
    """The plan's JSON Schema (a fresh copy: callers may change it)."""
    return json.loads(_schema_text())


# -- a validator for the subset of JSON Schema that plan.schema.json uses --------------

def _type_ok(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "array":
        return isinstance(value, list)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "null":
        return value is None
    raise ValueError(expected)


_TYPE_WORDS = {"string": "a string", "boolean": "true or false", "integer": "an integer",
               "number": "a number", "array": "a list", "object": "an object",
               "null": "null"}


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _check(value: Any, schema: dict[str, Any], where: str) -> None:
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                _check(value, option, where)
                return
            except PlanError as exc:
                errors.append(exc.message)
        raise PlanError(errors[0] if len(errors) == 1 else
                        f"{where}: {_describe(value)} is not a string, number, true/false or null")
    if "const" in schema and value != schema["const"]:
        raise PlanError(f"{where}: must be {json.dumps(schema['const'])}, got {_describe(value)}")
    expected = schema.get("type")
    if expected and not _type_ok(value, expected):
        raise PlanError(f"{where}: must be {_TYPE_WORDS[expected]}, got {_describe(value)}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise PlanError(f"{where}: must not be empty" if schema["minLength"] == 1 else
                            f"{where}: must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise PlanError(f"{where}: longer than {schema['maxLength']} characters "
                            f"({len(value)})")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise PlanError(f"{where}: must be at least {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            raise PlanError(f"{where}: must be at most {schema['maximum']}, got {value}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise PlanError(f"{where}: needs at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise PlanError(f"{where}: at most {schema['maxItems']} items, got {len(value)}")
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        for name in schema.get("required", []):
            if name not in value:
                raise PlanError(f"{where}: missing required field `{name}`")
        for name, item in value.items():
            if name not in props:
                if schema.get("additionalProperties") is False:
                    valid = ", ".join(props)
                    raise PlanError(f"{where}: unknown field `{name}` (valid: {valid})")
                continue
            _check(item, props[name], f"{where}.{name}")


def _variants() -> list[dict[str, Any]]:
    return plan_schema()["properties"]["actions"]["items"]["anyOf"]


def _pick_variant(action: Any, where: str) -> dict[str, Any]:
    """The schema of this action's kind (and git op, and run form)."""
    if not isinstance(action, dict):
        raise PlanError(f"{where}: must be an object with a `kind`, got {_describe(action)}")
    kind = action.get("kind")
    variants = [v for v in _variants() if v["properties"]["kind"]["const"] == kind]
    if not variants:
        kinds = sorted({v["properties"]["kind"]["const"] for v in _variants()})
        if kind is None:
            raise PlanError(f"{where}: missing required field `kind` "
                            f"(one of {', '.join(kinds)})")
        raise PlanError(f"{where}.kind: unknown kind {_describe(kind)} "
                        f"(one of {', '.join(kinds)})")
    if kind == "git":
        op = action.get("op")
        ops = [v["properties"]["op"]["const"] for v in variants]
        if op is None:
            raise PlanError(f"{where}: missing required field `op` (one of {', '.join(ops)})")
        variants = [v for v in variants if v["properties"]["op"]["const"] == op]
        if not variants:
            raise PlanError(f"{where}.op: unknown git op {_describe(op)} "
                            f"(one of {', '.join(ops)})")
    if kind == "run":
        pipeline = action.get("pipeline") is True or "command" in action
        variants = [v for v in variants
                    if (v["properties"]["pipeline"]["const"] is True) == pipeline]
    return variants[0]


def _limit(text: str, limit: int, where: str) -> None:
    if len(text) > limit:
        raise PlanError(f"{where}: longer than {limit} characters ({len(text)})")


def _hex_sha(value: str, where: str) -> None:
    if value and not all(c in "0123456789abcdef" for c in value.lower()):
        raise PlanError(f"{where}.sha256: must be 64 hexadecimal digits")


def _build(index: int, raw: dict[str, Any], where: str) -> Action:
    kind = raw["kind"]
    why = raw.get("why", "")
    sha = raw.get("sha256", "").lower()
    _hex_sha(sha, where)
    if kind == "edit_file":
        blocks = []
        for i, edit in enumerate(raw["edits"]):
            _limit(edit["search"], MAX_BLOCK_CHARS, f"{where}.edits[{i}].search")
            _limit(edit["replace"], MAX_BLOCK_CHARS, f"{where}.edits[{i}].replace")
            if edit["search"] == edit["replace"]:
                raise PlanError(f"{where}.edits[{i}]: `replace` is the same as `search`")
            blocks.append(EditBlock(edit["search"], edit["replace"]))
        return EditFile(index, kind, why, path=raw["path"], edits=tuple(blocks), sha256=sha)
    if kind == "write_file":
        _limit(raw["content"], MAX_CONTENT_CHARS, f"{where}.content")
        return WriteFile(index, kind, why, path=raw["path"], content=raw["content"], sha256=sha)
    if kind == "delete_file":
        return DeleteFile(index, kind, why, path=raw["path"], sha256=sha)
    if kind == "move_file":
        return MoveFile(index, kind, why, path=raw["path"], to=raw["to"], sha256=sha)
    if kind == "run":
        return RunCommand(index, kind, why, argv=tuple(raw.get("argv", ())),
                          command=raw.get("command", ""), pipeline=bool(raw.get("pipeline")),
                          cwd=raw.get("cwd", "."), timeout_s=raw.get("timeout_s"),
                          allow_failure=bool(raw.get("allow_failure", False)))
    if kind == "git":
        return GitOp(index, kind, why, op=raw["op"], args=dict(raw.get("args", {})))
    if kind == "db_query":
        _limit(raw["sql"], MAX_SQL_CHARS, f"{where}.sql")
        return DbQuery(index, kind, why, url=raw["url"], sql=raw["sql"],
                       params=tuple(raw.get("params", ())))
    if kind == "search":
        return Search(index, kind, why, pattern=raw["pattern"], regex=bool(raw.get("regex")),
                      glob=raw.get("glob", ""), max_results=int(raw.get("max_results", 200)))
    return SysInfo(index, kind, why)


def parse_plan(data: Any, *, source: str = "plan") -> Plan:
    """Validate a decoded plan document and return it typed; PlanError names the field."""
    if not isinstance(data, dict):
        raise PlanError(f"{source}: a plan is a JSON object, got {_describe(data)}",
                        hint="see docs/plan-schema.md")
    version = data.get("version")
    if version != SCHEMA_VERSION:
        raise PlanError(
            f"{source}: plan version {_describe(version)} is not supported "
            f"(this consilium reads version {SCHEMA_VERSION})",
            hint=f'start the plan with {{"version": {SCHEMA_VERSION}, "actions": [...]}}')
    schema = plan_schema()
    top = {k: v for k, v in schema["properties"].items() if k != "actions"}
    top_schema = {"type": "object", "properties": {**top, "actions": {"type": "array"}},
                  "required": schema["required"], "additionalProperties": False}
    _check(data, top_schema, source)
    items = data["actions"]
    actions_schema = schema["properties"]["actions"]
    _check(items, {k: v for k, v in actions_schema.items() if k != "items"},
           f"{source}: actions")
    actions: list[Action] = []
    for index, raw in enumerate(items):
        where = f"{source}: actions[{index}]"
        _check(raw, _pick_variant(raw, where), where)
        actions.append(_build(index, raw, where))
    return Plan(SCHEMA_VERSION, data.get("task", ""), data.get("summary", ""),
                tuple(actions), source)


def load_plan(path: Path) -> Plan:
    """Read and validate a plan file (exit 2 with the reason when it is not valid)."""
    try:
        size = path.stat().st_size
        if size > MAX_PLAN_BYTES:
            raise PlanError(f"{path}: the plan is {size} bytes (at most {MAX_PLAN_BYTES})")
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"cannot read the plan {path}: {exc.strerror or exc}",
                        hint="consilium apply --plan PATH_TO_PLAN.json") from exc
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise PlanError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} "
                        f"column {exc.colno}") from exc
    return parse_plan(data, source=str(path))


def action_to_json(action: Action) -> dict[str, Any]:
    """The plan-file form of one action (the inverse of parsing)."""
    out: dict[str, Any] = {"kind": action.kind}
    if isinstance(action, EditFile):
        out.update(path=action.path,
                   edits=[{"search": e.search, "replace": e.replace} for e in action.edits])
    elif isinstance(action, WriteFile):
        out.update(path=action.path, content=action.content)
    elif isinstance(action, DeleteFile):
        out.update(path=action.path)
    elif isinstance(action, MoveFile):
        out.update(path=action.path, to=action.to)
    elif isinstance(action, RunCommand):
        if action.pipeline:
            out.update(pipeline=True, command=action.command)
        else:
            out.update(argv=list(action.argv))
        out["cwd"] = action.cwd
        if action.timeout_s is not None:
            out["timeout_s"] = action.timeout_s
        if action.allow_failure:
            out["allow_failure"] = True
    elif isinstance(action, GitOp):
        out.update(op=action.op)
        if action.args:
            out["args"] = dict(action.args)
    elif isinstance(action, DbQuery):
        out.update(url=action.url, sql=action.sql, params=list(action.params))
    elif isinstance(action, Search):
        out.update(pattern=action.pattern, regex=action.regex, max_results=action.max_results)
        if action.glob:
            out["glob"] = action.glob
    sha = getattr(action, "sha256", "")
    if sha:
        out["sha256"] = sha
    if action.why:
        out["why"] = action.why
    return out
