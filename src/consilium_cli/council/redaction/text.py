"""Text helpers of the rules: lower-casing that keeps offsets, and a name's line within a
window."""

from __future__ import annotations

LINE_BEFORE, LINE_AFTER = 512, 8192  # how far a name's line is looked at


def lowered(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two ("İ"): keep offsets aligned by leaving those
    # as they are and lowering every other character.
    return text.translate({ord(c): lc for c in set(text) if len(lc := c.lower()) == 1})


def line_bounds(text: str, pos: int) -> tuple[int, int]:
    """The line around `pos`, looked for only within a window: in a minified file of one
    long line, scanning to its ends for every name would make redaction quadratic."""
    low = max(0, pos - LINE_BEFORE)
    newline = text.rfind("\n", low, pos)
    line_start = newline + 1 if newline >= 0 else low
    high = min(len(text), pos + LINE_AFTER)
    newline = text.find("\n", pos, high)
    return line_start, high if newline < 0 else newline
