"""Consoles for the three output modes: rich on a TTY, plain text in a pipe, JSON."""

from __future__ import annotations

import json
import os
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.theme import Theme

ROLE_STYLES = {
    "dev": "bright_cyan", "security": "bright_red", "qa": "bright_green",
    "architect": "bright_magenta", "ux": "bright_yellow", "seo": "bright_blue",
    "director": "bold white",
}


def theme() -> Theme:
    from rich.theme import Theme

    styles = {"ok": "green", "warn": "yellow", "fail": "bold red", "error": "bold red",
              "hint": "cyan", "dim": "dim", "title": "bold", "muted": "grey50"}
    styles.update({f"role.{role}": style for role, style in ROLE_STYLES.items()})
    return Theme(styles)


def make_console(stream: IO[str], *, color: str = "auto", width: int | None = None) -> Console:
    """A console on `stream`; `color` is auto, always or never, and NO_COLOR is honoured."""
    from rich.console import Console

    no_color = color == "never" or bool(os.environ.get("NO_COLOR"))
    tty = bool(getattr(stream, "isatty", lambda: False)())
    # In a pipe, lines are not wrapped at an imaginary width: scripts get whole lines.
    return Console(file=stream, theme=theme(), no_color=no_color,
                   force_terminal=True if color == "always" else None,
                   highlight=False, emoji=False, width=width, soft_wrap=not tty)


def write_json(stream: IO[str], payload: Any) -> None:
    """JSON for scripts: written raw, never through rich (which would wrap lines)."""
    stream.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    stream.write("\n")
    stream.flush()
