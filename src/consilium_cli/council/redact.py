"""Redaction of everything that leaves the machine (the Director's payload): the public API.

The rules, and how they fit together, live in the package `council/redaction/` (its
`__init__` has the map).
"""

from __future__ import annotations

from consilium_cli.council.redaction.kinds import KINDS
from consilium_cli.council.redaction.redactor import Redacted, RedactionRules, Redactor, redact
from consilium_cli.council.redaction.spans import PLACEHOLDER
from consilium_cli.council.redaction.trim import Trimmed, trim_to_budget

__all__ = ["KINDS", "PLACEHOLDER", "Redacted", "RedactionRules", "Redactor", "Trimmed",
           "redact", "trim_to_budget"]
