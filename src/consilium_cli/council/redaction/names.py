"""What a name says: whether `db_password`, `max_tokens` or `sort_key` names a secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
SHELL_PWD = frozenset({"pwd", "oldpwd"})
# Heads after which prose tells a password ("the password is ...", `password s3cret`).
PROSE_HEADS = frozenset({"password", "passwd", "passphrase", "secret", "token", "pass"})


@dataclass(frozen=True)
class Name:
    """What a name says about the value next to it."""

    strict: bool  # the name says the value is a secret
    loose: bool  # a secret-like word is in the name
    head: str  # the secret word the name ends with
    aws_secret: bool
    bearer: bool


@lru_cache(maxsize=8192)
def classify(name: str) -> Name:
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
        return Name(False, loose, "", aws_secret, bearer)
    head = words[head_at]
    tail_ok = all(w in _NEUTRAL_TAIL or w.isdigit() for w in words[head_at + 1:])
    negated = head_at > 0 and words[head_at - 1] in _NEGATING_PREFIX
    strict = tail_ok and not negated and not (len(words) == 1 and head in SHELL_PWD)
    return Name(strict, loose, head, aws_secret, bearer)


# Formats whose secret is told by its place in a command, statement, line or object rather
# than by a name: a value found there is a password whatever it looks like.
PASSWORD_NAME = Name(True, True, "password", False, False)
