"""Every detector, in the order they are applied: the candidate spans of a text."""

from __future__ import annotations

from consilium_cli.council.redaction.assignments import find_named_values
from consilium_cli.council.redaction.commands import find_command_passwords
from consilium_cli.council.redaction.keys import find_jwk_private, find_private_keys
from consilium_cli.council.redaction.near import find_russian_names
from consilium_cli.council.redaction.pgpass import find_pgpass
from consilium_cli.council.redaction.spans import Span
from consilium_cli.council.redaction.sql import find_sql_passwords
from consilium_cli.council.redaction.text import lowered
from consilium_cli.council.redaction.tokens import find_tokens
from consilium_cli.council.redaction.urls import find_azure_sas, find_url_passwords


def find_secrets(text: str) -> list[Span]:
    """Every candidate span of every rule (they may overlap; see `resolve`)."""
    spans = find_private_keys(text)
    spans += find_tokens(text)
    spans += find_url_passwords(text)
    spans += find_command_passwords(text)
    spans += find_pgpass(text)
    spans += find_azure_sas(text)
    spans += find_jwk_private(text)
    low = lowered(text)
    spans += find_sql_passwords(text, low)
    spans += find_named_values(text, low)
    if not text.isascii():
        spans += find_russian_names(text, low)
    return spans
