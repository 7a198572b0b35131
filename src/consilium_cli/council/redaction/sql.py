"""Passwords in SQL statements: `IDENTIFIED BY '...'` and `PASSWORD '...'` inside
CREATE/ALTER USER/ROLE/LOGIN, GRANT or SET PASSWORD (prose that says "identified by" is not
a statement). The literal may be prefixed (`N'...'`, `E'...'`) or dollar-quoted
(`$$...$$`, `$tag$...$tag$`)."""

from __future__ import annotations

import re

from consilium_cli.council.redaction.names import PASSWORD_NAME
from consilium_cli.council.redaction.spans import P_CONTEXT, Span
from consilium_cli.council.redaction.values import value_is_secret

# Statements that set a password; each starts with a literal, which is quick to look for.
_SQL_HEADS = tuple(re.compile(p) for p in (
    r"create\s+(?:user|role|login)\b", r"alter\s+(?:user|role|login)\b", r"grant\s[^;]*?\sto\b",
    r"set\s+password\b", r"connect\s+to\b"))
_SQL_IDENTIFIED = re.compile(r"identified\s+(?:with\s+[\w'\"`]+\s+)?by"
                             r"(?:\s+(?:password|values))?\s+")
# `password = '...'` is an assignment (found by name); these are the SQL-only shapes, and
# T-SQL's `PASSWORD = N'...'` (and `OLD_PASSWORD`), which no assignment reads.
_SQL_PASSWORD = re.compile(r"password(?:\s+for\s+[^\s=;]+\s*=\s*(?:password\s*\(\s*)?"
                           r"|\s*=\s*password\s*\(\s*|\s*=\s*(?=n')|\s+)(?=['\"$]|[ne]')")
_SQL_STRING = {"'": re.compile(r"'((?:[^'\\\n]|''|\\.)*)'"),
               "\"": re.compile(r"\"((?:[^\"\\\n]|\"\"|\\.)*)\"")}
# Oracle's unquoted password is an identifier that ends the clause.
_SQL_BARE = re.compile(r"[A-Za-z][\w$#]*(?=[ \t]*(?:;|\r?\n|$)|[ \t]+(?i:account|default|"
                       r"quota|password|profile|container|temporary|replace|require|with"
                       r"|using)\b)")
_SQL_NOT_BARE = frozenset({"random", "password", "values", "externally", "globally"})
_SQL_LOOKBACK = 512
# A dollar-quoted string (Postgres): `$$...$$` or `$tag$...$tag$`; `$1` is a parameter.
_SQL_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")
_SQL_DOLLAR_REACH = 512


def find_sql_passwords(text: str, low: str) -> list[Span]:
    """`IDENTIFIED BY 'x'` (and Oracle's bare `IDENTIFIED BY x`), `PASSWORD 'x'`,
    `SET PASSWORD FOR u = 'x'`, `PASSWORD('x')` and `[OLD_]PASSWORD = N'x'`, in a
    CREATE/ALTER USER, ROLE or LOGIN, GRANT or SET PASSWORD statement."""
    spans: list[Span] = []
    if "identified" in low:
        for match in _SQL_IDENTIFIED.finditer(low):
            spoken = text.startswith("IDENTIFIED", match.start())
            found = _sql_value(text, low, match.start(), match.end(), bare=True,
                               head_needed=not spoken)
            if found is not None:
                spans.append(found)
    if "password" in low:
        for match in _SQL_PASSWORD.finditer(low):
            start = match.start()
            if start >= 4 and low.startswith("old_", start - 4):
                start -= 4
            if start and (low[start - 1].isalnum() or low[start - 1] in "_\"'`-."):
                continue
            found = _sql_value(text, low, start, match.end(), bare=False, head_needed=True)
            if found is not None:
                spans.append(found)
    return spans


def _sql_value(text: str, low: str, keyword: int, pos: int, *, bare: bool,
               head_needed: bool) -> Span | None:
    if head_needed:
        since = max(0, keyword - _SQL_LOOKBACK)
        since = max(since, low.rfind(";", since, keyword) + 1)
        if not any(head.search(low, since, pos) for head in _SQL_HEADS):
            return None
    quote = text[pos:pos + 1]
    if quote in ("N", "n", "E", "e") and text.startswith("'", pos + 1):
        quote, pos = "'", pos + 1  # N'national' or E'with \\ escapes'
    if quote == "$":
        tag = _SQL_DOLLAR.match(text, pos)
        if tag is None:
            return None
        start = tag.end()
        end = text.find(tag.group(0), start, start + _SQL_DOLLAR_REACH)
        if end < 0 or text.find("\n", start, end) >= 0:
            return None
    elif quote in _SQL_STRING:
        literal = _SQL_STRING[quote].match(text, pos)
        if literal is None:
            return None
        start, end = literal.span(1)
    elif bare:
        word = _SQL_BARE.match(text, pos)
        if word is None or word.group(0).lower() in _SQL_NOT_BARE:
            return None
        start, end = word.span()
    else:
        return None
    if not value_is_secret(text[start:end], "quoted", PASSWORD_NAME):
        return None
    return Span(start, end, "sql-password", P_CONTEXT)
