"""Assignments whose name says secret: `NAME=value`, `name: value`, `"name": "value"`,
`--name value`, `name=value` in a query string, in .env, shell, YAML, JSON, Python, TOML,
INI, XML and connection strings.

The name decides (see `names.py`): `token_url`, `max_tokens`, `secret_name`, `sort_key`,
`public_key` are not secrets. Values that are references, booleans, version numbers and
obvious placeholders stay (see `values.py`). A name with no assignment falls back to the
value near it (see `near.py`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from consilium_cli.council.redaction.names import PROSE_HEADS, Name, classify
from consilium_cli.council.redaction.near import near_name
from consilium_cli.council.redaction.spans import P_ASSIGN, Span
from consilium_cli.council.redaction.text import LINE_AFTER, line_bounds
from consilium_cli.council.redaction.values import AWS_SECRET, value_is_secret

_KEYWORDS = tuple(re.compile(word) for word in
                  ("secret", "token", "pass", "pwd", "cred", "auth", "key", "bearer"))
_IDENT_TAIL = re.compile(r"[A-Za-z0-9_.-]*")
_MATCH_START = re.Match.start
_IDENT_LEFT = re.compile(r"[A-Za-z0-9_.-]{0,80}")

# name ["']? ]? op : the closing quote of a quoted key or of a subscript, then an operator.
_OP = re.compile(r"(?P<close>[\"'`]?\]?[\"'`]?)[ \t]*"
                 r"(?P<op>:=|=>|===?|!==?|=|:(?![:/\\])|>)[ \t]*")
_ANNOTATION = re.compile(r"[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*)*"
                         r"[ \t]+=(?!=)[ \t]*")
_CONFIG_PREFIX = re.compile(
    r"[ \t+\-#>;*/!]*(?:(?:export|set|setx|ENV|ARG|declare|local|readonly|typeset)[ \t]+"
    r"(?:-[A-Za-z]+[ \t]+)*|\$env:|\$)?")
_AUTH_SCHEME = re.compile(r"(?i:bearer|basic|token|bot|digest|negotiate|apikey|sso-key)"
                          r"[ \t]+")
_BLOCK_INDICATOR = re.compile(r"[|>][-+0-9]*[ \t]*(?:#.*)?$")
_CODE_TOKEN = re.compile(r"[^\s,;)}\]\"'`]+")
_FLAG_TOKEN = re.compile(r"[^\s\"'`]+")
_QUERY_TOKEN = re.compile(r"[^&\s\"'<>]+")
_CONN_TOKEN = re.compile(r"[^;\"'\n]+")
_VALUE_TOKEN = {"flag": _FLAG_TOKEN, "query": _QUERY_TOKEN, "conn": _CONN_TOKEN}
_COMMENT = re.compile(r"[ \t]#")
_QUOTED = {q: re.compile(q + r"((?:[^" + q + r"\\\n]|\\.)*)" + q) for q in ("\"", "'", "`")}


def _keyword_hits(low: str) -> list[int]:
    """Sorted positions of the secret-name keywords (one literal scan each is several
    times faster than one scan for the alternation)."""
    hits: list[int] = []
    for pattern in _KEYWORDS:
        hits.extend(map(_MATCH_START, pattern.finditer(low)))
    hits.sort()
    return hits


def find_named_values(text: str, low: str) -> list[Span]:
    """Values next to names that say secret, token, password, key, auth ..."""
    spans: list[Span] = []
    hits = _keyword_hits(low)
    if not hits:
        return spans
    rev = low[::-1]
    size = len(text)
    ident_left, ident_right = _IDENT_LEFT.match, _IDENT_TAIL.match
    skip_until = -1
    for hit in hits:
        if hit < skip_until:
            continue
        end = ident_right(low, hit).end()
        skip_until = end
        start = hit - (ident_left(rev, size - hit).end() - (size - hit))
        while text[start] in ".-" and start < end:
            start += 1
        while end > start and text[end - 1] in ".-":
            end -= 1
        if end - start > 80 or (start and _inside_blob(text, start)):
            continue
        name = classify(text[start:end])
        if not name.loose:
            continue
        found = _assignment(text, start, end, name) if name.strict else \
            _key_block(text, start, end)
        if found is None:
            found = near_name(text, end, name)
        if found:
            spans.extend(found)
    return spans


def _inside_blob(text: str, start: int) -> bool:
    """Whether a name starts inside base64 data or a URL path (after `/`, or `+` that is
    not a diff marker at the start of a line)."""
    before = text[start - 1]
    if before == "/":
        return True
    return before == "+" and start > 1 and text[start - 2] != "\n"


def _assignment(text: str, start: int, end: int, name: Name) -> list[Span] | None:
    op_match = _OP.match(text, end)
    if op_match is None:
        if name.head in PROSE_HEADS and text[end:end + 1] in (" ", "\t"):
            return _netrc(text, start, end, name)
        return None
    close, op = op_match.group(1, 2)
    if op == ">" and not (start and text[start - 1] == "<"):
        return None
    pos = op_match.end()
    if op == ":":
        annotation = _ANNOTATION.match(text, pos)
        if annotation is not None:
            pos = annotation.end()
    line_start, line_end = line_bounds(text, start)
    if pos >= line_end:
        return None
    kind = "aws-secret-key" if name.aws_secret else "secret-assignment"
    quote_at = pos + 1 if text[pos] in "bBrRuUfF" and pos + 1 < line_end and \
        text[pos + 1] in "\"'`" else pos
    if text[quote_at] in "\"'`":
        return _quoted_value(text, quote_at, line_end, name, kind)
    if op == ":" and _BLOCK_INDICATOR.match(text, pos, line_end):
        return _block_scalar(text, line_start, start, line_end, kind)
    scheme = _AUTH_SCHEME.match(text, pos, line_end)
    if scheme is not None:
        token = _FLAG_TOKEN.match(text, scheme.end(), line_end)
        value = token.group(0).rstrip("\"'`,;)") if token else ""
        if token and value_is_secret(value, "flag", name):
            return [Span(token.start(), token.start() + len(value), "authorization",
                          P_ASSIGN)]
        return None
    prefix = text[line_start:start]
    tight = op == "=" and op_match.group(0) == close + "="
    context = "xml" if op == ">" else _context(prefix, close, tight)
    value = _unquoted_value(text, pos, line_end, context, op)
    if context == "config" and tight and prefix[:1] in (" ", "\t") and \
            value.endswith((",", ")")):
        context = "code"  # an indented keyword argument: f(\n    token=tok,\n)
        value = _unquoted_value(text, pos, line_end, context, op)
    if prefix.endswith(("\"", "'", "`")) and not close and prefix[-1] in value:
        value = value[:value.index(prefix[-1])]  # "PASSWORD=value" inside one string
    value = value.rstrip(" \t\r")
    if context not in ("config", "xml"):
        value = value.rstrip(".")
    if context == "config" and op == ":":
        context = "yaml"
    if not value_is_secret(value, context, name):
        return None
    if name.aws_secret and not AWS_SECRET.fullmatch(value):
        kind = "secret-assignment"
    return [Span(pos, pos + len(value), kind, P_ASSIGN)]


@lru_cache(maxsize=4096)
def _context(prefix: str, close: str, tight: bool) -> str:
    """How the line around a name reads: config line, flag, query string, key or code."""
    stripped = prefix.rstrip("-")
    if stripped != prefix and (not stripped or stripped[-1] in " \t"):
        return "flag"
    if prefix.endswith(("?", "&")):
        return "query"
    if prefix.endswith(("\"", "'", "`")):
        before = prefix[:-1]
        if not close and (_CONFIG_PREFIX.fullmatch(before) or before.endswith((" ", "\t"))):
            return "config"
        return "quoted-key"
    if _CONFIG_PREFIX.fullmatch(prefix):
        return "config"
    if prefix.endswith(";"):
        return "conn"  # Server=db;User Id=sa;Password=...;
    if tight and prefix.endswith((" ", "\t")) and not prefix.rstrip().endswith((",", "(")):
        return "flag"  # shell: `docker run -e TOKEN=abc`, `env TOKEN=abc cmd`
    return "code"


def _unquoted_value(text: str, pos: int, line_end: int, context: str, op: str) -> str:
    if context == "xml":
        return text[pos:line_end].split("<", 1)[0]
    if context == "config":
        value = text[pos:line_end]
        comment = _COMMENT.search(value) if "#" in value else None
        return value if comment is None else value[:comment.start()]
    token = _VALUE_TOKEN.get(context, _CODE_TOKEN).match(text, pos, line_end)
    return token.group(0) if token else ""


def _quoted_value(text: str, quote_at: int, line_end: int, name: Name,
                  kind: str) -> list[Span] | None:
    quote = text[quote_at]
    if text.startswith(quote * 3, quote_at):
        close = text.find(quote * 3, quote_at + 3, quote_at + LINE_AFTER)
        if close < 0:
            return None
        start, end = quote_at + 3, close
    else:
        match = _QUOTED[quote].match(text, quote_at, line_end)
        start = quote_at + 1
        # An unterminated string: everything to the end of the line is the value.
        end = match.end(1) if match else line_end
    value = text[start:end]
    scheme = _AUTH_SCHEME.match(value)
    if scheme is not None and scheme.end() < len(value):
        start += scheme.end()
        value = value[scheme.end():]
        kind = "authorization"
    if not value_is_secret(value, "quoted", name):
        return None
    if kind == "aws-secret-key" and not AWS_SECRET.fullmatch(value):
        kind = "secret-assignment"
    return [Span(start, end, kind, P_ASSIGN)]


def _block_scalar(text: str, line_start: int, name_start: int, line_end: int,
                  kind: str) -> list[Span] | None:
    """A YAML `key: |` block: every following line indented deeper than the key."""
    column = name_start - line_start
    marker = text[line_start] if text[line_start] in "+-" else ""
    pos = line_end + 1
    first = last = -1
    while pos < len(text):
        nxt = text.find("\n", pos)
        nxt = len(text) if nxt < 0 else nxt
        line = text[pos:nxt]
        body = line[1:] if marker and line.startswith(marker) else line
        indent = len(body) - len(body.lstrip(" \t"))
        if body.strip():
            if indent + (1 if marker else 0) <= column:
                break
            if first < 0:
                first = pos + (len(line) - len(body)) + indent
            last = nxt
        pos = nxt + 1
    if first < 0:
        return None
    return [Span(first, last, kind, P_ASSIGN)]


def _key_block(text: str, start: int, end: int) -> list[Span] | None:
    """`key: |` with any secret-like name (a bare `key`, `secrets`): a block of key material."""
    op_match = _OP.match(text, end)
    if op_match is None or op_match.group("op") != ":":
        return None
    line_start, line_end = line_bounds(text, start)
    if not _BLOCK_INDICATOR.match(text, op_match.end(), line_end):
        return None
    return _block_scalar(text, line_start, start, line_end, "secret-assignment")


def _netrc(text: str, start: int, end: int, name: Name) -> list[Span] | None:
    """`machine host login me password s3cret` and `--password s3cret`."""
    if name.head not in ("password", "passwd", "token", "secret", "passphrase", "pass"):
        return None
    line_start, line_end = line_bounds(text, start)
    prefix = text[line_start:start].lstrip()
    is_flag = prefix.endswith("--")
    is_netrc = name.head in ("password", "passwd") and (
        not prefix or prefix.startswith(("machine ", "default ", "login ")))
    if not (is_flag or is_netrc) or end >= line_end or text[end] not in " \t":
        return None
    pos = end
    while pos < line_end and text[pos] in " \t":
        pos += 1
    token = _FLAG_TOKEN.match(text, pos, line_end)
    if token is None or not value_is_secret(token.group(0), "flag", name):
        return None
    return [Span(token.start(), token.end(), "secret-assignment", P_ASSIGN)]
