"""The password field of a `.pgpass` line (`host:port:database:user:PASSWORD`), alone on
its line or quoted on a line that names .pgpass."""

from __future__ import annotations

import re

from consilium_cli.council.redaction.names import PASSWORD_NAME
from consilium_cli.council.redaction.spans import P_CONTEXT, Span
from consilium_cli.council.redaction.text import line_bounds
from consilium_cli.council.redaction.values import value_is_secret

# host:port:database:username:password, `*` for any field, `\:` for a colon.
_PGPASS_FIELD = r"(?:[^\s:\\'\"]|\\.)+"
_PGPASS_HIT = re.compile(rf":(?:\*|\d{{1,5}}):{_PGPASS_FIELD}:{_PGPASS_FIELD}:")
_PGPASS_HEAD = rf"(?P<host>{_PGPASS_FIELD}):(?:\*|\d{{1,5}}):{_PGPASS_FIELD}:{_PGPASS_FIELD}:"
_PGPASS_LINE = re.compile(r"[ \t]*[+-]?[ \t]*" + _PGPASS_HEAD +
                          r"(?P<pw>(?:[^\n:\\]|\\.)+?)[ \t\r]*")
_PGPASS_QUOTED = re.compile(r"(?P<q>[\"'])" + _PGPASS_HEAD + r"(?P<pw>(?:[^\n:\\\"']|\\.)+)(?P=q)")


def find_pgpass(text: str) -> list[Span]:
    """A .pgpass line (`host:port:db:user:password`, alone on its line or quoted on a line
    that names .pgpass): the password."""
    spans: list[Span] = []
    done = -1
    for hit in _PGPASS_HIT.finditer(text):
        if hit.start() < done:
            continue
        line_start, line_end = line_bounds(text, hit.start())
        done = line_end
        match = _PGPASS_LINE.fullmatch(text, line_start, line_end)
        if match is not None:
            found = [match]
        elif "pgpass" in text[line_start:line_end].lower():
            found = list(_PGPASS_QUOTED.finditer(text, line_start, line_end))
        else:
            continue
        for entry in found:
            host = entry.group("host")
            if (host == "*" or any(c.isalpha() or c in "./[" for c in host)) and \
                    value_is_secret(entry.group("pw"), "quoted", PASSWORD_NAME):
                spans.append(Span(entry.start("pw"), entry.end("pw"), "pgpass", P_CONTEXT))
    return spans
