"""Routing quality and speed on the labelled sets (stage 1 only; no model needed).

    python bench/routing.py [--data FILE ...] [--misses]

By default every tests/data/routing_*.jsonl is read: routing_tasks.jsonl (the set the
lexicons were first built on) and the held-out sets written after them (a to e, each written
before the router saw it; a to d were then used for tuning, e has been measured only, and
tests/unit/test_router_quality.py keeps a recall floor for each file). For each file, and
for their union, it prints per language (en, ru, all): recall of required roles (share of
tasks where every required role was chosen; target >= 98%), the share of required roles
chosen and average roles per task (target <= 2.5); then a confusion summary per role for
the union, and the time to route a 1 MB task of three shapes: repeated prose, all-distinct
words (the worst case for stemming) and one 1 MB "word".
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from consilium_cli.council.router import ROLES, Routing, lexicons, route

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


@dataclass
class Tally:
    tasks: int = 0
    complete: int = 0
    roles: int = 0
    required: int = 0
    found: int = 0
    missed: Counter[str] = field(default_factory=Counter)
    extra: Counter[str] = field(default_factory=Counter)

    def add(self, required: set[str], chosen: set[str]) -> None:
        self.tasks += 1
        self.complete += required <= chosen
        self.roles += len(chosen)
        self.required += len(required)
        self.found += len(required & chosen)
        self.missed.update(required - chosen)
        self.extra.update(chosen - required)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def labelled_files() -> list[Path]:
    """Every labelled routing set in tests/data, the original set first."""
    return sorted(DATA.glob("routing_*.jsonl"), key=lambda p: (p.name != "routing_tasks.jsonl",
                                                               p.name))


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    print(title)
    print(f"{'lang':<5} {'tasks':>5} {'recall':>8} {'roles found':>12} {'avg roles':>10}")
    for lang, tally in tallies.items():
        recall = tally.complete / tally.tasks if tally.tasks else 0.0
        found = tally.found / tally.required if tally.required else 0.0
        avg = tally.roles / tally.tasks if tally.tasks else 0.0
        print(f"{lang:<5} {tally.tasks:>5} {recall:>8.1%} {found:>12.1%} {avg:>10.2f}")


def new_tallies() -> dict[str, Tally]:
    return {"en": Tally(), "ru": Tally(), "all": Tally()}


def one_megabyte_task() -> str:
    words = ("the login form shows a stack trace when the password is wrong; "
             "пользователи видят ошибку при входе, проверь тесты и sitemap.xml ")
    return (words * (1_000_000 // len(words) + 1))[:1_000_000]


def distinct_words_task() -> str:
    rng = random.Random(7)
    letters = string.ascii_lowercase
    words = ("pass" + "".join(rng.choices(letters, k=6)) for _ in range(100_000))
    return " ".join(words)[:1_000_000]


def time_route(task: str) -> tuple[float, float, Routing]:
    """Wall and CPU seconds (CPU time is the fairer figure on a busy shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    routing = route(task)
    return time.perf_counter() - wall, time.process_time() - cpu, routing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", default=None,
                        help="labelled files (default: every tests/data/routing_*.jsonl)")
    parser.add_argument("--misses", action="store_true", help="list tasks with a missed role")
    args = parser.parse_args()
    files: list[Path] = args.data or labelled_files()

    lexicons()  # compile once, outside the timings
    tallies = new_tallies()
    stages: Counter[str] = Counter()
    misses: list[tuple[str, dict, Routing]] = []
    count = 0
    start = time.perf_counter()
    for path in files:
        rows = load(path)
        count += len(rows)
        own = new_tallies()
        for row in rows:
            routing = route(row["task"], files=row.get("files", []))
            stages[routing.stage + ("" if routing.confident else " (not confident)")] += 1
            required, chosen = set(row["roles"]), set(routing.roles)
            for key in (row["lang"], "all"):
                tallies[key].add(required, chosen)
                own[key].add(required, chosen)
            if not required <= chosen:
                misses.append((path.name, row, routing))
        print_table(f"routing: {len(rows)} labelled tasks from {path.name}, stage 1 only", own)
        print()
    per_task_ms = (time.perf_counter() - start) / max(count, 1) * 1000

    if len(files) > 1:
        print_table(f"all {len(files)} files together: {count} tasks", tallies)
    print("targets: recall >= 98.0%, avg roles <= 2.50")
    print(f"\nconfusion (all): {'role':<10} {'missed':>7} {'extra':>6}")
    every = tallies["all"]
    for role in ROLES:
        print(f"{'':<17}{role:<10} {every.missed[role]:>7} {every.extra[role]:>6}")
    print("\nstages: " + ", ".join(f"{stage} {n}" for stage, n in stages.items()))
    print(f"average time per labelled task: {per_task_ms:.2f} ms")

    for shape, task in (("prose", one_megabyte_task()), ("distinct words", distinct_words_task()),
                        ("one word", "a" * 1_000_000)):
        wall, cpu, routing = time_route(task)
        print(f"1 MB task ({shape}): {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU "
              f"-> {', '.join(routing.roles)}")

    if args.misses:
        for name, row, got in misses:
            print(f"\nMISSED {sorted(set(row['roles']) - set(got.roles))} ({name}): {row['task']}")
            print(f"  chose {list(got.roles)}: {got.reasons}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
