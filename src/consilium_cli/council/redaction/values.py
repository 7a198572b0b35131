"""Value tests shared by the rules: whether a value next to a secret name is a literal
secret, or a reference (`${VAR}`, `{{ secrets.X }}`), a boolean, a version, a placeholder
(`your-api-key-here`), a variable passed on, a path or a public key."""

from __future__ import annotations

import re

from consilium_cli.council.redaction.names import SHELL_PWD, Name, classify
from consilium_cli.council.redaction.spans import PLACEHOLDER

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
PLACEHOLDER_VALUE = re.compile(
    r"(?i)(?:your|my|insert|enter|put|paste|replace|add)[-_ .](?:[a-z0-9]+[-_ .])*?"
    r"(?:api|key|token|secret|password|pass|pwd|credentials?|here|value|own|id|name|user"
    r"|webhook|url|dsn)(?:[-_ .][a-z0-9]+)*"
    r"|[a-z0-9_ .-]*[-_ ](?:here|goes[-_ ]here)|x{3,}|\*{3,}|\.{3,}|•{3,}|#{3,}|_{3,}|-{3,}"
    r"|(?:sk|pk|rk)[-_](?:live|test)?[-_]?x{3,}|change[-_]?me[-_]?(?:please)?")
VERSION = re.compile(r"[\^~<>=v ]*\d+(?:\.\d+){1,3}(?:[-+.][\w.-]+)?(?:[ ,|]+[\^~<>=]*[\d.]+)*")
CODE_CALL = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)*[(\[]")
_KEYWORD_IN = re.compile(r"secret|token|pass|pwd|cred|auth|key")
_YAML_TAG = re.compile(r"!\w+\s+[\w.:-]+")
_PASSED_ON = re.compile(r"[A-Za-z_][\w.]*")
_PATH_LIKE = re.compile(r"(?:~|\.{1,2})?[/\\]|[A-Za-z]:[/\\]")
AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
_ALNUM = re.compile(r"[A-Za-z0-9]")
DIGIT = re.compile(r"[0-9]")
# Public by design: Stripe publishable keys, SSH public keys, certificates.
PUBLIC_VALUE = re.compile(r"pk_(?:live|test)_|(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-\S+|"
                          r"sk-ssh-\S+) AAAA|-----BEGIN (?:PUBLIC KEY|CERTIFICATE)")


def is_path(value: str) -> bool:
    """A filesystem path, not a base64 string that happens to start with a slash."""
    if not _PATH_LIKE.match(value) or "+" in value or "=" in value:
        return False
    return not any(len(part) >= 8 and DIGIT.search(part) and part.lower() != part and
                   part.upper() != part for part in re.split(r"[/\\]", value))


def is_reference(value: str) -> bool:
    """`${VAR}`, `{{ secrets.X }}`, `%(pw)s`, `<token>` ...: a value that names another."""
    if not _REFERENCE_HINT.search(value):
        return False
    rest = _REFERENCE_PARTS.sub("", value)
    return rest != value and not _ALNUM.search(rest)


def propagates(value: str) -> bool:
    """Whether other occurrences of a found value are hidden too (not short words)."""
    return len(value) >= 8 and not value.isalpha() and "\n" not in value and \
        _ALNUM.search(value) is not None


def value_is_secret(value: str, context: str, name: Name) -> bool:
    """Whether a value next to a secret name is a literal secret (not a reference)."""
    value = value.strip()
    size = len(value)
    if size < 3:
        return False
    low = value.lower()
    if low.rstrip(";,") in _NON_VALUES or is_reference(value) or PUBLIC_VALUE.match(value):
        return False
    if size <= 80 and (PLACEHOLDER_VALUE.fullmatch(value) or VERSION.fullmatch(value)):
        return False
    if "[REDACTED:" in value and PLACEHOLDER.fullmatch(value):
        return False
    identifier = _PASSED_ON.fullmatch(value) is not None
    if context == "code" or context == "quoted-key":
        if identifier and (value.replace("_", "").isalpha() or "." in value):
            return False  # a variable or an attribute
        if CODE_CALL.match(value):
            return False  # a call or a subscript
    elif context in ("config", "yaml", "flag"):
        if value[0] in "{[":
            return False  # an inline map or list
        # YAML anchors, aliases and tags (`*default_password`, `!Ref DbPassword`).
        if context == "yaml" and (value[0] in "&*" or _YAML_TAG.fullmatch(value)):
            return False
        if CODE_CALL.match(value):
            return False
        if context != "flag" and identifier and "." in value and not DIGIT.search(value):
            return False  # settings.API_KEY
    if (name.head == "key" or name.head in SHELL_PWD) and is_path(value):
        return False
    # `password=password`, `token=self.token`: a variable passed on.
    return not (identifier and context != "quoted" and _KEYWORD_IN.search(low) and
                classify(value).loose)
