"""The routing targets on the labelled set (quality, not speed: bench/routing.py times it)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from consilium_cli.council.roles import ROLES
from consilium_cli.council.router import route

DATA = Path(__file__).resolve().parent.parent / "data" / "routing_tasks.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def test_the_labelled_set_is_well_formed() -> None:
    rows = _rows()
    assert len(rows) >= 80
    languages = Counter(row["lang"] for row in rows)
    assert set(languages) == {"en", "ru"}
    assert abs(languages["en"] - languages["ru"]) <= len(rows) // 10
    for row in rows:
        assert set(row) <= {"task", "lang", "roles", "files"}
        assert row["task"].strip()
        assert 1 <= len(row["roles"]) <= 3
        assert set(row["roles"]) <= set(ROLES)
        assert all(isinstance(path, str) for path in row.get("files", []))
    for language in ("en", "ru"):
        covered = {role for row in rows if row["lang"] == language for role in row["roles"]}
        assert covered == set(ROLES), language
    assert sum(len(row["roles"]) >= 2 for row in rows) >= 40
    assert sum(len(row["roles"]) == 3 for row in rows) >= 5
    assert sum("files" in row for row in rows) >= 5


def test_the_labelled_set_has_mixed_language_tasks() -> None:
    def has_latin_words(text: str) -> bool:
        return sum(word.isascii() and word.isalpha() and len(word) > 2
                   for word in text.split()) >= 2

    mixed = [row for row in _rows()
             if has_latin_words(row["task"]) and any("а" <= c <= "я" for c in row["task"].lower())]
    assert len(mixed) >= 8


@pytest.mark.parametrize("language", ["en", "ru", None])
def test_routing_targets_hold_on_the_labelled_set(language: str | None) -> None:
    rows = [row for row in _rows() if language is None or row["lang"] == language]
    complete = chosen = 0
    misses = []
    for row in rows:
        routing = route(row["task"], files=row.get("files", []))
        chosen += len(routing.roles)
        if set(row["roles"]) <= set(routing.roles):
            complete += 1
        else:
            misses.append((row["task"], row["roles"], routing.roles))
    assert complete / len(rows) >= 0.98, misses
    assert chosen / len(rows) <= 2.5
