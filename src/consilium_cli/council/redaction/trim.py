"""Cutting a (redacted) text to a budget at line boundaries, never inside a placeholder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from consilium_cli.council.redaction.spans import PLACEHOLDER


@dataclass(frozen=True)
class Trimmed:
    """A text cut to a budget, and what was cut."""

    text: str
    cut_lines: int
    cut_chars: int
    cut_mid_line: bool = False

    @property
    def note(self) -> str:
        if not self.cut_chars:
            return ""
        return f"[consilium: {self.cut_lines} lines ({self.cut_chars} characters) cut to fit]"


def trim_to_budget(text: str, max_chars: int, *,
                   keep: Literal["head", "tail"] = "head") -> Trimmed:
    """Cut `text` to at most `max_chars` at line boundaries, never inside a placeholder.

    The kept part ends (or, with keep="tail", starts) with a line that says how many
    lines and characters were cut. When not even one whole line fits, the line is cut at
    the last position outside a placeholder and `cut_mid_line` is set.
    """
    if len(text) <= max_chars:
        return Trimmed(text, 0, 0)
    lines = text.splitlines(keepends=True)
    reserve = len(Trimmed("", 10**9, 10**12).note) + 1
    budget = max(0, max_chars - reserve)
    ordered = lines if keep == "head" else lines[::-1]
    kept: list[str] = []
    size = 0
    for line in ordered:
        if size + len(line) > budget:
            break
        kept.append(line)
        size += len(line)
    mid_line = False
    if not kept and ordered and budget:
        kept = [_cut_line(ordered[0], budget, keep)]
        size = len(kept[0])
        mid_line = True
    if keep == "tail":
        kept.reverse()
    body = "".join(kept)
    cut_lines = len(lines) - len(kept) + (1 if mid_line else 0)
    trimmed = Trimmed("", cut_lines, len(text) - len(body), mid_line)
    note = trimmed.note
    if len(body) + len(note) + 1 > max_chars:
        return Trimmed(body, cut_lines, len(text) - len(body), mid_line)
    if keep == "head":
        joined = body + ("" if not body or body.endswith("\n") else "\n") + note + "\n"
    else:
        joined = note + "\n" + body
    return Trimmed(joined, cut_lines, len(text) - len(body), mid_line)


def _cut_line(line: str, budget: int, keep: str) -> str:
    cut = budget if keep == "head" else len(line) - budget
    for match in PLACEHOLDER.finditer(line):
        if match.start() < cut < match.end():
            cut = match.start() if keep == "head" else match.end()
    # Between two words where the line has a space: a token cut in part no longer looks
    # like one, so text trimmed before redaction would keep what was left of it.
    body = line.rstrip("\n")
    if keep == "head":
        space = max(body.rfind(" ", 0, cut), body.rfind("\t", 0, cut))
        cut = space if space > 0 else cut
    else:
        spaces = [at for at in (body.find(" ", cut), body.find("\t", cut)) if at >= 0]
        cut = min(spaces) + 1 if spaces else cut
    return line[:cut] if keep == "head" else line[cut:]
