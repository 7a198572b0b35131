"""Knowledge index speed: indexing throughput and query latency on 20,000 passages.

    python bench/kb.py [--passages 20000] [--queries 200] [--dim 384] [--json]
                       [--embed-model PATH]

Writes synthetic knowledge files (mixed English and Russian, six roles, 20 sections per
document) into a temporary folder and indexes them through the real pipeline (parse,
validate, hash, LanceDB, both full-text indexes). Vectors come from a seeded random
generator, not a model, so the figures measure the index; `--embed-model` adds the
throughput of a real embedding GGUF on a sample of the passages.

Prints: indexing throughput (passages/s) with and without vectors, the time of an
incremental re-index after one edit, and p50/p95 latency of full-text and hybrid
queries (targets: p95 under 50 ms and 100 ms). Hybrid queries use precomputed random
query vectors, so query embedding time is excluded, as the targets specify.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit
from consilium_cli.council.roles import ROLES
from consilium_cli.kb.indexer import collect, index_documents
from consilium_cli.kb.locations import Source
from consilium_cli.kb.retrieve import KnowledgeBase

SECTIONS = 20
EN = ("password storage hashing argon2 bcrypt salt pepper token session cookie csrf xss "
      "injection query parameter validation schema migration index cache latency retry "
      "timeout breaker queue event log metric trace alert test fixture coverage mutation "
      "flaky deterministic contract api version deprecation accessibility contrast focus "
      "keyboard label error message empty state loading sitemap canonical robots hreflang "
      "markup title description heading link redirect secret rotation backup restore "
      "deadline budget ownership boundary coupling module service dependency").split()
RU = ("пароль паролей паролем хранение хеширование соль токен сессия куки инъекция запрос "
      "параметр проверка схема миграция индекс кэш задержка повтор таймаут очередь событие "
      "журнал метрика трассировка тест тестов покрытие контракт версия доступность контраст "
      "фокус клавиатура подпись ошибка ошибки сообщение состояние загрузка карта ссылка "
      "заголовок описание перенаправление секрет ротация резервная копия восстановление "
      "срок бюджет граница связность модуль сервис зависимость").split()


class RandomVectors:
    """Seeded random unit vectors per text: stands in for a model in this benchmark."""

    name = "random vectors (benchmark)"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @property
    def identity(self) -> str:
        return f"bench-random-{self.dim}"

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            rows.append(np.random.default_rng(seed).standard_normal(self.dim))
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def words(rng: random.Random, vocab: list[str], n: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n))


def document(rng: random.Random, number: int) -> tuple[str, str, str]:
    role = ROLES[number % len(ROLES)]
    russian = number % 3 == 0
    vocab = RU if russian else EN
    tags = sorted({*rng.sample(EN, 3), *rng.sample(RU, 3)})
    lines = ["---", f"id: {role}/doc{number:05d}", f"title: {words(rng, vocab, 4)}",
             f"role: {role}", "version: 1", "updated: 2026-01-15",
             f"language: {'ru' if russian else 'en'}", f"tags: [{', '.join(tags)}]",
             "source: synthetic benchmark data", "---", ""]
    for section in range(SECTIONS):
        lines += [f"## {words(rng, vocab, 3)} {{#s{section}}}", "",
                  words(rng, vocab, rng.randint(60, 110)) + ".", ""]
    return role, f"doc{number:05d}.md", "\n".join(lines)


def write_corpus(root: Path, passages: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for number in range(max(1, passages // SECTIONS)):
        role, name, text = document(rng, number)
        path = root / role / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(runs: int, call: Callable[[int], object]) -> list[float]:
    for i in range(10):
        call(i)  # warm caches
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def queries(count: int, seed: int = 11) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    out: list[tuple[str, str | None]] = []
    for i in range(count):
        vocab = RU if i % 2 else EN
        role = ROLES[i % len(ROLES)] if i % 4 < 2 else None
        out.append((words(rng, vocab, rng.randint(2, 4)), role))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--embed-model", type=Path, default=None,
                        help="also measure this embedding GGUF on a sample of passages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, object] = {}

    with tempfile.TemporaryDirectory(prefix="consilium-kb-bench-") as tmp:
        root = Path(tmp)
        files = root / "files"
        write_corpus(files, args.passages)
        import lancedb  # noqa: F401  (imported before the clock starts: 1-4 s of import)

        started = time.perf_counter()
        loaded = collect([Source(files, "kb", "settings")])
        parse_s = time.perf_counter() - started
        assert not loaded.problems, loaded.problems[:3]
        count = sum(len(d.chunks) for d in loaded.documents)
        figures["passages"] = count
        figures["parse_validate_s"] = parse_s

        text_only = index_documents(root / "text-index", loaded.documents)
        figures["index_full_text_s"] = text_only.seconds
        figures["index_full_text_passages_per_s"] = count / text_only.seconds

        vectors = RandomVectors(args.dim)
        hybrid = index_documents(root / "index", loaded.documents, embedder=vectors)
        figures[f"index_with_{args.dim}d_vectors_s"] = hybrid.seconds
        figures[f"index_with_{args.dim}d_vectors_passages_per_s"] = count / hybrid.seconds

        edited = files / ROLES[1] / "doc00001.md"
        edited.write_text(edited.read_text(encoding="utf-8").replace(
            "version: 1", "version: 2").replace("## ", "## edited ", 1), encoding="utf-8")
        again = collect([Source(files, "kb", "settings")])
        update = index_documents(root / "index", again.documents, embedder=vectors)
        figures["reindex_after_one_edit_s"] = update.seconds
        figures["reindex_changed_passages"] = len(update.changed)
        figures["reindex_embedded_passages"] = update.embedded

        base = KnowledgeBase(root / "index")
        asked = queries(args.queries)
        rng = np.random.default_rng(3)
        query_vectors = rng.standard_normal((len(asked) + 10, args.dim)).astype(np.float32)
        query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)

        def full_text(i: int) -> object:
            text, role = asked[i % len(asked)]
            return base.search(text, role=role, k=5)

        def hybrid_query(i: int) -> object:
            text, role = asked[i % len(asked)]
            result = base.search(text, role=role, k=5, query_vector=query_vectors[i])
            assert result.mode == "hybrid"
            return result

        for name, call in (("full_text", full_text), ("hybrid", hybrid_query)):
            p50, p95 = percentiles(timed(args.queries, call))
            figures[f"{name}_query_p50_ms"] = p50
            figures[f"{name}_query_p95_ms"] = p95

        if args.embed_model:
            figures.update(embedding_throughput(args.embed_model, loaded.documents))
    figures["targets"] = "p95: full-text < 50 ms, hybrid < 100 ms"
    emit(figures, args.json)


def embedding_throughput(model: Path, documents: Sequence[Any],
                         sample: int = 24) -> dict[str, object]:
    """A real embedding GGUF on `sample` passages: tokens/s is the figure that carries
    over to other texts (the shipped knowledge is about 62 passages, 15,000 tokens)."""
    from bench.common import peak_rss_mb
    from consilium_cli.kb.indexer import embedding_text
    from consilium_cli.llm.embed import LlamaEmbedder

    texts = [embedding_text(d.meta.title, c, d.meta.tags)
             for d in documents for c in d.chunks][:sample]
    with LlamaEmbedder(model) as embedder:
        tokens = sum(len(embedder._prepare(t)) for t in texts)
        started = time.perf_counter()
        embedder.embed_passages(texts)
        seconds = time.perf_counter() - started
        query_ms = timed(10, lambda i: embedder.embed_queries([f"хранение паролей {i}"]))
    return {"embedding_model": embedder.name, "embedding_dim": embedder.dim,
            "embedding_tokens_per_s": tokens / seconds,
            "embedding_passages_per_s": len(texts) / seconds,
            "embedding_tokens_per_passage": tokens / len(texts),
            "query_embedding_p50_ms": percentiles(query_ms)[0],
            "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":
    main()
