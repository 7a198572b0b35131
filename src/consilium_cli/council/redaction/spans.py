"""What every rule returns: spans of a text, with a kind and a priority, and placeholders."""

from __future__ import annotations

import re
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
