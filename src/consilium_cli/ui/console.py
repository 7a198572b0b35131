"""Consoles for the three output modes: rich on a TTY, plain text in a pipe, JSON."""

from __future__ import annotations

import json
import os
import re
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


# JSON escapes only C0 controls; DEL, C1 controls (an 8-bit CSI is \x9b) and the bidi
# overrides would reach a terminal raw. They can only occur inside strings, where \uXXXX
# is the same value, so escaping them keeps the JSON identical for a parser.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(payload: Any) -> str:
    """Indented JSON, UTF-8 readable, with nothing in it that steers a terminal."""
    text = json.dumps(payload, ensure_ascii=False, indent=2, default=str)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def write_json(stream: IO[str], payload: Any) -> None:
    """JSON for scripts: written raw, never through rich (which would wrap lines)."""
    stream.write(json_text(payload))
    stream.write("\n")
    stream.flush()
