"""Values near a secret-like name in any syntax (prose, `aws configure set ...`, headers,
Russian "пароль"/"токен"/"секрет"/"ключ"): a high-entropy string (16+ characters, letters
and digits, > 3 bits per character, not a UUID or a prefixed hash), a Bearer credential, or,
after a password/secret/token word, a 6+ character value that is not a plain word or
identifier."""

from __future__ import annotations

import math
import re
from collections import Counter

from consilium_cli.council.redaction.names import PROSE_HEADS, Name
from consilium_cli.council.redaction.spans import P_NEAR, Span
from consilium_cli.council.redaction.values import (
    AWS_SECRET,
    CODE_CALL,
    DIGIT,
    PLACEHOLDER_VALUE,
    PUBLIC_VALUE,
    VERSION,
    is_path,
    is_reference,
)

_RUSSIAN_WORD = re.compile(r"[а-яё]*")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")

_RUSSIAN_NAMES = {
    "парол": Name(True, True, "password", False, False),
    "токен": Name(True, True, "token", False, False),
    "секрет": Name(True, True, "secret", False, False),
    "ключ": Name(False, True, "key", False, False),
}

# Near a name: a short gap, optional filler words, then the candidate value.
_NEAR_GAP = re.compile(
    r"[\"'`\]]{0,2}[ \t]*(?:(?::=|=>|->|==|[:=])[ \t]*)?[\"'`(]?[ \t]*"
    r"(?:(?:is|was|are|equals|of|to|as|now|value|set|это|был|была|—)[ \t]+){0,2}[\"'`(]?")
# Parentheses may be part of a password; commas, semicolons and braces end one in prose
# and in code.
_NEAR_TOKEN = re.compile(r"[^\s\"'`<>,;{}\[\]]{6,400}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HASH_PREFIX = re.compile(r"(?i)(?:sha\d*|md5|h1|blake2b?|crc32)[:-]")
_ALPHA = re.compile(r"[A-Za-z]")
_DOLLAR_QUOTED = re.compile(r"(\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)(.+)\1")  # $tag$...$tag$ (SQL)
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Words and identifiers (required, Password, getToken, TBD, secret-sauce, api_key): not a
# password even after "password is".
_WORDISH = re.compile(r"[A-Z]?[a-z]+(?:[A-Z][a-z]+)*|[a-z]+(?:[-_][a-z]+)*|[A-Z]+(?:_[A-Z]+)*")


def _strip_closing(value: str) -> str:
    """Drop closing brackets that end a sentence or a call around the value, not its own."""
    while value and value[-1] in _CLOSERS and \
            value.count(_CLOSERS[value[-1]]) < value.count(value[-1]):
        value = value[:-1].rstrip(".,;:!?")
    return value


def _entropy(value: str) -> float:
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def find_russian_names(text: str, low: str) -> list[Span]:
    """Russian prose: "мой пароль Zx9...", "токен: ...", "ключ API ..."."""
    spans: list[Span] = []
    for stem, name in _RUSSIAN_NAMES.items():
        for match in re.finditer(stem, low):
            end = _RUSSIAN_WORD.match(low, match.end()).end()
            found = near_name(text, end, name)
            if found:
                spans.extend(found)
    return spans


def near_name(text: str, end: int, name: Name) -> list[Span] | None:
    """The value after a name that ends at `end`, judged by how it looks."""
    gap = _NEAR_GAP.match(text, end)
    if gap is None or gap.end() == end:
        return None
    token = _NEAR_TOKEN.match(text, gap.end())
    if token is None:
        return None
    value = _strip_closing(token.group(0).rstrip(".,;:!?"))
    start = token.start()
    quoted = _DOLLAR_QUOTED.fullmatch(value)
    if quoted is not None:  # the quotes are not part of the value
        value, start = quoted.group(2), start + quoted.end(1)
    size = len(value)
    if size < 6 or not _ALPHA.search(value) or is_reference(value) or "://" in value or \
            is_path(value) or PUBLIC_VALUE.match(value) or "[REDACTED:" in value or \
            CODE_CALL.match(value):
        return None
    if size <= 80 and (PLACEHOLDER_VALUE.fullmatch(value) or VERSION.fullmatch(value)):
        return None
    if name.aws_secret and size == 40 and AWS_SECRET.fullmatch(value):
        return [Span(start, start + size, "aws-secret-key", P_NEAR)]
    has_digit = DIGIT.search(value) is not None
    if name.bearer and size >= 8 and (has_digit or not value.isalnum()):
        return [Span(start, start + size, "authorization", P_NEAR)]
    if size >= 16 and has_digit and not _UUID.fullmatch(value) and \
            not _HASH_PREFIX.match(value) and _entropy(value) > 3.0:
        return [Span(start, start + size, "high-entropy", P_NEAR)]
    if name.strict and name.head in PROSE_HEADS and not _WORDISH.fullmatch(value) and \
            not (_DOTTED.fullmatch(value) and not has_digit):
        return [Span(start, start + size, "secret-assignment", P_NEAR)]
    return None
