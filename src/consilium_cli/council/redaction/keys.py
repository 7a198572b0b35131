"""Private key material: PEM blocks, PuTTY key files and the private members of a JSON
Web Key.

A PEM block is taken whole from BEGIN to END, every line, for every key type (RSA, EC, DSA,
OPENSSH, ENCRYPTED, PKCS#8, PGP); a block without its END line is taken up to the last line
that still looks like key material. In a JSON Web Key (an object with `kty`, in JSON, a call's
keywords or a YAML mapping) the members `d`, `p`, `q`, `dp`, `dq`, `qi`, `k` and the `r`, `t`
of other primes are private; `n`, `e`, `x`, `y` are public and stay.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from consilium_cli.council.redaction.spans import P_BLOCK, P_CONTEXT, Span

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_PUTTY_BEGIN = re.compile(r"PuTTY-User-Key-File-\d+:")
_PUTTY_END = re.compile(r"Private-MAC: *[0-9A-Fa-f]+")
# A line of key material once quoting, diff markers and escaped newlines are removed.
_KEY_LINE = re.compile(r"[A-Za-z0-9+/=]*|[A-Za-z][A-Za-z0-9-]*: ?.*")
_KEY_LINE_NOISE = re.compile(r"\\n|\\r|[\s\"'+,|>\\-]")

# `"kty": ...` in JSON or YAML, `kty=...` in a call's keywords (not `kty == ...`).
_JWK_KTY = re.compile(r"kty\\?[\"']?[ \t]*(?::|=(?!=))")
_JWK_PRIVATE = re.compile(r"(?<![\w-])(?:\\?[\"'])?(?:dp|dq|qi|d|p|q|k|r|t)(?:\\?[\"'])?[ \t]*[:=]"
                          r"[ \t]*\\?[\"']([A-Za-z0-9_+/=-]{8,})\\?[\"']")
# Plain JSON first: a pattern that starts with a literal is quick to run over the object.
_JWK_PRIVATE_JSON = re.compile(r"\"(?:dp|dq|qi|d|p|q|k|r|t)\"[ \t]*:[ \t]*"
                               r"\"([A-Za-z0-9_+/=-]{8,})\"")
_JWK_REACH = 65536  # how far an object's brackets are looked for around "kty"
_JWK_NEAR = 2048  # where its opening bracket is looked for first
_JWK_BRACKETS = re.compile(r"[{}()]")
_JWK_OPENER = {"}": "{", ")": "("}
# A YAML mapping: what may stand before a key on its line, and a private member's line.
_YAML_KEY_PREFIX = re.compile(r"[ \t]*(?:-[ \t]+)?")
_YAML_INDENT_REACH = 256  # how far back a YAML key's line start is looked for
_JWK_YAML_MEMBER = re.compile(r"([\"']?)(?:dp|dq|qi|d|p|q|k|r|t)\1[ \t]*:[ \t]*([\"']?)"
                              r"([A-Za-z0-9_+/=-]{8,})\2[ \t]*(?:#.*)?")


def _block_spans(text: str, begin: re.Pattern[str], end_re: re.Pattern[str]) -> list[Span]:
    begins = [m.start() for m in begin.finditer(text)]
    if not begins:
        return []
    ends = [(m.start(), m.end()) for m in end_re.finditer(text)]
    end_starts = [e[0] for e in ends]
    spans = []
    for i, start in enumerate(begins):
        next_begin = begins[i + 1] if i + 1 < len(begins) else len(text) + 1
        j = bisect_right(end_starts, start)
        if j < len(ends) and ends[j][0] < next_begin:
            spans.append(Span(start, ends[j][1], "private-key", P_BLOCK))
        else:
            spans.append(Span(start, _unterminated_block_end(text, start, next_begin),
                               "private-key", P_BLOCK))
    return spans


def _unterminated_block_end(text: str, start: int, limit: int) -> int:
    """The end of a key block whose END line is missing: the last line of key material."""
    line_end = text.find("\n", start)
    if line_end < 0 or line_end >= limit:
        return min(len(text), limit) if line_end < 0 else line_end
    end = line_end
    while end < min(len(text), limit):
        nxt = text.find("\n", end + 1)
        nxt = len(text) if nxt < 0 else nxt
        line = _KEY_LINE_NOISE.sub("", text[end + 1:nxt])
        if not _KEY_LINE.fullmatch(line) or (not line and nxt == end + 1):
            break
        end = nxt
    return end


def find_private_keys(text: str) -> list[Span]:
    spans = []
    if "-----BEGIN" in text:
        spans += _block_spans(text, _PEM_BEGIN, _PEM_END)
    if "PuTTY-User-Key-File-" in text:
        spans += _block_spans(text, _PUTTY_BEGIN, _PUTTY_END)
    return spans


def find_jwk_private(text: str) -> list[Span]:
    """The private members of a JSON Web Key (an object with "kty", in JSON, a call's
    keywords or a YAML mapping): d, p, q, dp, dq, qi, r and t of other primes, and k of a
    symmetric key. The public ones (n, e, x, y) stay."""
    found: dict[int, int] = {}
    low = yaml_done = 0  # what was read already, for objects and for YAML mappings
    for match in _JWK_KTY.finditer(text):
        at = match.start()
        if at < low or (at and (text[at - 1].isalnum() or text[at - 1] == "_")):
            continue
        region, low = _jwk_object(text, at, low)
        if region is not None:
            members = list(_JWK_PRIVATE_JSON.finditer(text, *region)) or \
                _JWK_PRIVATE.finditer(text, *region)
            found.update(member.span(1) for member in members)
        if at >= yaml_done:
            yaml_done = _yaml_members(text, at, yaml_done, found)
    return [Span(start, end, "jwk-private-key", P_CONTEXT) for start, end in found.items()]


def _jwk_object(text: str, at: int, low: int) -> tuple[tuple[int, int] | None, int]:
    """The object around `at`, from the `{` or `(` still open there (looked for after
    `low`) to the bracket that closes it, so that a nested object does not end it early;
    and where the next object may start."""
    opening = -1
    for reach in (_JWK_NEAR, _JWK_REACH):
        start = max(low, at - reach)
        opening = _innermost_open(text, start, at)
        if opening >= 0 or start == low:
            break
    if opening < 0:
        return None, at  # nothing open here is open for a later key either
    closer = "}" if text[opening] == "{" else ")"
    depth = 0
    limit = min(len(text), at + _JWK_REACH)
    for bracket in _JWK_BRACKETS.finditer(text, at, limit):
        char = bracket.group(0)
        if char in "{(":
            depth += 1
        elif depth:
            depth -= 1
        elif char == closer:
            return (opening, bracket.start()), bracket.end()
    return None, limit


def _innermost_open(text: str, start: int, end: int) -> int:
    """The last `{` or `(` between `start` and `end` that is not closed before `end`."""
    open_at: list[int] = []
    for bracket in _JWK_BRACKETS.finditer(text, start, end):
        char = bracket.group(0)
        if char in "{(":
            open_at.append(bracket.start())
        elif open_at and text[open_at[-1]] == _JWK_OPENER[char]:
            open_at.pop()
    return open_at[-1] if open_at else -1


def _yaml_members(text: str, at: int, low: int, found: dict[int, int]) -> int:
    """The private members of the YAML mapping whose `kty` key is at `at`: the keys at
    the same indentation, back to the mapping's start (not before `low`) and on to its end.
    Returns where the lines read end."""
    floor = max(low, at - _YAML_INDENT_REACH)
    line_start = text.rfind("\n", floor, at) + 1
    key = at - 1 if at and text[at - 1] in "\"'" else at
    if (not line_start and floor) or \
            _YAML_KEY_PREFIX.match(text, line_start, key).end() != key:  # type: ignore[union-attr]
        return low
    col = key - line_start
    limit = min(len(text), at + _JWK_REACH)
    line_end = text.find("\n", at, limit)
    line_end = limit if line_end < 0 else line_end
    lines = [(key, line_end)]
    if "-" not in text[line_start:key]:  # not the first key of a list item: look back
        floor = max(low, at - _JWK_REACH)
        end = line_start - 1
        while end > floor:
            start = text.rfind("\n", floor, end) + 1
            if not start and floor:
                break
            role = _yaml_line(text, start, end, col)
            if role in ("member", "first"):
                lines.append((start + col, end))
            if role != "member" and role != "inside":
                break
            end = start - 1
    while line_end < limit:
        start = line_end + 1
        line_end = text.find("\n", start, limit)
        line_end = limit if line_end < 0 else line_end
        role = _yaml_line(text, start, line_end, col)
        if role == "member":
            lines.append((start + col, line_end))
        elif role != "inside":
            line_end = start - 1  # the next mapping may start on that line
            break
    for start, end in lines:
        member = _JWK_YAML_MEMBER.fullmatch(text, start, end - (text[end - 1] == "\r"))
        if member is not None:
            found[member.start(3)] = member.end(3)
    return line_end


def _yaml_line(text: str, start: int, end: int, col: int) -> str:
    """What a line is to a YAML mapping whose keys stand at column `col`: a "member" (a key
    at that column), "first" (a list item whose first key is at that column), "inside"
    (blank, a comment, deeper content, a compact list) or "outside"."""
    line = text[start:end].rstrip("\r")
    body = line.lstrip(" ")
    indent = len(line) - len(body)
    if not body or body.startswith("#") or indent > col or \
            (indent == col and body.startswith("- ")):
        return "inside"
    if indent == col:
        return "member"
    prefix = _YAML_KEY_PREFIX.match(line)
    if prefix is not None and prefix.end() == col and "-" in line[:col]:
        return "first"
    return "outside"
