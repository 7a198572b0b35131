"""Review findings: the JSON schema agents answer in, its validation, merging, and the
exit code.

What an agent writes is untrusted: the file must be one it was shown, the line must lie
on the new side of a hunk it saw (otherwise the finding moves to file level with a note),
strings are bounded and cleaned. The exit code is decided here, from severities alone,
never from anything a model wrote in prose.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}

MAX_FINDINGS = 5
LIMITS = {"title": 100, "explanation": 400, "suggested_fix": 300, "replacement": 400}
_GRAMMAR_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Finding:
    file: str | None
    line: int | None
    severity: str
    roles: tuple[str, ...]
    title: str
    explanation: str
    suggested_fix: str = ""
    replacement: str = ""
    notes: tuple[str, ...] = ()
    group: int = 0
    rank: int = 0

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "severity": self.severity,
                "roles": list(self.roles), "title": self.title,
                "explanation": self.explanation,
                "suggested_fix": self.suggested_fix or None,
                "replacement": self.replacement or None, "notes": list(self.notes),
                "rank": self.rank}


@dataclass(frozen=True)
class AgentOutcome:
    """What became of one agent's answer for one group (for the report's notes)."""

    role: str
    group: int
    findings: tuple[Finding, ...]
    problem: str = ""


def findings_schema(files: Sequence[str], max_findings: int = MAX_FINDINGS) -> dict[str, Any]:
    """The grammar for one agent's answer: every string and array bounded; `file` is one
    of the files the agent was shown (when the names are safe inside a grammar)."""
    def text(limit: int, min_length: int = 0) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": limit}
        if min_length:
            schema["minLength"] = min_length
        return schema

    if files and not any(_GRAMMAR_UNSAFE.search(f) for f in files):
        file_schema: dict[str, Any] = {"enum": list(dict.fromkeys(files))}
    else:
        file_schema = text(300, 1)
    item = {
        "type": "object",
        "properties": {
            "file": file_schema,
            "line": {"type": "integer"},
            "severity": {"enum": list(SEVERITIES)},
            "title": text(LIMITS["title"], 1),
            "explanation": text(LIMITS["explanation"]),
            "suggested_fix": text(LIMITS["suggested_fix"]),
            "replacement": text(LIMITS["replacement"]),
        },
        "required": ["file", "line", "severity", "title", "explanation", "suggested_fix",
                     "replacement"],
    }
    return {
        "type": "object",
        "properties": {"findings": {"type": "array", "items": item, "maxItems": max_findings}},
        "required": ["findings"],
    }


def parse_answer(raw: str) -> tuple[list[dict[str, Any]], bool]:
    """The finding objects of an answer and whether it had to be salvaged (cut short).

    A grammar keeps the output well-formed, but an answer that runs out of tokens stops
    mid-object: every complete finding before that point is kept."""
    try:
        data = json.loads(raw)
    except ValueError:
        return _salvage(raw), True
    items = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [], True
    return [item for item in items if isinstance(item, dict)], False


def _salvage(raw: str) -> list[dict[str, Any]]:
    start = raw.find("[")
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    pos = start + 1
    while pos < len(raw):
        while pos < len(raw) and raw[pos] in " \t\r\n,":
            pos += 1
        try:
            item, pos = decoder.raw_decode(raw, pos)
        except ValueError:
            break
        if isinstance(item, dict):
            out.append(item)
    return out


def _text(value: Any, limit: int) -> str:
    from consilium_cli.ui.safe_text import clean

    if not isinstance(value, str):
        return ""
    return clean(value).strip()[:limit]


def match_file(name: str, files: Sequence[str]) -> str | None:
    """The shown file an agent meant: exact, without an a/ b/ prefix, or a unique suffix."""
    name = name.strip()
    if name in files:
        return name
    if name[:2] in ("a/", "b/") and name[2:] in files:
        return name[2:]
    tails = [f for f in files if name and (f.endswith("/" + name) or name.endswith("/" + f))]
    return tails[0] if len(tails) == 1 else None


def validate(items: Iterable[dict[str, Any]], *, role: str, group: int,
             files: Sequence[str], new_lines: dict[str, frozenset[int]]) -> list[Finding]:
    """Turn raw finding objects into Findings, checking file and line against what the
    agent was shown."""
    out: list[Finding] = []
    for item in items:
        severity = item.get("severity")
        if severity not in SEVERITY_RANK:
            continue
        title = _text(item.get("title"), LIMITS["title"])
        explanation = _text(item.get("explanation"), LIMITS["explanation"])
        if not title:
            title = explanation[:60] or "(no title)"
        notes: list[str] = []
        raw_file = item.get("file")
        file = match_file(raw_file, files) if isinstance(raw_file, str) else None
        if file is None:
            shown = _text(raw_file, 120) if isinstance(raw_file, str) else repr(raw_file)
            notes.append(f"the agent named a file it was not shown ({shown!r}); "
                         "kept as a finding about the whole change")
        line = item.get("line")
        if not isinstance(line, int) or isinstance(line, bool) or line <= 0:
            line = None
        elif file is None or line not in new_lines.get(file, frozenset()):
            if file is not None:
                notes.append(f"line {line} is not on the new side of a hunk this agent saw; "
                             "moved to file level")
            line = None
        out.append(Finding(
            file=file, line=line, severity=str(severity), roles=(role,), title=title,
            explanation=explanation,
            suggested_fix=_text(item.get("suggested_fix"), LIMITS["suggested_fix"]),
            replacement=_keep_code(item.get("replacement"), LIMITS["replacement"]),
            notes=tuple(notes), group=group,
        ))
    return out


def _keep_code(value: Any, limit: int) -> str:
    """A replacement snippet: control characters removed, indentation kept."""
    from consilium_cli.ui.safe_text import clean

    if not isinstance(value, str):
        return ""
    text = clean(value)[:limit]
    return text if text.strip() else ""


_WORD = re.compile(r"[\w']+", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2)


def _same_issue(a: Finding, b: Finding) -> bool:
    if a.file != b.file or a.line != b.line:
        return False
    wa, wb = _words(a.title), _words(b.title)
    if not wa or not wb:
        return a.title.strip().lower() == b.title.strip().lower()
    return len(wa & wb) / len(wa | wb) >= 0.5


def merge_duplicates(findings: Sequence[Finding], role_order: Sequence[str] = ()) -> list[Finding]:
    """Merge findings that several agents (or one agent twice) reported about the same
    place and issue: the highest severity wins, roles and notes are joined."""
    rank = {name: i for i, name in enumerate(role_order)}
    merged: list[Finding] = []
    for finding in findings:
        for i, kept in enumerate(merged):
            if _same_issue(kept, finding):
                merged[i] = _combine(kept, finding, rank)
                break
        else:
            merged.append(finding)
    return merged


def _combine(a: Finding, b: Finding, rank: dict[str, int]) -> Finding:
    first, second = (a, b) if a.severity_rank >= b.severity_rank else (b, a)
    roles = tuple(sorted(set(a.roles) | set(b.roles), key=lambda r: (rank.get(r, 99), r)))
    explanation = first.explanation
    if second.explanation and second.explanation not in explanation:
        extra = f" [{'/'.join(second.roles)}] {second.explanation}"
        explanation = (explanation + extra)[: LIMITS["explanation"] * 2]
    return replace(first, roles=roles, explanation=explanation,
                   suggested_fix=first.suggested_fix or second.suggested_fix,
                   replacement=first.replacement or second.replacement,
                   notes=tuple(dict.fromkeys((*first.notes, *second.notes))))


def by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; then by file and line (file-level before line findings)."""
    return sorted(findings, key=lambda f: (-f.severity_rank, f.file or "", f.line or 0))


def parse_severity(value: str) -> str:
    """A severity name from a flag or setting (case-insensitive); '' means none."""
    from consilium_cli.errors import UsageError

    name = value.strip().lower()
    if name and name not in SEVERITY_RANK:
        raise UsageError(f"unknown severity {value!r}",
                         hint=f"use one of: {', '.join(SEVERITIES)}")
    return name


def exit_code_for(findings: Iterable[Finding], fail_on: str) -> int:
    """1 when a finding is at or above `fail_on`, else 0 (no threshold: always 0)."""
    if not fail_on:
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(f.severity_rank >= threshold for f in findings) else 0
