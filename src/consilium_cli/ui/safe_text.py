"""Untrusted text (model output, files, diffs, paths, command output) shown as text.

rich does not protect the terminal: OSC 52 (clipboard), OSC 8 (hyperlinks), cursor
movement and title changes pass straight through `Text`, `Panel` and `Markdown`, and a
stray `[/]` breaks markup. Everything untrusted goes through `clean()` (or `safe()`,
which wraps it in a `Text` that never parses markup) before it reaches a console.

- Escape sequences (CSI, OSC, DCS, SOS, PM, APC, and two-byte ESC sequences, in their
  7-bit and 8-bit C1 forms) are removed, or shown as visible text with `show=True`.
- Any other C0/C1 control character, DEL, a lone carriage return and the Unicode
  bidirectional overrides (Trojan Source) are made visible as `\\xNN` / `\\u....`.
- Newlines and tabs are kept; CRLF becomes LF.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# String-type sequences end at BEL or ST (ESC \ or 8-bit 0x9c); an unterminated one runs
# to the end of the text, which is also how a terminal would swallow it.
_STRING_SEQ = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)"
_CSI_SEQ = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
_TWO_BYTE_SEQ = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_SEQUENCE = re.compile(f"{_STRING_SEQ}|{_CSI_SEQ}|{_TWO_BYTE_SEQ}")

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _show_sequence(match: re.Match[str]) -> str:
    return "".join(_visible(c) if _CONTROL.match(c) else c for c in match.group(0))


def clean(text: str, *, show: bool = False) -> str:
    """Return `text` with no terminal control in it; newlines and tabs are kept."""
    text = text.replace("\r\n", "\n")
    text = _SEQUENCE.sub(_show_sequence if show else "", text)
    return _CONTROL.sub(lambda m: _visible(m.group(0)), text)


def escape_markup(text: str) -> str:
    """`clean()` and escape rich markup, for interpolation into a markup string."""
    from rich.markup import escape

    return escape(clean(text))


def safe(text: str, style: str = "", *, show: bool = False) -> Text:
    """A rich `Text` of untrusted text: markup is never parsed, control is gone."""
    from rich.text import Text

    return Text(clean(text, show=show), style=style)
