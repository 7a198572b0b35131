"""Rendering shared by every command: errors, check lists, key/value tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consilium_cli.ui.safe_text import safe

if TYPE_CHECKING:
    from rich.console import Console

    from consilium_cli.errors import ConsiliumError


def render_error(console: Console, exc: ConsiliumError) -> None:
    """`error: message` and, when there is one, `fix: hint` (both shown as plain text)."""
    from rich.text import Text

    line = Text("error: ", style="error")
    line.append_text(safe(exc.message))
    console.print(line)
    if exc.hint:
        hint = Text("  fix: ", style="hint")
        hint.append_text(safe(exc.hint))
        console.print(hint)


STATUS_STYLE = {"ok": "ok", "warn": "warn", "fail": "fail", "info": "muted"}


def status_line(status: str, name: str, detail: str, fix: str = "") -> object:
    """One `ok   name: detail  (fix: …)` line as rich Text."""
    from rich.text import Text

    line = Text(f"{status:<4} ", style=STATUS_STYLE.get(status, ""))
    line.append_text(safe(f"{name}: ", "title"))
    line.append_text(safe(detail))
    if fix:
        line.append_text(safe(f"  (fix: {fix})", "hint"))
    return line
