"""Where the secrets are: detectors that return spans of a text, and the rule that
resolves overlapping spans. Placeholders, paths and the public API live in
`council/redact.py`."""

from __future__ import annotations

import math
import re
import string
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

PLACEHOLDER = re.compile(r"\[REDACTED:([a-z0-9-]+)#(\d+)\]")

# Priorities decide overlaps: a specific format beats the generic rule that also matched.
P_BLOCK, P_TOKEN, P_CONTEXT, P_ASSIGN, P_NEAR, P_KNOWN, P_HOME, P_PATH = (
    90, 80, 70, 60, 50, 40, 20, 10)
P_RESERVED = 100

# Values found only through their context (a name, a URL) are also hidden wherever else
# they occur; token formats are found anywhere by their own rule already.
PROPAGATED_KINDS = frozenset({"secret-assignment", "high-entropy", "aws-secret-key",
                              "url-password", "basic-auth", "authorization", "slack-webhook",
                              "cli-password", "pgpass", "sql-password", "azure-sas",
                              "jwk-private-key"})


class Span(NamedTuple):
    start: int
    end: int
    kind: str
    priority: int
    literal: str | None = None  # fixed replacement (home -> "~") instead of a placeholder


# ---------------------------------------------------------------------------- token rules

@dataclass(frozen=True)
class _TokenRule:
    kind: str
    anchors: tuple[str, ...]  # literals of which one must occur for the pattern to match
    pattern: re.Pattern[str]
    group: int = 0
    check: Callable[[str], bool] | None = None


def _openai_ok(value: str) -> bool:
    body = value[3:]
    if body.startswith(("proj-", "svcacct-", "admin-")):
        return True
    return any(c.isdigit() for c in body) and any(c.isalpha() for c in body)


def _mixed_case(value: str) -> bool:
    return any(c.isupper() for c in value[3:]) and any(c.islower() for c in value[3:])


def _rule(kind: str, anchors: str, pattern: str, group: int = 0,
          check: Callable[[str], bool] | None = None) -> _TokenRule:
    return _TokenRule(kind, tuple(anchors.split()), re.compile(pattern), group, check)


_GITLAB_PREFIXES = "glpat- gldt- glrt- glptt- glcbt- glft- glimt- gloas- glsoat- glagent- glwt-"
# Every pattern starts with a literal so the regex engine can skip ahead quickly; the
# word boundary before it is checked in Python (a leading \b would disable that).
_TOKEN_RULES: tuple[_TokenRule, ...] = (
    _rule("aws-access-key-id", "AKIA ASIA ABIA ACCA",
          r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    _rule("github-token", "ghp_ gho_ ghu_ ghs_ ghr_",
          r"gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9])"),
    _rule("github-fine-grained-token", "github_pat_", r"github_pat_[A-Za-z0-9_]{22,251}"),
    _rule("gitlab-token", _GITLAB_PREFIXES,
          r"gl(?:pat|dt|rt|ptt|cbt|ft|imt|oas|soat|agent|wt)-[A-Za-z0-9_-]{20,}"
          r"(?:\.[A-Za-z0-9_-]+)*"),
    _rule("slack-token", "xox", r"xox(?:[abposrce]|e\.xox[bp])-[A-Za-z0-9-]{10,}"),
    _rule("slack-token", "xapp-", r"xapp-\d-[A-Za-z0-9-]{10,}"),
    _rule("slack-webhook", "hooks.slack.com/",
          r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/+-]{10,})", 1),
    _rule("anthropic-key", "sk-ant-", r"sk-ant-[A-Za-z0-9_-]{20,}"),
    _rule("openai-key", "sk-", r"sk-(?!ant-)[A-Za-z0-9_-]{20,}", check=_openai_ok),
    _rule("stripe-key", "sk_live_ sk_test_", r"sk_(?:live|test)_[A-Za-z0-9]{10,}"),
    _rule("stripe-key", "rk_live_ rk_test_", r"rk_(?:live|test)_[A-Za-z0-9]{10,}"),
    _rule("stripe-webhook-secret", "whsec_", r"whsec_[A-Za-z0-9+/=]{20,}"),
    _rule("google-api-key", "AIza", r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    _rule("google-oauth", "GOCSPX-", r"GOCSPX-[A-Za-z0-9_-]{20,}"),
    _rule("google-oauth", "ya29.", r"ya29\.[0-9A-Za-z_-]{20,}"),
    _rule("huggingface-token", "hf_", r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9_])", check=_mixed_case),
    _rule("npm-token", "npm_", r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    _rule("pypi-token", "pypi-AgE", r"pypi-AgE[A-Za-z0-9_-]{50,}"),
    _rule("sendgrid-key", "SG.", r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    # Bounded parts: a base64url blob full of "eyJ" must not be rescanned from each one.
    _rule("jwt", "eyJ", r"eyJ[A-Za-z0-9_-]{5,2048}\.[A-Za-z0-9_-]{5,65536}\.[A-Za-z0-9_-]*"
                       r"(?:\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?"),
    _rule("private-key", "AGE-SECRET-KEY-1", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
)

# ------------------------------------------------------------------------- private keys

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")
_PUTTY_BEGIN = re.compile(r"PuTTY-User-Key-File-\d+:")
_PUTTY_END = re.compile(r"Private-MAC: *[0-9A-Fa-f]+")
# A line of key material once quoting, diff markers and escaped newlines are removed.
_KEY_LINE = re.compile(r"[A-Za-z0-9+/=]*|[A-Za-z][A-Za-z0-9-]*: ?.*")
_KEY_LINE_NOISE = re.compile(r"\\n|\\r|[\s\"'+,|>\\-]")

# ---------------------------------------------------------------------- URLs and flags

_URL_USERINFO = re.compile(r"://([^\s:/?#@'\"<>\[\]]{0,256}):([^\s/'\"<>]{1,512})@")
_CURL_USER = (re.compile(r" -u[ =]?['\"]?([^\s:'\"]{1,256}):([^\s'\"]{1,512})"),
              re.compile(r"--user[ =]['\"]?([^\s:'\"]{1,256}):([^\s'\"]{1,512})"))

# -------------------------------------------------------------------------- assignments

_KEYWORDS = tuple(re.compile(word) for word in
                  ("secret", "token", "pass", "pwd", "cred", "auth", "key", "bearer"))
_IDENT_TAIL = re.compile(r"[A-Za-z0-9_.-]*")
_MATCH_START = re.Match.start
_LINE_BEFORE, _LINE_AFTER = 512, 8192  # how far a name's line is looked at
_RUSSIAN_WORD = re.compile(r"[а-яё]*")
_IDENT_LEFT = re.compile(r"[A-Za-z0-9_.-]{0,80}")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_SECRET_WORDS = frozenset({
    "secret", "token", "password", "passwd", "pwd", "pass", "passphrase", "passcode",
    "credential", "credentials", "creds", "auth", "oauth", "authorization", "apikey",
    "privatekey", "secretkey", "accesskey", "pat"})
_COMPOUND_SUFFIXES = ("password", "passwd", "secret", "token", "apikey", "privatekey",
                      "secretkey", "accesskey", "passphrase", "credentials")
_LOOSE_WORDS = _SECRET_WORDS | {"key", "bearer", "secrets", "passwords", "keys"}
_BENIGN_KEY_QUALIFIERS = frozenset({
    "primary", "foreign", "sort", "partition", "cache", "public", "pub", "publishable",
    "lookup", "dict", "map", "group", "route", "i18n", "translation", "unique", "row",
    "shard", "composite", "index", "hot", "shortcut", "object", "s3", "bucket", "range",
    "label", "field", "column", "record", "item", "entry", "hash", "idempotency",
    "dedup", "dedupe", "cluster", "node", "registry", "list", "child", "parent", "react",
    "sequence", "order", "message", "event", "metric", "query", "dns"})
_NEUTRAL_TAIL = frozenset({
    "value", "val", "base", "hash", "b64", "base64", "hex", "raw", "plain", "plaintext",
    "enc", "encrypted", "str", "string", "bytes", "data", "text", "prod", "production",
    "dev", "development", "test", "staging", "stage", "live", "local", "new", "old",
    "current", "main", "primary", "secondary", "backup", "override", "default",
    "confirmation", "confirm", "again", "repeat", "v"})
_NEGATING_PREFIX = frozenset({
    "max", "min", "num", "n", "count", "total", "is", "has", "show", "hide", "use",
    "enable", "disable", "require", "no", "allow", "len", "length"})
_SHELL_PWD = frozenset({"pwd", "oldpwd"})


@dataclass(frozen=True)
class _Name:
    strict: bool  # the name says the value is a secret
    loose: bool  # a secret-like word is in the name
    head: str  # the secret word the name ends with
    aws_secret: bool
    bearer: bool


@lru_cache(maxsize=8192)
def _classify(name: str) -> _Name:
    words = [w.lower() for w in _WORDS.findall(name)]
    loose = any(w in _LOOSE_WORDS or w.endswith(_COMPOUND_SUFFIXES) for w in words)
    aws_secret = "secret" in words and ("aws" in words or "access" in words)
    bearer = any(w in ("bearer", "authorization") for w in words)
    head_at = -1
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if word in _SECRET_WORDS or word.endswith(_COMPOUND_SUFFIXES):
            head_at = i
            break
        if word == "key" and i > 0 and words[i - 1] not in _BENIGN_KEY_QUALIFIERS:
            head_at = i
            break
    if head_at < 0:
        return _Name(False, loose, "", aws_secret, bearer)
    head = words[head_at]
    tail_ok = all(w in _NEUTRAL_TAIL or w.isdigit() for w in words[head_at + 1:])
    negated = head_at > 0 and words[head_at - 1] in _NEGATING_PREFIX
    strict = tail_ok and not negated and not (len(words) == 1 and head in _SHELL_PWD)
    return _Name(strict, loose, head, aws_secret, bearer)


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

_NON_VALUES = frozenset({
    "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "undefined", "~",
    "required", "optional", "empty", "example", "sample", "dummy", "fake", "placeholder",
    "redacted", "tbd", "todo", "fixme", "changeit", "string", "str", "bytes", "int",
    "number", "bool", "boolean", "any", "secretstr", "text", "varchar", "char", "uuid",
    "object", "unknown", "hidden", "masked", "secret", "password", "token", "bearer", "basic",
    "bot", "digest"})
_REFERENCE_HINT = re.compile(r"[$%{<`]")
_REFERENCE_PARTS = re.compile(
    r"\$\{\{.*?\}\}|\{\{.*?\}\}|\$\{[^}\n]*\}|\$\([^)\n]*\)|\$[A-Za-z_]\w*|%\(\w+\)[sd]|%[sd]"
    r"|\{[A-Za-z_][\w.\[\]'\"]*\}|\{\}|<[^<>\n]{1,60}>|`[^`\n]*`"
    r"|(?i:bearer|basic|token|bot)\b")
_PLACEHOLDER_VALUE = re.compile(
    r"(?i)(?:your|my|insert|enter|put|paste|replace|add)[-_ .](?:[a-z0-9]+[-_ .])*?"
    r"(?:api|key|token|secret|password|pass|pwd|credentials?|here|value|own|id|name|user"
    r"|webhook|url|dsn)(?:[-_ .][a-z0-9]+)*"
    r"|[a-z0-9_ .-]*[-_ ](?:here|goes[-_ ]here)|x{3,}|\*{3,}|\.{3,}|•{3,}|#{3,}|_{3,}|-{3,}"
    r"|(?:sk|pk|rk)[-_](?:live|test)?[-_]?x{3,}|change[-_]?me[-_]?(?:please)?")
_VERSION = re.compile(r"[\^~<>=v ]*\d+(?:\.\d+){1,3}(?:[-+.][\w.-]+)?(?:[ ,|]+[\^~<>=]*[\d.]+)*")
_CODE_CALL = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)*[(\[]")
_KEYWORD_IN = re.compile(r"secret|token|pass|pwd|cred|auth|key")
_YAML_TAG = re.compile(r"!\w+\s+[\w.:-]+")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_PASSED_ON = re.compile(r"[A-Za-z_][\w.]*")
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?[/\\]|[A-Za-z]:[/\\]")

_RUSSIAN_NAMES = {
    "парол": _Name(True, True, "password", False, False),
    "токен": _Name(True, True, "token", False, False),
    "секрет": _Name(True, True, "secret", False, False),
    "ключ": _Name(False, True, "key", False, False),
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
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
_ALNUM = re.compile(r"[A-Za-z0-9]")
_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_HEX_DIGITS = frozenset(string.hexdigits)
_ESCAPES = re.compile(r"\\[nrt]")
_DIGIT = re.compile(r"[0-9]")
_ALPHA = re.compile(r"[A-Za-z]")
_PROSE_HEADS = frozenset({"password", "passwd", "passphrase", "secret", "token", "pass"})
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Words and identifiers (required, Password, getToken, TBD, secret-sauce, api_key): not a
# password even after "password is".
_WORDISH = re.compile(r"[A-Z]?[a-z]+(?:[A-Z][a-z]+)*|[a-z]+(?:[-_][a-z]+)*|[A-Z]+(?:_[A-Z]+)*")
_SYMBOL = re.compile(r"[^A-Za-z0-9_.-]")
# Public by design: Stripe publishable keys, SSH public keys, certificates.
_PUBLIC_VALUE = re.compile(r"pk_(?:live|test)_|(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-\S+|"
                           r"sk-ssh-\S+) AAAA|-----BEGIN (?:PUBLIC KEY|CERTIFICATE)")

# --------------------------------------------------------------------------- detectors

def find_secrets(text: str) -> list[Span]:
    """Every candidate span of every rule (they may overlap; see `resolve`)."""
    spans = _private_keys(text)
    spans += _tokens(text)
    spans += _url_passwords(text)
    spans += _command_passwords(text)
    spans += _pgpass(text)
    spans += _azure_sas(text)
    spans += _jwk_private(text)
    low = _lowered(text)
    spans += _sql_passwords(text, low)
    spans += _named_values(text, low)
    if not text.isascii():
        spans += _russian_names(text, low)
    return spans


def _boundary_ok(text: str, start: int) -> bool:
    """Nothing word-like right before a token: a start, a separator, an escape (`\\n`,
    `%3D`) all count as a boundary."""
    if start == 0 or text[start - 1] not in _ASCII_ALNUM:
        return True
    if start >= 2 and text[start - 2] == "\\":
        return True
    return start >= 3 and text[start - 3] == "%" and text[start - 2] in _HEX_DIGITS


def _tokens(text: str) -> list[Span]:
    spans = []
    for rule in _TOKEN_RULES:
        if not any(anchor in text for anchor in rule.anchors):
            continue
        for match in rule.pattern.finditer(text):
            if not _boundary_ok(text, match.start()):
                continue
            if rule.check is not None and not rule.check(match.group(0)):
                continue
            start, end = match.span(rule.group)
            spans.append(Span(start, end, rule.kind, P_TOKEN))
    return spans


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


def _private_keys(text: str) -> list[Span]:
    spans = []
    if "-----BEGIN" in text:
        spans += _block_spans(text, _PEM_BEGIN, _PEM_END)
    if "PuTTY-User-Key-File-" in text:
        spans += _block_spans(text, _PUTTY_BEGIN, _PUTTY_END)
    return spans


def _url_passwords(text: str) -> list[Span]:
    spans = []
    if "://" in text:
        for match in _URL_USERINFO.finditer(text):
            if not _is_reference(match.group(2)):
                spans.append(Span(match.start(2), match.end(2), "url-password", P_CONTEXT))
    for pattern in _CURL_USER:
        for match in pattern.finditer(text):
            if not _is_reference(match.group(2)):
                spans.append(Span(match.start(2), match.end(2), "basic-auth", P_CONTEXT))
    return spans


def _lowered(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two ("İ"): keep offsets aligned by leaving those
    # as they are and lowering every other character.
    return text.translate({ord(c): lc for c in set(text) if len(lc := c.lower()) == 1})


def _keyword_hits(low: str) -> list[int]:
    """Sorted positions of the secret-name keywords (one literal scan each is several
    times faster than one scan for the alternation)."""
    hits: list[int] = []
    for pattern in _KEYWORDS:
        hits.extend(map(_MATCH_START, pattern.finditer(low)))
    hits.sort()
    return hits


def _russian_names(text: str, low: str) -> list[Span]:
    """Russian prose: "мой пароль Zx9...", "токен: ...", "ключ API ..."."""
    spans: list[Span] = []
    for stem, name in _RUSSIAN_NAMES.items():
        for match in re.finditer(stem, low):
            end = _RUSSIAN_WORD.match(low, match.end()).end()
            found = _near_name(text, end, name)
            if found:
                spans.extend(found)
    return spans


def _named_values(text: str, low: str) -> list[Span]:
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
        name = _classify(text[start:end])
        if not name.loose:
            continue
        found = _assignment(text, start, end, name) if name.strict else \
            _key_block(text, start, end)
        if found is None:
            found = _near_name(text, end, name)
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


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    """The line around `pos`, looked for only within a window: in a minified file of one
    long line, scanning to its ends for every name would make redaction quadratic."""
    low = max(0, pos - _LINE_BEFORE)
    newline = text.rfind("\n", low, pos)
    line_start = newline + 1 if newline >= 0 else low
    high = min(len(text), pos + _LINE_AFTER)
    newline = text.find("\n", pos, high)
    return line_start, high if newline < 0 else newline


def _assignment(text: str, start: int, end: int, name: _Name) -> list[Span] | None:
    op_match = _OP.match(text, end)
    if op_match is None:
        if name.head in _PROSE_HEADS and text[end:end + 1] in (" ", "\t"):
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
    line_start, line_end = _line_bounds(text, start)
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
        if token and _value_is_secret(value, "flag", name):
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
    if not _value_is_secret(value, context, name):
        return None
    if name.aws_secret and not _AWS_SECRET.fullmatch(value):
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


def _quoted_value(text: str, quote_at: int, line_end: int, name: _Name,
                  kind: str) -> list[Span] | None:
    quote = text[quote_at]
    if text.startswith(quote * 3, quote_at):
        close = text.find(quote * 3, quote_at + 3, quote_at + _LINE_AFTER)
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
    if not _value_is_secret(value, "quoted", name):
        return None
    if kind == "aws-secret-key" and not _AWS_SECRET.fullmatch(value):
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
    line_start, line_end = _line_bounds(text, start)
    if not _BLOCK_INDICATOR.match(text, op_match.end(), line_end):
        return None
    return _block_scalar(text, line_start, start, line_end, "secret-assignment")


def _netrc(text: str, start: int, end: int, name: _Name) -> list[Span] | None:
    """`machine host login me password s3cret` and `--password s3cret`."""
    if name.head not in ("password", "passwd", "token", "secret", "passphrase", "pass"):
        return None
    line_start, line_end = _line_bounds(text, start)
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
    if token is None or not _value_is_secret(token.group(0), "flag", name):
        return None
    return [Span(token.start(), token.end(), "secret-assignment", P_ASSIGN)]


def _near_name(text: str, end: int, name: _Name) -> list[Span] | None:
    gap = _NEAR_GAP.match(text, end)
    if gap is None or gap.end() == end:
        return None
    token = _NEAR_TOKEN.match(text, gap.end())
    if token is None:
        return None
    value = _strip_closing(token.group(0).rstrip(".,;:!?"))
    size = len(value)
    if size < 6 or not _ALPHA.search(value) or _is_reference(value) or "://" in value or \
            _is_path(value) or _PUBLIC_VALUE.match(value) or "[REDACTED:" in value or \
            _CODE_CALL.match(value):
        return None
    if size <= 80 and (_PLACEHOLDER_VALUE.fullmatch(value) or _VERSION.fullmatch(value)):
        return None
    start = token.start()
    if name.aws_secret and size == 40 and _AWS_SECRET.fullmatch(value):
        return [Span(start, start + size, "aws-secret-key", P_NEAR)]
    has_digit = _DIGIT.search(value) is not None
    if name.bearer and size >= 8 and (has_digit or not value.isalnum()):
        return [Span(start, start + size, "authorization", P_NEAR)]
    if size >= 16 and has_digit and not _UUID.fullmatch(value) and \
            not _HASH_PREFIX.match(value) and _entropy(value) > 3.0:
        return [Span(start, start + size, "high-entropy", P_NEAR)]
    if name.strict and name.head in _PROSE_HEADS and not _WORDISH.fullmatch(value) and \
            not (_DOTTED.fullmatch(value) and not has_digit):
        return [Span(start, start + size, "secret-assignment", P_NEAR)]
    return None


# ------------------------------------------------ commands, SQL, .pgpass, SAS, JWK

# Formats whose secret is told by its place in a command, statement, line or object rather
# than by a name: a value found there is a password whatever it looks like.
_PASSWORD_NAME = _Name(True, True, "password", False, False)
_COMMAND_GLUE = frozenset(string.ascii_letters + string.digits + "_.-+")
_COMMAND_WINDOW = 4096  # how far a command's arguments are looked at
_COMMAND_TAIL = r"(?:\.exe)?(?=[ \t]|[\"']?[ \t]*,)"  # then shell words or an exec array
_COMMANDS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("mysql", "mysql",
     re.compile(r"mysql(?:dump|admin|import|check|show|pump|slap|sh)?" + _COMMAND_TAIL)),
    ("mariadb", "mysql",
     re.compile(r"mariadb(?:-?(?:dump|admin|import|check|show|slap))?" + _COMMAND_TAIL)),
    ("sshpass", "sshpass", re.compile(r"sshpass" + _COMMAND_TAIL)),
    ("redis-cli", "redis", re.compile(r"redis-cli" + _COMMAND_TAIL)),
)
# A gap (a backslash-newline continues the command), then a word or a redirection; anything
# else (| ; & ( ) ` a newline, an unclosed quote) ends the command.
_SHELL_WORD = re.compile(r"(?:[ \t]|\\\r?\n)*(?:(?P<word>(?:[^\s'\"`|;&<>()\\]|\\[^\n]"
                         r"|'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\")+)|[<>]+)")
_ARRAY_START = re.compile(r"[\"']?[ \t]*,[ \t]*")
_ARRAY_SEP = re.compile(r"[ \t]*,[ \t]*")
_ARRAY_ITEM = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'([^'\n]*)'|([^\s,\]'\"]+)")
_SSHPASS_WITH_ARG = frozenset({"-f", "-d", "-P"})  # options that take the next word
# mysql takes any unambiguous prefix of --password, and --password1..3 for more factors.
_MYSQL_LONG_PASSWORD = re.compile(r"--pass(?:w(?:o(?:r(?:d[123]?)?)?)?)?=")
_PASSWORD_OPTION = re.compile(r"-[pa]")  # mysql -pX, sshpass -p, redis-cli -a / --pass
_ARG_BEFORE = frozenset(" \t\n\"',[")

# host:port:database:username:password, `*` for any field, `\:` for a colon.
_PGPASS_FIELD = r"(?:[^\s:\\'\"]|\\.)+"
_PGPASS_HIT = re.compile(rf":(?:\*|\d{{1,5}}):{_PGPASS_FIELD}:{_PGPASS_FIELD}:")
_PGPASS_HEAD = rf"(?P<host>{_PGPASS_FIELD}):(?:\*|\d{{1,5}}):{_PGPASS_FIELD}:{_PGPASS_FIELD}:"
_PGPASS_LINE = re.compile(r"[ \t]*[+-]?[ \t]*" + _PGPASS_HEAD +
                          r"(?P<pw>(?:[^\n:\\]|\\.)+?)[ \t\r]*")
_PGPASS_QUOTED = re.compile(r"(?P<q>[\"'])" + _PGPASS_HEAD + r"(?P<pw>(?:[^\n:\\\"']|\\.)+)(?P=q)")

# Statements that set a password; each starts with a literal, which is quick to look for.
_SQL_HEADS = tuple(re.compile(p) for p in (
    r"create\s+(?:user|role|login)\b", r"alter\s+(?:user|role|login)\b", r"grant\s[^;]*?\sto\b",
    r"set\s+password\b", r"connect\s+to\b"))
_SQL_IDENTIFIED = re.compile(r"identified\s+(?:with\s+[\w'\"`]+\s+)?by"
                             r"(?:\s+(?:password|values))?\s+")
# `password = '...'` is an assignment (found by name); these are the SQL-only shapes.
_SQL_PASSWORD = re.compile(r"password(?:\s+for\s+[^\s=;]+\s*=\s*(?:password\s*\(\s*)?"
                           r"|\s*=\s*password\s*\(\s*|\s+)(?=['\"])")
_SQL_STRING = {"'": re.compile(r"'((?:[^'\\\n]|''|\\.)*)'"),
               "\"": re.compile(r"\"((?:[^\"\\\n]|\"\"|\\.)*)\"")}
# Oracle's unquoted password is an identifier that ends the clause.
_SQL_BARE = re.compile(r"[A-Za-z][\w$#]*(?=[ \t]*(?:;|\r?\n|$)|[ \t]+(?i:account|default|"
                       r"quota|password|profile|container|temporary|replace|require|with"
                       r"|using)\b)")
_SQL_NOT_BARE = frozenset({"random", "password", "values", "externally", "globally"})
_SQL_LOOKBACK = 512

_SAS_SIG = re.compile(r"sig=([A-Za-z0-9%+/=_-]{16,})")
_SAS_NEIGHBOUR = re.compile(r"[?&;=](?:sv|se|sp)=")
_URL_SEGMENT_END = re.compile(r"[^\s\"'<>`]*")
_SEGMENT_BREAK = " \t\r\n\"'<>`"
_SAS_REACH = 2048  # how far a query string's other parameters are looked for

_JWK_KTY = re.compile(r"kty\\?[\"']?[ \t]*:")
_JWK_PRIVATE = re.compile(r"(?<![\w-])(?:\\?[\"'])?(?:dp|dq|qi|d|p|q|k)(?:\\?[\"'])?[ \t]*:"
                          r"[ \t]*\\?[\"']([A-Za-z0-9_+/=-]{8,})\\?[\"']")
# Plain JSON first: a pattern that starts with a literal is quick to run over the object.
_JWK_PRIVATE_JSON = re.compile(r"\"(?:dp|dq|qi|d|p|q|k)\"[ \t]*:[ \t]*\"([A-Za-z0-9_+/=-]{8,})\"")
_JWK_REACH = 65536  # how far an object's braces are looked for around "kty"


def _command_args(text: str, pos: int) -> list[tuple[int, int]]:
    """The arguments after a command name that ends at `pos`, as spans: shell words up to
    the end of the command (quotes kept: see `_unquote`), or the items of an exec array
    (`["mysqladmin", "ping", "-uroot", ...]`)."""
    limit = min(len(text), pos + _COMMAND_WINDOW)
    args: list[tuple[int, int]] = []
    array = _ARRAY_START.match(text, pos, limit)
    if array is not None:
        pos = array.end()
        while len(args) < 64:
            item = _ARRAY_ITEM.match(text, pos, limit)
            if item is None:
                break
            args.append(item.span(item.lastindex or 0))
            sep = _ARRAY_SEP.match(text, item.end(), limit)
            if sep is None:
                break
            pos = sep.end()
        return args
    while len(args) < 64:
        word = _SHELL_WORD.match(text, pos, limit)
        if word is None:
            break
        if word.lastindex:
            args.append(word.span(1))
        pos = word.end()
    return args


def _unquote(text: str, start: int, end: int) -> tuple[int, int]:
    if end - start >= 2 and text[start] in "\"'" and text[end - 1] == text[start] and \
            text.find(text[start], start + 1, end - 1) < 0:
        return start + 1, end - 1
    return start, end


def _mysql_values(text: str, args: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`-pSECRET` and `--password=SECRET`: the value is glued to the option (`-p` alone,
    `-p db` or `--password db` prompt for it)."""
    values = []
    for start, end in args:
        if text[start] in "'\"":
            start, end = _unquote(text, start, end)
        if end - start > 2 and text.startswith("-p", start):
            values.append(_unquote(text, start + 2, end))
        elif text.startswith("--pass", start):
            option = _MYSQL_LONG_PASSWORD.match(text, start, end)
            if option is not None:
                values.append(_unquote(text, option.end(), end))
    return values


def _sshpass_values(text: str, args: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`sshpass -p SECRET` among sshpass's own options (before the command it runs)."""
    i = 0
    while i < len(args):
        start, end = _unquote(text, *args[i])
        word = text[start:end]
        if word == "-p":
            return [_unquote(text, *args[i + 1])] if i + 1 < len(args) else []
        if word.startswith("-p"):
            return [_unquote(text, start + 2, end)]
        if not word.startswith("-"):
            break
        i += 2 if word in _SSHPASS_WITH_ARG else 1
    return []


def _redis_values(text: str, args: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`redis-cli -a SECRET` and `--pass SECRET`."""
    return [_unquote(text, *args[i + 1]) for i in range(len(args) - 1)
            if text[slice(*_unquote(text, *args[i]))] in ("-a", "--pass")]


_TOOL_VALUES: dict[str, Callable[[str, list[tuple[int, int]]], list[tuple[int, int]]]] = {
    "mysql": _mysql_values, "sshpass": _sshpass_values, "redis": _redis_values}


def _command_passwords(text: str) -> list[Span]:
    """Passwords on database and ssh command lines: mysql/mysqldump/mariadb `-pX`,
    `sshpass -p X`, `redis-cli -a X`. One scan finds the options; the command is looked
    for only behind them, on the same (continued) line."""
    spans: list[Span] = []
    done: set[int] = set()
    covered = -1  # the arguments of the commands read so far end here
    for option in _PASSWORD_OPTION.finditer(text):
        at = option.start()
        if at < covered:
            continue
        before = text[at - 1] if at else " "
        if before == "-" and at >= 2:  # --pass
            before = text[at - 2]
        if before not in _ARG_BEFORE:
            continue
        since = _command_line_start(text, at)
        for anchor, tool, pattern in _COMMANDS:
            if text.find(anchor, since, at) < 0:
                continue
            for match in pattern.finditer(text, since, at):
                name_at = match.start()
                if name_at in done or (name_at and text[name_at - 1] in _COMMAND_GLUE):
                    continue
                done.add(name_at)
                args = _command_args(text, match.end())
                if args:
                    covered = max(covered, args[-1][1])
                for start, end in _TOOL_VALUES[tool](text, args):
                    if end > start and \
                            _value_is_secret(text[start:end], "quoted", _PASSWORD_NAME):
                        spans.append(Span(start, end, "cli-password", P_CONTEXT))
    return spans


def _command_line_start(text: str, pos: int) -> int:
    """Where the line holding `pos` starts, going back over backslash-continued lines."""
    low = max(0, pos - _COMMAND_WINDOW)
    start = text.rfind("\n", low, pos) + 1
    while start > low + 1 and (text[start - 2] == "\\" or
                               (text[start - 2] == "\r" and text[start - 3:start - 2] == "\\")):
        start = text.rfind("\n", low, start - 2) + 1
    return max(start, low)


def _pgpass(text: str) -> list[Span]:
    """A .pgpass line (`host:port:db:user:password`, alone on its line or quoted on a line
    that names .pgpass): the password."""
    spans: list[Span] = []
    done = -1
    for hit in _PGPASS_HIT.finditer(text):
        if hit.start() < done:
            continue
        line_start, line_end = _line_bounds(text, hit.start())
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
                    _value_is_secret(entry.group("pw"), "quoted", _PASSWORD_NAME):
                spans.append(Span(entry.start("pw"), entry.end("pw"), "pgpass", P_CONTEXT))
    return spans


def _sql_passwords(text: str, low: str) -> list[Span]:
    """`IDENTIFIED BY 'x'` (and Oracle's bare `IDENTIFIED BY x`), `PASSWORD 'x'`,
    `SET PASSWORD FOR u = 'x'` and `PASSWORD('x')`, in a CREATE/ALTER USER, ROLE or LOGIN,
    GRANT or SET PASSWORD statement."""
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
    if quote in _SQL_STRING:
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
    if not _value_is_secret(text[start:end], "quoted", _PASSWORD_NAME):
        return None
    return Span(start, end, "sql-password", P_CONTEXT)


def _azure_sas(text: str) -> list[Span]:
    """The signature of an Azure shared access signature: `sig=` in a query string that
    also has `sv=`, `se=` or `sp=`."""
    spans: list[Span] = []
    for match in _SAS_SIG.finditer(text):
        start = match.start()
        if start and text[start - 1] not in "?&;= \t\n\"'":
            continue
        since = max(0, start - _SAS_REACH)
        segment = max(since, max(text.rfind(c, since, start) for c in _SEGMENT_BREAK) + 1)
        end = match.end(1)
        rest = _URL_SEGMENT_END.match(text, end, end + _SAS_REACH)
        if not (text.startswith(("sv=", "se=", "sp="), segment) or
                _SAS_NEIGHBOUR.search(text, segment, rest.end() if rest else end)):
            continue
        if _value_is_secret(match.group(1), "quoted", _PASSWORD_NAME):
            spans.append(Span(match.start(1), end, "azure-sas", P_CONTEXT))
    return spans


def _jwk_private(text: str) -> list[Span]:
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


# ------------------------------------------------------------------------- value tests

def _is_path(value: str) -> bool:
    """A filesystem path, not a base64 string that happens to start with a slash."""
    if not _PATH_LIKE.match(value) or "+" in value or "=" in value:
        return False
    return not any(len(part) >= 8 and _DIGIT.search(part) and part.lower() != part and
                   part.upper() != part for part in re.split(r"[/\\]", value))


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


def _is_reference(value: str) -> bool:
    """`${VAR}`, `{{ secrets.X }}`, `%(pw)s`, `<token>` ...: a value that names another."""
    if not _REFERENCE_HINT.search(value):
        return False
    rest = _REFERENCE_PARTS.sub("", value)
    return rest != value and not _ALNUM.search(rest)


def propagates(value: str) -> bool:
    """Whether other occurrences of a found value are hidden too (not short words)."""
    return len(value) >= 8 and not value.isalpha() and "\n" not in value and \
        _ALNUM.search(value) is not None


def _value_is_secret(value: str, context: str, name: _Name) -> bool:
    """Whether a value next to a secret name is a literal secret (not a reference)."""
    value = value.strip()
    size = len(value)
    if size < 3:
        return False
    low = value.lower()
    if low.rstrip(";,") in _NON_VALUES or _is_reference(value) or _PUBLIC_VALUE.match(value):
        return False
    if size <= 80 and (_PLACEHOLDER_VALUE.fullmatch(value) or _VERSION.fullmatch(value)):
        return False
    if "[REDACTED:" in value and PLACEHOLDER.fullmatch(value):
        return False
    identifier = _PASSED_ON.fullmatch(value) is not None
    if context == "code" or context == "quoted-key":
        if identifier and (value.replace("_", "").isalpha() or "." in value):
            return False  # a variable or an attribute
        if _CODE_CALL.match(value):
            return False  # a call or a subscript
    elif context in ("config", "yaml", "flag"):
        if value[0] in "{[":
            return False  # an inline map or list
        # YAML anchors, aliases and tags (`*default_password`, `!Ref DbPassword`).
        if context == "yaml" and (value[0] in "&*" or _YAML_TAG.fullmatch(value)):
            return False
        if _CODE_CALL.match(value):
            return False
        if context != "flag" and identifier and "." in value and not _DIGIT.search(value):
            return False  # settings.API_KEY
    if (name.head == "key" or name.head in _SHELL_PWD) and _is_path(value):
        return False
    # `password=password`, `token=self.token`: a variable passed on.
    return not (identifier and context != "quoted" and _KEYWORD_IN.search(low) and
                _classify(value).loose)


# ------------------------------------------------------------------------------ resolve

def resolve(text: str, candidates: list[Span]) -> list[Span]:
    """Non-overlapping spans; a higher priority wins and a lower one keeps what is left."""
    candidates.sort(key=_by_start)
    accepted: list[Span] = []
    cluster: list[Span] = []
    cluster_end = -1
    for span in candidates:
        if span.start >= cluster_end:
            if len(cluster) == 1:
                accepted.append(cluster[0])
            elif cluster:
                accepted.extend(_resolve_small(text, cluster))
            cluster = [span]
            cluster_end = span.end
        else:
            cluster.append(span)
            if span.end > cluster_end:
                cluster_end = span.end
    if cluster:
        accepted.extend(_resolve_small(text, cluster))
    return accepted


def _resolve_small(text: str, cluster: list[Span]) -> list[Span]:
    if len(cluster) == 1:
        return cluster
    if len(cluster) == 2 and cluster[0][:2] == cluster[1][:2]:
        return [max(cluster, key=_by_priority)]  # one value found by two rules
    return _resolve_cluster(text, cluster)


def _by_start(span: Span) -> tuple[int, int]:
    return span.start, -span.end


def _by_priority(span: Span) -> int:
    return span.priority


def _meaningful(piece: str) -> bool:
    """Whether what a stronger span left of a weaker one still holds secret material
    (not only quotes, separators or an escaped newline)."""
    return len(_ALNUM.findall(_ESCAPES.sub("", piece))) >= 2


def _resolve_cluster(text: str, cluster: list[Span]) -> list[Span]:
    """Overlapping spans, by priority: each keeps the parts no stronger span took."""
    starts: list[int] = []
    ends: list[int] = []  # sorted too: taken spans never overlap
    taken: list[Span] = []
    for span in sorted(cluster, key=lambda s: (-s.priority, s.start, s.start - s.end)):
        i = bisect_right(ends, span.start)
        pieces: list[tuple[int, int]] = []
        pos = span.start
        while i < len(taken) and starts[i] < span.end:
            if starts[i] > pos:
                pieces.append((pos, starts[i]))
            pos = max(pos, ends[i])
            i += 1
        if pos < span.end:
            pieces.append((pos, span.end))
        whole = pieces == [(span.start, span.end)]
        if not whole and (span.literal is not None or not span.kind):
            continue
        for start, end in pieces:
            if whole or _meaningful(text[start:end]):
                at = bisect_right(starts, start)
                starts.insert(at, start)
                ends.insert(at, end)
                taken.insert(at, span._replace(start=start, end=end))
    return taken


