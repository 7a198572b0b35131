"""Credentials in URLs and request arguments: the password of `scheme://user:PASSWORD@host`
(user and host stay), the password of `curl -u user:PASSWORD`, and the `sig=` of an Azure
SAS query (with `sv=`/`se=`/`sp=` beside it)."""

from __future__ import annotations

import re

from consilium_cli.council.redaction.names import PASSWORD_NAME
from consilium_cli.council.redaction.spans import P_CONTEXT, Span
from consilium_cli.council.redaction.values import is_reference, value_is_secret

_URL_USERINFO = re.compile(r"://([^\s:/?#@'\"<>\[\]]{0,256}):([^\s/'\"<>]{1,512})@")
_CURL_USER = (re.compile(r" -u[ =]?['\"]?([^\s:'\"]{1,256}):([^\s'\"]{1,512})"),
              re.compile(r"--user[ =]['\"]?([^\s:'\"]{1,256}):([^\s'\"]{1,512})"))

_SAS_SIG = re.compile(r"sig=([A-Za-z0-9%+/=_-]{16,})")
_SAS_NEIGHBOUR = re.compile(r"[?&;=](?:sv|se|sp)=")
_URL_SEGMENT_END = re.compile(r"[^\s\"'<>`]*")
_SEGMENT_BREAK = " \t\r\n\"'<>`"
_SAS_REACH = 2048  # how far a query string's other parameters are looked for


def find_url_passwords(text: str) -> list[Span]:
    spans = []
    if "://" in text:
        for match in _URL_USERINFO.finditer(text):
            if not is_reference(match.group(2)):
                spans.append(Span(match.start(2), match.end(2), "url-password", P_CONTEXT))
    for pattern in _CURL_USER:
        for match in pattern.finditer(text):
            if not is_reference(match.group(2)):
                spans.append(Span(match.start(2), match.end(2), "basic-auth", P_CONTEXT))
    return spans


def find_azure_sas(text: str) -> list[Span]:
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
        if value_is_secret(match.group(1), "quoted", PASSWORD_NAME):
            spans.append(Span(match.start(1), end, "azure-sas", P_CONTEXT))
    return spans
