"""Private key material: PEM blocks, PuTTY key files and the private members of a JSON
Web Key.

A PEM block is taken whole from BEGIN to END, every line, for every key type (RSA, EC, DSA,
OPENSSH, ENCRYPTED, PKCS#8, PGP); a block without its END line is taken up to the last line
that still looks like key material. In a JSON Web Key (an object with `kty`) the members
`d`, `p`, `q`, `dp`, `dq`, `qi` and `k` are private; `n`, `e`, `x`, `y` are public and stay.
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

_JWK_KTY = re.compile(r"kty\\?[\"']?[ \t]*:")
_JWK_PRIVATE = re.compile(r"(?<![\w-])(?:\\?[\"'])?(?:dp|dq|qi|d|p|q|k)(?:\\?[\"'])?[ \t]*:"
                          r"[ \t]*\\?[\"']([A-Za-z0-9_+/=-]{8,})\\?[\"']")
# Plain JSON first: a pattern that starts with a literal is quick to run over the object.
_JWK_PRIVATE_JSON = re.compile(r"\"(?:dp|dq|qi|d|p|q|k)\"[ \t]*:[ \t]*\"([A-Za-z0-9_+/=-]{8,})\"")
_JWK_REACH = 65536  # how far an object's braces are looked for around "kty"


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
    """The private members of a JSON Web Key (an object with "kty"): d, p, q, dp, dq, qi,
    and k of a symmetric key. The public ones (n, e, x, y) stay."""
    spans: list[Span] = []
    done = -1
    for match in _JWK_KTY.finditer(text):
        at = match.start()
        if at and (text[at - 1].isalnum() or text[at - 1] == "_"):
            continue
        opening = text.rfind("{", max(0, at - _JWK_REACH), at)
        closing = text.find("}", at, at + _JWK_REACH)
        if opening < 0 or closing < 0 or opening < done:
            continue
        done = closing
        members = list(_JWK_PRIVATE_JSON.finditer(text, opening, closing)) or \
            _JWK_PRIVATE.finditer(text, opening, closing)
        for member in members:
            spans.append(Span(member.start(1), member.end(1), "jwk-private-key", P_CONTEXT))
    return spans
