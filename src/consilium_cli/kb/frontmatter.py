"""A small, strict front matter parser: the subset of YAML that kb/STANDARDS.md documents.

Knowledge files start with a block between two `---` lines holding `key: value` lines.
A value is a plain string to the end of the line, a quoted string ('...' or "..."), an
inline list (`[a, b, "c, d"]`) or a block list (`- item` lines indented under `key:`).
Comments (`# ...` lines) and blank lines are allowed. Everything else (nesting, anchors,
multi-line strings, flow maps) is an error with its line number: YAML's implicit typing
(`no` becoming false, dates becoming objects) never applies, so a value is what it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE = "---"
_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:(?:\s+(.*?))?\s*$")
# Characters that start YAML syntax this parser does not accept in a plain value.
_YAML_SIGILS = ("{", "&", "*", "!", "|", ">", "%", "@", "`")


class FrontMatterSyntaxError(Exception):
    """The front matter is not in the documented subset; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Field:
    value: str | tuple[str, ...]
    line: int


@dataclass(frozen=True)
class FrontMatter:
    fields: dict[str, Field]
    close_line: int   # the line of the closing `---`
    body_start: int   # index (0-based) of the first body line


def _unquote(raw: str, line: int) -> str:
    quote = raw[0]
    if len(raw) < 2 or not raw.endswith(quote):
        raise FrontMatterSyntaxError(line, f"unterminated quoted string: {raw}")
    inner = raw[1:-1]
    if quote in inner:
        raise FrontMatterSyntaxError(
            line, f"a {quote}-quoted string cannot contain {quote}; use the other quote")
    return inner


def _scalar(raw: str, line: int) -> str:
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        return _unquote(raw, line)
    if raw.startswith(_YAML_SIGILS):
        raise FrontMatterSyntaxError(
            line, f"unsupported YAML syntax {raw[0]!r}: put the value in quotes")
    if ": " in raw or raw.endswith(":"):
        raise FrontMatterSyntaxError(line, "a value containing ': ' must be quoted")
    if " #" in raw:
        raise FrontMatterSyntaxError(line, "a value containing ' #' must be quoted")
    return raw


def _split_inline_list(inner: str, line: int) -> list[str]:
    items: list[str] = []
    current = ""
    quote = ""
    for char in inner:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        elif char in "[]":
            raise FrontMatterSyntaxError(line, "nested lists are not supported")
        else:
            current += char
    if quote:
        raise FrontMatterSyntaxError(line, "unterminated quoted string in the list")
    if current.strip() or items:
        items.append(current)
    values = []
    for item in items:
        if not item.strip():
            raise FrontMatterSyntaxError(line, "empty item in the list (two commas in a row?)")
        values.append(_scalar(item, line))
    return values


def _value(raw: str, line: int) -> str | tuple[str, ...]:
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise FrontMatterSyntaxError(line, "an inline list must end with ']' on the same "
                                               "line")
        return tuple(_split_inline_list(raw[1:-1], line))
    return _scalar(raw, line)


def parse_front_matter(lines: list[str]) -> FrontMatter:
    """Parse the front matter at the top of `lines` (a file's lines, without newlines)."""
    first = lines[0].lstrip("\ufeff").rstrip() if lines else ""
    if first != FENCE:
        raise FrontMatterSyntaxError(1, "no front matter: the file must start with a line "
                                        "'---'")
    fields: dict[str, Field] = {}
    pending: tuple[str, int, list[str]] | None = None  # block list being read

    def finish_pending() -> None:
        nonlocal pending
        if pending is not None:
            key, at, items = pending
            fields[key] = Field(tuple(items) if items else "", at)
            pending = None

    for index in range(1, len(lines)):
        number = index + 1
        text = lines[index].rstrip()
        if text == FENCE:
            finish_pending()
            return FrontMatter(fields, number, index + 1)
        if "\t" in text[: len(text) - len(text.lstrip())]:
            raise FrontMatterSyntaxError(number, "tabs are not allowed for indentation")
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if text[0].isspace():
            if pending is None or not (stripped.startswith("- ") or stripped == "-"):
                raise FrontMatterSyntaxError(
                    number, "unexpected indentation (only '- item' lines of a list are "
                            "indented)")
            item = stripped[1:].strip()
            if not item:
                raise FrontMatterSyntaxError(number, "empty list item")
            pending[2].append(_scalar(item, number))
            continue
        finish_pending()
        match = _KEY_LINE.match(text)
        if match is None:
            raise FrontMatterSyntaxError(number, f"expected 'key: value', got {stripped!r}")
        key, raw = match.group(1), match.group(2)
        if key in fields:
            raise FrontMatterSyntaxError(
                number, f"duplicate key '{key}' (first on line {fields[key].line})")
        if raw is None or raw == "":
            pending = (key, number, [])
            continue
        fields[key] = Field(_value(raw, number), number)
    raise FrontMatterSyntaxError(1, "the front matter is not closed: add a line '---' after "
                                    "it")
