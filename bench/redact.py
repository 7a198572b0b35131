"""Redaction benchmark: recall on planted secrets, false positives on look-alikes, speed.

    python bench/redact.py [--seed 0] [--projects 3] [--mb 10] [--show-misses]

Builds the corpus of bench/redact_corpus.py (realistic files with planted secrets of every
kind and look-alike non-secrets), redacts it as one payload, and prints:
- recall: planted secrets of which no part survives (target 100%), overall and per kind;
- false-positive rate: look-alikes that did not survive verbatim (target < 5%);
- throughput on a payload of --mb MiB made of more corpus files (target: 10 MiB under 1 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redact_corpus import HOME, REPO, build_corpus, build_payload, evaluate

from consilium_cli.council.redact import Redactor

MIB = 1024 * 1024


def throughput(mebibytes: float, seed: int, repeats: int = 3) -> tuple[int, float, float, int]:
    """Best wall and CPU seconds of `repeats` runs of one Redactor on one payload (CPU time
    is what to compare on a shared machine, where wall time includes waiting for a core)."""
    payload = build_payload(int(mebibytes * MIB), seed=seed + 1000)
    wall = cpu = float("inf")
    replaced = 0
    for _ in range(repeats):
        redactor = Redactor(repo_root=Path(REPO), home=Path(HOME))
        started, started_cpu = time.perf_counter(), time.process_time()
        result = redactor.redact(payload)
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
        replaced = result.total
    return len(payload.encode("utf-8")), wall, cpu, replaced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--mb", type=float, default=10.0, help="size of the speed payload, MiB")
    parser.add_argument("--show-misses", action="store_true",
                        help="print missed secrets and false positives (shows values)")
    args = parser.parse_args(argv)

    corpus = build_corpus(args.seed, args.projects)
    score = evaluate(corpus)
    total, hits = sum(score.planted.values()), sum(score.caught.values())
    print(f"corpus: seed {args.seed}, {len(corpus.files)} files, {corpus.size / 1024:.0f} KiB, "
          f"{total} planted secrets of {len(score.planted)} kinds, {score.decoys} look-alikes")
    print(f"recall: {hits}/{total} = {score.recall:.1%} (target 100%)")
    print(f"false positives: {len(score.false_positives)}/{score.decoys} = "
          f"{score.false_positive_rate:.1%} (target < 5%)")
    print("per-kind recall:")
    for kind in sorted(score.planted):
        caught, planted = score.caught[kind], score.planted[kind]
        print(f"  {kind:<27} {caught:>4}/{planted:<4} {caught / planted:.0%}")
    categories = Counter(d.category for d in corpus.decoys)
    failed = Counter(d.category for d in score.false_positives)
    print("look-alikes kept: " + ", ".join(
        f"{c} {categories[c] - failed[c]}/{categories[c]}" for c in sorted(categories)))
    if args.show_misses:
        for secret in score.misses:
            print(f"  MISS {secret.file} {secret.kind}: {secret.value[:60]!r}")
        for decoy in score.false_positives:
            print(f"  FP   {decoy.file} {decoy.category}: {decoy.value[:60]!r}")

    size, wall, cpu, replaced = throughput(args.mb, args.seed)
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"throughput: {size / MIB:.1f} MiB ({replaced} replacements): wall {wall:.3f} s = "
          f"{size / MIB / wall:.1f} MiB/s, CPU {cpu:.3f} s = {size / MIB / cpu:.1f} MiB/s "
          f"(target: 10 MiB under 1 s; best of 3; {os.cpu_count()} cores{load})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
