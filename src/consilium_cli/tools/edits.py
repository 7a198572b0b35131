"""Search/replace edits: text in, new text (or the reasons there is none) out.

Blocks apply in order, each to the text the previous ones produced, and each must match
exactly once. A block that matches nowhere, or more than once, is reported and nothing is
applied. When a block matches nowhere exactly but exactly one place matches with the
whitespace ignored, that match is computed and reported as such (`whitespace`), so the
caller can offer it to a person; it is never taken silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from consilium_cli.tools.plan import EditBlock

MatchStatus = Literal["exact", "whitespace", "missing", "ambiguous"]


@dataclass(frozen=True)
class BlockMatch:
    index: int
    status: MatchStatus
    count: int = 0
    line: int = 0
    end_line: int = 0
    found: str = ""

    def describe(self) -> str:
        n = self.index + 1
        if self.status == "exact":
            return f"block {n}: matches once at line {self.line}"
        if self.status == "whitespace":
            return (f"block {n}: no exact match; lines {self.line}-{self.end_line} match "
                    "only when whitespace is ignored")
        if self.status == "ambiguous":
            return f"block {n}: the search text occurs {self.count} times (it must occur once)"
        return f"block {n}: the search text does not occur in the file"


@dataclass(frozen=True)
class EditOutcome:
    text: str | None
    matches: tuple[BlockMatch, ...]

    @property
    def ok(self) -> bool:
        """Every block matched exactly once, exactly."""
        return self.text is not None and all(m.status == "exact" for m in self.matches)

    @property
    def needs_offer(self) -> bool:
        """The edit applies only with whitespace-tolerant matches a person must accept."""
        return self.text is not None and any(m.status == "whitespace" for m in self.matches)

    @property
    def failures(self) -> tuple[BlockMatch, ...]:
        return tuple(m for m in self.matches if m.status in ("missing", "ambiguous"))


def count_occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every occurrence, overlapping ones included."""
    found = []
    start = text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _norm(line: str) -> str:
    return " ".join(line.split())


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _whitespace_match(text: str, search: str) -> tuple[int, int] | None:
    """The one span of whole lines equal to `search` when whitespace is ignored."""
    wanted = [_norm(line) for line in search.split("\n")]
    while wanted and not wanted[-1]:
        wanted.pop()
    while wanted and not wanted[0]:
        wanted.pop(0)
    if not wanted:
        return None
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans = []
    for start in range(len(lines) - len(wanted) + 1):
        if all(_norm(lines[start + k]) == wanted[k] for k in range(len(wanted))):
            spans.append((offsets[start], offsets[start + len(wanted)]))
            if len(spans) > 1:
                return None
    return spans[0] if spans else None


def _reindent(found: str, search: str, replace: str) -> str:
    """Shift the replacement by the indentation the file adds to every search line."""
    found_lines = [ln for ln in found.split("\n") if ln.strip()]
    search_lines = [ln for ln in search.split("\n") if ln.strip()]
    if not found_lines or len(found_lines) != len(search_lines):
        return replace
    extra = _leading(found_lines[0])[: max(0, len(_leading(found_lines[0])) -
                                           len(_leading(search_lines[0])))]
    if not extra:
        return replace
    for f, s in zip(found_lines, search_lines):
        if _leading(f) != extra + _leading(s):
            return replace
    return "\n".join(extra + ln if ln.strip() else ln for ln in replace.split("\n"))


def apply_blocks(text: str, blocks: Sequence[EditBlock]) -> EditOutcome:
    """Apply every block or none; see the module docstring."""
    matches: list[BlockMatch] = []
    current = text
    failed = False
    for index, block in enumerate(blocks):
        starts = count_occurrences(current, block.search)
        if len(starts) == 1:
            start = starts[0]
            matches.append(BlockMatch(index, "exact", 1, current.count("\n", 0, start) + 1))
            current = current[:start] + block.replace + current[start + len(block.search):]
            continue
        if len(starts) > 1:
            matches.append(BlockMatch(index, "ambiguous", len(starts)))
            failed = True
            continue
        span = _whitespace_match(current, block.search)
        if span is None:
            matches.append(BlockMatch(index, "missing"))
            failed = True
            continue
        begin, end = span
        found = current[begin:end]
        replacement = _reindent(found, block.search, block.replace)
        if found.endswith("\n") and replacement and not replacement.endswith("\n"):
            replacement += "\n"
        first = current.count("\n", 0, begin) + 1
        last = first + found.rstrip("\n").count("\n")
        matches.append(BlockMatch(index, "whitespace", 1, first, last, found))
        current = current[:begin] + replacement + current[end:]
    return EditOutcome(None if failed else current, tuple(matches))
