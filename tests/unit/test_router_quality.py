"""The routing targets on the labelled sets (quality, not speed: bench/routing.py times it).

routing_tasks.jsonl is the set the lexicons were first built on; routing_heldout_*.jsonl were
written later, each before the router had seen it (bench/routing.py reports each file). Sets a
to d were then used to tune the lexicons; set e has only been measured, so its floor (set a
little below the measured recall) guards against regressions, not a target reached by tuning.

Sets d and e were labelled by this rubric, written before the sets: a role is required when
- dev: the task asks to change, write, fix or debug code, config, markup, styles, templates,
  tests, CI or migrations (not a pure question, design, audit or test plan);
- security: authentication (login, signup, password reset, 2FA, OAuth, SMS codes; any change
  to an authentication form or flow), access to other users' data, sessions, tokens, cookie
  flags, passwords, secrets, injection / XSS / CSRF / unsafe uploads, encryption, personal
  data, abuse rate limits, vulnerable dependencies;
- qa: tests (write, fix, speed up, flaky, fixtures, coverage, e2e, load, mutation), a test
  plan or test cases, or an explicit request to verify nothing breaks (not every bug fix);
- architect: structure (module, package or service boundaries, layers, circular
  dependencies, background workers and queues, choosing a database, queue, framework or
  rendering model, the data model of a new subsystem; not a local refactor, an index or a
  version bump);
- ux: what users see or do (forms, layout, mobile, styles, accessibility, user-visible
  messages and empty states, flows, dialogs and menus);
- seo: how search engines find, index and show pages (titles and descriptions, Open Graph,
  sitemap, robots.txt, noindex, canonical and duplicate pages, public URL changes and
  redirects, hreflang, structured data, SSR for crawlers, Core Web Vitals, Search Console).
At most three roles, only those central to the task."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from consilium_cli.council.roles import ROLES
from consilium_cli.council.router import route

DATA = Path(__file__).resolve().parent.parent / "data"
ORIGINAL = DATA / "routing_tasks.jsonl"
FILES = sorted(DATA.glob("routing_*.jsonl"))
# Recall floor of each file. Every set the lexicons were tuned on keeps the 98% target.
RECALL_FLOORS = {
    "routing_tasks.jsonl": 0.98,
    "routing_heldout_a.jsonl": 0.98,
    "routing_heldout_b.jsonl": 0.98,
    "routing_heldout_c.jsonl": 0.98,
    "routing_heldout_d.jsonl": 0.97,  # measured 98.8% before tuning on it, 100% after
    "routing_heldout_e.jsonl": 0.85,  # never tuned on: measured 88.3% (en 93.3%, ru 83.3%)
}
UNTUNED = {"routing_heldout_e.jsonl"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _all_rows() -> list[dict]:
    return [row for path in FILES for row in _rows(path)]


def _tuned_rows() -> list[dict]:
    return [row for path in FILES if path.name not in UNTUNED for row in _rows(path)]


def test_the_labelled_sets_are_there() -> None:
    assert ORIGINAL in FILES
    assert {path.name for path in FILES} == set(RECALL_FLOORS)  # a new set needs a floor
    assert len(_rows(ORIGINAL)) >= 80
    assert len(_all_rows()) >= 400


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_labelled_set_is_well_formed(path: Path) -> None:
    rows = _rows(path)
    languages = Counter(row["lang"] for row in rows)
    assert set(languages) == {"en", "ru"}
    assert abs(languages["en"] - languages["ru"]) <= len(rows) // 10
    for row in rows:
        assert set(row) <= {"task", "lang", "roles", "files"}
        assert row["task"].strip()
        assert 1 <= len(row["roles"]) <= 3
        assert len(set(row["roles"])) == len(row["roles"])
        assert set(row["roles"]) <= set(ROLES)
        assert all(isinstance(p, str) for p in row.get("files", []))
    for language in ("en", "ru"):
        covered = {role for row in rows if row["lang"] == language for role in row["roles"]}
        assert covered == set(ROLES), (path.name, language)
    assert sum(len(row["roles"]) >= 2 for row in rows) >= len(rows) // 2
    assert any(len(row["roles"]) == 3 for row in rows)
    assert any("files" in row for row in rows)


def test_no_task_is_labelled_twice() -> None:
    tasks = Counter(row["task"].strip().lower() for row in _all_rows())
    assert [task for task, n in tasks.items() if n > 1] == []


def test_the_labelled_sets_have_mixed_language_tasks() -> None:
    def has_latin_words(text: str) -> bool:
        return sum(word.isascii() and word.isalpha() and len(word) > 2
                   for word in text.split()) >= 2

    mixed = [row for row in _all_rows()
             if has_latin_words(row["task"]) and any("а" <= c <= "я" for c in row["task"].lower())]
    assert len(mixed) >= 20


def _figures(rows: list[dict]) -> tuple[float, float, list[tuple[str, list[str], tuple]]]:
    complete = chosen = 0
    misses = []
    for row in rows:
        routing = route(row["task"], files=row.get("files", []))
        chosen += len(routing.roles)
        if set(row["roles"]) <= set(routing.roles):
            complete += 1
        else:
            misses.append((row["task"], row["roles"], routing.roles))
    return complete / len(rows), chosen / len(rows), misses


@pytest.mark.parametrize("language", ["en", "ru", None])
def test_routing_targets_hold_on_the_tuned_sets(language: str | None) -> None:
    """Every required role chosen in >= 98% of tasks, <= 2.5 roles per task on average."""
    rows = [row for row in _tuned_rows() if language is None or row["lang"] == language]
    recall, average, misses = _figures(rows)
    assert recall >= 0.98, misses
    assert average <= 2.5


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_labelled_set_keeps_its_recall_floor(path: Path) -> None:
    recall, average, misses = _figures(_rows(path))
    assert recall >= RECALL_FLOORS[path.name], misses
    assert average <= 2.5


def test_routing_targets_hold_on_the_original_set() -> None:
    recall, average, misses = _figures(_rows(ORIGINAL))
    assert recall >= 0.98, misses
    assert average <= 2.5
