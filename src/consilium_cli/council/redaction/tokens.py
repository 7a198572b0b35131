"""Token formats told by a known prefix, found anywhere in a text.

AWS access key ids (AKIA/ASIA/ABIA/ACCA), GitHub classic (ghp_, gho_, ghu_, ghs_, ghr_) and
fine-grained (github_pat_), GitLab (glpat- and the other gl*- prefixes), Slack tokens
(xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xapp-) and webhook paths, OpenAI (sk-, sk-proj-,
sk-svcacct-, sk-admin-), Anthropic (sk-ant-), Stripe secret and restricted keys (sk_live_,
sk_test_, rk_live_, rk_test_) and webhook secrets (whsec_), Google API keys (AIza) and OAuth
secrets/tokens (GOCSPX-, ya29.), Hugging Face (hf_), npm (npm_), PyPI (pypi-), SendGrid
(SG.), JWTs, age secret keys. Stripe publishable keys (pk_live_, pk_test_) are public by
design (they ship in web pages), so they are kept.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from consilium_cli.council.redaction.spans import P_TOKEN, Span


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

_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)
_HEX_DIGITS = frozenset(string.hexdigits)


def _boundary_ok(text: str, start: int) -> bool:
    """Nothing word-like right before a token: a start, a separator, an escape (`\\n`,
    `%3D`) all count as a boundary."""
    if start == 0 or text[start - 1] not in _ASCII_ALNUM:
        return True
    if start >= 2 and text[start - 2] == "\\":
        return True
    return start >= 3 and text[start - 3] == "%" and text[start - 2] in _HEX_DIGITS


def find_tokens(text: str) -> list[Span]:
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
