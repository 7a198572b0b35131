"""The benchmark corpus: every planted secret is caught, look-alikes survive (quality only;
speed is measured by bench/redact.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

CORPUS_FILE = Path(__file__).resolve().parents[2] / "bench" / "redact_corpus.py"


@pytest.fixture(scope="module")
def corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redact_corpus", CORPUS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["redact_corpus"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recall_is_total_and_false_positives_are_rare(corpus_module: ModuleType,
                                                      seed: int) -> None:
    corpus = corpus_module.build_corpus(seed)
    assert len(corpus.secrets) >= 200 and len(corpus.decoys) >= 200
    score = corpus_module.evaluate(corpus)
    missed = [f"{s.file} {s.kind}" for s in score.misses]  # never the values
    assert missed == []
    assert score.false_positive_rate < 0.05, [f"{d.file} {d.category}"
                                               for d in score.false_positives]


def test_the_corpus_is_deterministic_and_written_to_a_folder(corpus_module: ModuleType,
                                                             tmp_path: Path) -> None:
    first, second = corpus_module.build_corpus(5), corpus_module.build_corpus(5)
    assert first.files == second.files
    assert first.files != corpus_module.build_corpus(6).files
    corpus_module.write_corpus(first, tmp_path)
    assert (tmp_path / "manifest.json").is_file()
    assert sum(1 for p in tmp_path.rglob("*") if p.is_file()) == len(first.files) + 1
