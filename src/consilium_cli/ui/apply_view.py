"""How `consilium apply` and `consilium undo` show actions, results and undo plans.

Everything that came from a plan, a file, a repository or a command goes through
`safe()`: escape sequences never reach the terminal. What a person approves is shown with
its escape sequences made visible, not removed: removed, they would hide the text between
them (a command after `ESC ]`) from the person while it is still written or run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consilium_cli.ui.safe_text import safe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from consilium_cli.tools.actions import ActionResult
    from consilium_cli.tools.approval import Decision, Preview
    from consilium_cli.tools.executor import PlanFinished
    from consilium_cli.tools.undo import UndoPlan

PREVIEW_DIFF_LINES = 400
CATEGORY_LABEL = {"read": "read-only", "edit": "edits a file", "change": "changes state"}
PROMPT_KEYS = "ynadq"


def _shown(text: str, style: str = "") -> Text:
    """Untrusted text to approve: control made visible, nothing hidden."""
    return safe(text, style, show=True)


def _diff_line(line: str) -> Text:
    if line.startswith(("+++", "---")):
        return _shown(line, "bold")
    if line.startswith("@@"):
        return _shown(line, "cyan")
    if line.startswith("+"):
        return _shown(line, "green")
    if line.startswith("-"):
        return _shown(line, "red")
    return _shown(line)


def render_preview(console: Console, preview: Preview, *, full: bool = False) -> None:
    """The action in full: what, why, where, the diff; dangers in red before anything."""
    from rich.text import Text

    console.print()
    head = Text(f"[{preview.index + 1}/{preview.total}] ", style="title")
    head.append_text(_shown(preview.title, "title"))
    head.append(f"  ({CATEGORY_LABEL[preview.category]})", style="muted")
    console.print(head)
    for line in preview.danger:
        console.print(_shown(f"  !! {line}", "bold red"))
    if preview.irreversible:
        console.print(_shown(f"  NOT UNDOABLE: {preview.irreversible}", "bold red"))
    if preview.personal and not preview.error:
        console.print(_shown(f"  needs your own yes (no policy or 'a' covers it): "
                             f"{preview.personal}", "warn"))
    if preview.why:
        console.print(_shown(f"  why: {preview.why}", "muted"))
    for label, value in preview.fields:
        line = Text("  ")
        if label:
            line.append(f"{label}: ", style="title")
        line.append_text(_shown(value))
        console.print(line)
    for note in preview.notes:
        console.print(_shown(f"  {note}", "muted"))
    for warning in preview.warnings:
        console.print(_shown(f"  warning: {warning}", "warn"))
    if preview.error:
        console.print(_shown(f"  cannot apply: {preview.error}", "error"))
        return
    lines = preview.full_diff if full else preview.diff
    if full and not lines and preview.body:
        for line in preview.body.splitlines():
            console.print(_shown(line))
        return
    shown = lines if full else lines[:PREVIEW_DIFF_LINES]
    for line in shown:
        console.print(_diff_line(line))
    if len(lines) > len(shown):
        console.print(_shown(f"  ... {len(lines) - len(shown)} more diff lines: press d to "
                             "see the whole diff", "muted"))


def prompt_message(preview: Preview) -> list[tuple[str, str]]:
    """The prompt line (style, text) pairs for prompt-toolkit."""
    if preview.personal:
        return [("bold fg:ansired", "Apply this one? "),
                ("", "[y]es  [n]o  [d]iff  [q]uit  (default: no) ")]
    return [("bold", "Apply? "),
            ("", "[y]es  [n]o  [a]ll remaining  [d]iff  [q]uit  (default: no) ")]


def render_decision(console: Console, preview: Preview, decision: Decision) -> None:
    if decision.by == "policy":
        console.print(safe("  allowed by the approval policy", "muted"))
    elif decision.by == "gate":
        console.print(safe(f"  skipped: {decision.reason}", "warn"))
    elif decision.answer == "quit":
        console.print(safe("  stopped: no further action runs", "warn"))
    elif not decision.approved:
        console.print(safe("  declined", "warn"))


def render_output(console: Console, stream: str, text: str) -> None:
    console.print(safe(text, "muted" if stream == "stderr" else ""), end="")


def _render_data(console: Console, data: Any) -> None:
    from consilium_cli.tools.db import QueryResult
    from consilium_cli.tools.search import SearchResult

    if isinstance(data, SearchResult):
        for hit in data.hits:
            console.print(safe(f"  {hit.path}:{hit.line}: {hit.text}"))
    elif isinstance(data, QueryResult) and data.columns:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="title")
        for column in data.columns:
            table.add_column(safe(column))
        for row in data.rows:
            table.add_row(*(safe("NULL" if v is None else str(v)) for v in row))
        console.print(table)
        if data.truncated:
            console.print(safe(f"  (first {len(data.rows)} rows shown)", "muted"))
    elif isinstance(data, dict):
        for key, value in data.items():
            shown = ", ".join(map(str, value)) if isinstance(value, dict) else value
            console.print(safe(f"  {key}: {shown}"))


def render_result(console: Console, preview: Preview, result: ActionResult,
                  *, streamed: bool) -> None:
    if preview.error and not result.ok:
        return  # the preview already said why it cannot apply
    if result.output and not streamed:
        for line in result.output.rstrip("\n").splitlines():
            console.print(safe(f"  {line}"))
    if result.data is not None:
        _render_data(console, result.data)
    if result.ok:
        console.print(safe(f"  done: {result.message}", "ok"))
    else:
        console.print(safe(f"  failed: {result.message}", "error"))


def render_summary(console: Console, finished: PlanFinished) -> None:
    console.print()
    parts = [f"{finished.applied} applied", f"{finished.declined} declined"]
    if finished.failed:
        parts.append(f"{finished.failed} failed")
    if finished.not_run:
        parts.append(f"{finished.not_run} not run")
    console.print(safe("plan " + finished.status + ": " + ", ".join(parts), "title"))
    if finished.journaled:
        console.print(safe(f"undo with: consilium undo {finished.session_id}", "hint"))


def render_undo_plan(console: Console, plan: UndoPlan) -> None:
    log = plan.session
    console.print(_shown(f"session {log.id}: {log.task or '(no task)'} [{log.status}]", "title"))
    for item in plan.restores:
        if item.conflict:
            console.print(_shown(f"  CHANGED SINCE: {item.name}: {item.conflict}", "bold red"))
        else:
            console.print(_shown(f"  will {item.description}"))
    for name in plan.already:
        console.print(_shown(f"  already as before: {name}", "muted"))
    for label in plan.irreversible:
        console.print(_shown(f"  cannot be undone (not reverted): {label}", "warn"))
    for name in plan.created_dirs:
        console.print(_shown(f"  will remove the folder {name} if it is then empty "
                             "(consilium made it)"))
    if not plan.restores and not plan.created_dirs:
        console.print(_shown("  nothing to restore", "muted"))


def render_kept_dirs(console: Console, plan: UndoPlan) -> None:
    """Folders consilium made that undo left in place, and why."""
    for name in plan.kept_dirs:
        console.print(_shown(f"  folder kept (not removed): {name}", "warn"))
