"""A review result as plain text, rich renderables (TTY), Markdown, JSON or SARIF 2.1.0.

Every string that came from the diff or a model is untrusted: plain text and Markdown
pass it through `clean()` (no terminal control), Markdown also escapes its own syntax,
and the rich view builds `Text` objects that never parse markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from consilium_cli.review.findings import SEVERITIES, SEVERITY_RANK, Finding
from consilium_cli.ui.safe_text import clean

if TYPE_CHECKING:
    from rich.console import RenderableType

    from consilium_cli.review.runner import ReviewResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
               "info": "note"}
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow",
                  "low": "cyan", "info": "dim"}
CODE_AROUND = 2


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about the run besides the findings."""

    source: str
    model: str
    fail_on: str
    exit_code: int
    version: str = ""


def _place(f: Finding) -> str:
    if f.file is None:
        return "(whole change)"
    return f"{f.file}:{f.line}" if f.line else f"{f.file} (file level)"


def _counts(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    parts = []
    for sev in reversed(SEVERITIES):
        n = sum(1 for f in findings if f.severity == sev)
        if n:
            parts.append(f"{n} {sev}")
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {noun}: {', '.join(parts)}"


def _headline(result: ReviewResult, meta: ReportMeta) -> str:
    s = result.plan.summary()
    roles = ", ".join(s.roles) or "none"
    return (f"consilium review of {meta.source}: {s.files} files (+{s.added} -{s.removed}), "
            f"{s.groups} group(s), agents: {roles}")


def _verdict_line(result: ReviewResult, meta: ReportMeta) -> str:
    if not meta.fail_on:
        return f"{_counts(result.findings)}; no --fail-on threshold: exit 0"
    return (f"{_counts(result.findings)}; fail on {meta.fail_on} or above: "
            f"exit {meta.exit_code}")


def by_file(findings: Sequence[Finding]) -> list[tuple[str | None, list[Finding]]]:
    """Findings grouped by file (files in order of their first finding), lines ascending."""
    order: dict[str | None, list[Finding]] = {}
    for f in findings:
        order.setdefault(f.file, []).append(f)
    return [(path, sorted(items, key=lambda f: (f.line or 0, -f.severity_rank)))
            for path, items in order.items()]


# -- plain text ---------------------------------------------------------------------------


def to_text(result: ReviewResult, meta: ReportMeta) -> str:
    out = [clean(_headline(result, meta))]
    if result.verdict.summary:
        out += ["", clean(f"Summary ({result.verdict.by}): {result.verdict.summary}")]
    for path, items in by_file(result.findings):
        out += ["", clean(path or "(whole change)")]
        for f in items:
            where = f"{f.line:>5}" if f.line else "    -"
            out.append(clean(f"{where}  {f.severity:<8} [{', '.join(f.roles)}] {f.title}"))
            if f.explanation:
                out.append(_indent(clean(f.explanation), 8))
            if f.suggested_fix:
                out.append(_indent(clean(f"fix: {f.suggested_fix}"), 8))
            if f.replacement:
                out.append(_indent("replacement:\n" + _indent(clean(f.replacement), 2), 8))
            for note in f.notes:
                out.append(_indent(clean(f"note: {note}"), 8))
    out += _skipped_and_notes(result)
    out += ["", _verdict_line(result, meta)]
    return "\n".join(out) + "\n"


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.split("\n"))


def _skipped_and_notes(result: ReviewResult) -> list[str]:
    out: list[str] = []
    if result.plan.skipped:
        out += ["", "Not reviewed:"]
        out += [clean(f"  {s.path}: {s.reason}") for s in result.plan.skipped]
    if result.notes:
        out += ["", "Notes:"]
        out += [clean(f"  {note}") for note in result.notes]
    if result.cancelled:
        out += ["", "The review was interrupted: groups after the interruption were not "
                    "reviewed."]
    return out


# -- rich (TTY) ---------------------------------------------------------------------------


def code_around(result: ReviewResult, f: Finding) -> list[tuple[int, str]]:
    """New-side lines around a finding's line, from the hunks its agent saw."""
    if f.file is None or not f.line or f.group >= len(result.plan.groups):
        return []
    code = result.plan.groups[f.group].code_at(f.file)
    return [(n, code[n]) for n in range(f.line - CODE_AROUND, f.line + CODE_AROUND + 1)
            if n in code]


def rich_report(result: ReviewResult, meta: ReportMeta) -> list[RenderableType]:
    """Findings grouped by file, each with the code around its line."""
    from rich.text import Text

    from consilium_cli.ui.safe_text import safe

    out: list[RenderableType] = [safe(_headline(result, meta), "title")]
    if result.verdict.summary:
        line = Text("summary ", style="muted")
        line.append_text(safe(f"({result.verdict.by}) ", "muted"))
        line.append_text(safe(result.verdict.summary))
        out += [Text(""), line]
    for path, items in by_file(result.findings):
        out += [Text(""), safe(path or "(whole change)", "title")]
        for f in items:
            head = Text("  ")
            head.append(f" {f.severity} ", style=SEVERITY_STYLE[f.severity])
            head.append(f" line {f.line}" if f.line else " file level", style="muted")
            head.append("  ")
            for role in f.roles:
                head.append(role, style=f"role.{role}")
                head.append(" ")
            head.append_text(safe(f.title, "bold"))
            out.append(head)
            for number, text in code_around(result, f):
                marker = ">" if number == f.line else " "
                row = Text(f"    {marker}{number:>5} │ ", style="muted")
                row.append_text(safe(text, "" if number == f.line else "dim"))
                out.append(row)
            if f.explanation:
                out.append(safe(_indent(f.explanation, 4)))
            if f.suggested_fix:
                out.append(safe(_indent(f"fix: {f.suggested_fix}", 4), "hint"))
            if f.replacement:
                out.append(safe(_indent(f.replacement, 6), "ok"))
            for note in f.notes:
                out.append(safe(_indent(f"note: {note}", 4), "muted"))
    for line_text in _skipped_and_notes(result):
        out.append(safe(line_text, "muted"))
    style = "fail" if meta.exit_code else "ok"
    out += [Text(""), safe(_verdict_line(result, meta), style)]
    return out


# -- Markdown -----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~>-])")


def md_escape(text: str) -> str:
    """Untrusted text as Markdown prose: no HTML, no links or emphasis, one paragraph."""
    text = html.escape(clean(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def md_code(text: str, lang: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside."""
    body = clean(text)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{body}\n{fence}"


def to_markdown(result: ReviewResult, meta: ReportMeta) -> str:
    out = ["## consilium review", "", md_escape(_headline(result, meta)), ""]
    if result.verdict.summary:
        out += [f"**Summary** ({md_escape(result.verdict.by)}): "
                f"{md_escape(result.verdict.summary)}", ""]
    for path, items in by_file(result.findings):
        out += [f"### {md_escape(path or '(whole change)')}", ""]
        for f in items:
            where = f"line {f.line}" if f.line else "file level"
            out.append(f"- **{f.severity}** ({where}, {md_escape(', '.join(f.roles))}): "
                       f"{md_escape(f.title)}")
            if f.explanation:
                out.append(f"  {md_escape(f.explanation)}")
            code = code_around(result, f)
            if code:
                out += ["", _indent(md_code("\n".join(f"{n:>5} {t}" for n, t in code)), 2)]
            if f.suggested_fix:
                out += ["", f"  Fix: {md_escape(f.suggested_fix)}"]
            if f.replacement:
                out += ["", _indent(md_code(f.replacement), 2)]
            for note in f.notes:
                out.append(f"  _Note: {md_escape(note)}_")
            out.append("")
    if result.plan.skipped:
        out += ["### Not reviewed", ""]
        out += [f"- {md_escape(s.path)}: {md_escape(s.reason)}" for s in result.plan.skipped]
        out.append("")
    if result.notes:
        out += ["### Notes", ""]
        out += [f"- {md_escape(n)}" for n in result.notes]
        out.append("")
    out.append(md_escape(_verdict_line(result, meta)))
    return "\n".join(out) + "\n"


# -- JSON ---------------------------------------------------------------------------------


def to_json(result: ReviewResult, meta: ReportMeta) -> dict[str, Any]:
    return {
        "source": meta.source,
        "model": meta.model,
        "diff": result.plan.summary().to_json(),
        "routing": {role: list(why) for role, why in result.plan.roles.items()},
        "verdict": {"summary": result.verdict.summary, "by": result.verdict.by,
                    "note": result.verdict.note},
        "findings": [f.to_json() for f in result.findings],
        "notes": result.notes,
        "cancelled": result.cancelled,
        "fail_on": meta.fail_on or None,
        "exit_code": meta.exit_code,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "tokens": result.tokens,
    }


# -- SARIF 2.1.0 --------------------------------------------------------------------------


def _rule_id(role: str) -> str:
    return f"consilium/{role}"


def _rules(roles: Sequence[str]) -> list[dict[str, Any]]:
    from consilium_cli.council.roles import get_role

    rules = []
    for role in roles:
        info = get_role(role)
        rules.append({
            "id": _rule_id(role),
            "name": f"{role.capitalize()}Review",
            "shortDescription": {"text": f"{info.title} review"},
            "fullDescription": {"text": f"Findings of the council's {info.title.lower()}: "
                                        f"{info.focus}."},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["consilium", role]},
        })
    return rules


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/")


def _sarif_message(f: Finding) -> str:
    parts = [f"[{f.severity}] {f.title}"]
    if f.explanation:
        parts.append(f.explanation)
    if f.suggested_fix:
        parts.append(f"Fix: {f.suggested_fix}")
    if f.replacement:
        parts.append(f"Replacement:\n{f.replacement}")
    parts += [f"Note: {n}" for n in f.notes]
    return clean("\n\n".join(parts))


def _anchor(result: ReviewResult, f: Finding) -> str | None:
    """The file a result is shown on (code scanning needs one for every result)."""
    if f.file is not None:
        return f.file
    if f.group < len(result.plan.groups) and result.plan.groups[f.group].files:
        return result.plan.groups[f.group].files[0]
    return None


def to_sarif(result: ReviewResult, meta: ReportMeta) -> dict[str, Any]:
    from consilium_cli.council.roles import ROLES

    used = [r for r in ROLES if r in result.plan.roles or
            any(r in f.roles for f in result.findings)]
    rule_index = {role: i for i, role in enumerate(used)}
    results = []
    for f in result.findings:
        role = f.roles[0]
        anchor = _anchor(result, f)
        entry: dict[str, Any] = {
            "ruleId": _rule_id(role),
            "ruleIndex": rule_index[role],
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": _sarif_message(f)},
            "rank": round(100.0 * (SEVERITY_RANK[f.severity] + 1) / len(SEVERITIES), 1),
            "properties": {"severity": f.severity, "roles": list(f.roles), "rank": f.rank,
                           "fileLevel": not f.line, "wholeChange": f.file is None},
        }
        if anchor is not None:
            entry["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(anchor), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line or 1},
            }}]
        results.append(entry)
    notifications = [
        {"level": "note", "message": {"text": clean(f"not reviewed: {s.path}: {s.reason}")},
         "locations": [{"physicalLocation": {"artifactLocation": {
             "uri": _uri(s.path), "uriBaseId": "%SRCROOT%"}}}]}
        for s in result.plan.skipped
    ] + [{"level": "warning", "message": {"text": clean(note)}} for note in result.notes]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "consilium", "version": meta.version or "0",
                            "rules": _rules(used)}},
        "automationDetails": {"id": "consilium/review/"},
        "invocations": [{"executionSuccessful": not result.cancelled,
                         "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"summary": clean(result.verdict.summary), "summaryBy": result.verdict.by,
                       "model": meta.model, "failOn": meta.fail_on or None,
                       "exitCode": meta.exit_code},
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
