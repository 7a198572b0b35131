"""Retrieval: the real vector path through llama.cpp (tiny random model), hybrid fusion,
status without an index or a model, and the council's entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from consilium_cli.config import KBSettings, Settings
from consilium_cli.kb.indexer import IndexReport, collect, index_documents
from consilium_cli.kb.locations import Source
from consilium_cli.kb.retrieve import (
    KnowledgeBase,
    Passage,
    find_citations,
    format_for_prompt,
    fuse,
    retrieve_for_role,
)
from consilium_cli.llm.embed import EmbedConfig, EmbeddingChoice, LlamaEmbedder
from tests.support.kb_docs import FLAKY_QA, sample_kb, write


class CountingEmbedder:
    """The real embedder, recording which texts it was asked to embed."""

    def __init__(self, inner: LlamaEmbedder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.texts: list[str] = []

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def name(self) -> str:
        return self.inner.name

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed_passages(texts)


@pytest.fixture
def embedder(tiny_gguf: Path) -> Iterator[CountingEmbedder]:
    inner = LlamaEmbedder(tiny_gguf, EmbedConfig(n_threads=1))
    yield CountingEmbedder(inner)
    inner.close()


def reindex(files: Path, index: Path, **kwargs: object) -> IndexReport:
    result = collect([Source(files, "kb", "settings")])
    return index_documents(index, result.documents, **kwargs)  # type: ignore[arg-type]


def hybrid_base(index: Path, model: Path) -> KnowledgeBase:
    return KnowledgeBase(index, EmbeddingChoice("tiny", model, True), threads=1)


def test_vectors_are_written_and_searched(tmp_path: Path, tiny_gguf: Path,
                                          embedder: CountingEmbedder) -> None:
    files, index = sample_kb(tmp_path / "files"), tmp_path / "index"
    report = reindex(files, index, embedder=embedder)
    assert report.embedded == 5 and len(embedder.texts) == 5
    assert report.embedding_model == "random-qwen2"
    base = hybrid_base(index, tiny_gguf)
    status = base.status()
    assert (status.mode, status.hybrid, status.embedding_model) == ("hybrid", True,
                                                                    "random-qwen2")
    result = base.search("flaky tests", k=5)
    assert result.mode == "hybrid"
    assert len(result.passages) == 5
    assert result.passages[0].id == "qa/flaky#flaky"
    assert result.passages[0].matched_by == "text+vector"
    assert any(p.matched_by == "vector" for p in result.passages)
    roles = {p.role for p in base.search("пароли", role="security", k=5).passages}
    assert roles == {"security"}
    base.close()


def test_only_edited_text_is_embedded_again(tmp_path: Path,
                                            embedder: CountingEmbedder) -> None:
    files, index = sample_kb(tmp_path / "files"), tmp_path / "index"
    reindex(files, index, embedder=embedder)
    embedder.texts.clear()
    assert reindex(files, index, embedder=embedder).embedded == 0
    assert embedder.texts == []
    write(files, "qa", "flaky.md", FLAKY_QA.replace("same day", "same hour")
          .replace("version: 1", "version: 2"))
    report = reindex(files, index, embedder=embedder)
    assert report.changed == ["qa/flaky#flaky", "qa/flaky#fixtures"]
    assert report.embedded == 1
    assert len(embedder.texts) == 1 and "same hour" in embedder.texts[0]


def test_a_new_embedding_model_rebuilds_the_index(tmp_path: Path, tiny_gguf: Path,
                                                  embedder: CountingEmbedder) -> None:
    files, index = sample_kb(tmp_path / "files"), tmp_path / "index"
    reindex(files, index)
    assert KnowledgeBase(index, EmbeddingChoice("tiny", tiny_gguf, True)).status().mode == \
        "full-text"
    report = reindex(files, index, embedder=embedder)
    assert report.rebuilt
    assert "embedding model changed (none -> random-qwen2)" in report.rebuild_reason
    assert report.embedded == 5
    back = reindex(files, index)
    assert back.rebuilt and "random-qwen2 -> none" in back.rebuild_reason


def test_vectors_without_their_model_fall_back_to_full_text(
        tmp_path: Path, tiny_gguf: Path, embedder: CountingEmbedder) -> None:
    files, index = sample_kb(tmp_path / "files"), tmp_path / "index"
    reindex(files, index, embedder=embedder)
    missing = EmbeddingChoice("embedding", None, False, "the embedding model is not "
                              "downloaded", "consilium models pull embedding")
    base = KnowledgeBase(index, missing)
    status = base.status()
    assert status.mode == "full-text" and status.vectors_in_index
    assert status.note == "full-text search only: the embedding model is not downloaded"
    assert status.hint == "consilium models pull embedding"
    assert base.search("flaky", k=2).mode == "full-text"


def test_a_precomputed_query_vector_skips_the_model(tmp_path: Path, tiny_gguf: Path,
                                                     embedder: CountingEmbedder) -> None:
    files, index = sample_kb(tmp_path / "files"), tmp_path / "index"
    reindex(files, index, embedder=embedder)
    base = hybrid_base(index, tiny_gguf)
    vector = embedder.inner.embed_queries(["flaky"])[0]
    result = base.search("flaky", k=3, query_vector=vector)
    assert result.mode == "hybrid"
    assert base._embedder is None


def test_reciprocal_rank_fusion() -> None:
    def row(pid: str) -> dict[str, object]:
        return {"id": pid, "role": "qa", "heading": pid, "text": "", "source_file": "",
                "language": "en", "doc_title": "", "doc_version": 1, "updated": ""}

    fused = fuse([row("a"), row("b"), row("c")], [row("c"), row("d"), row("a")], 3)
    assert [p.id for p in fused] == ["a", "c", "b"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)
    assert [p.matched_by for p in fused] == ["text+vector", "text+vector", "text"]


def passage(pid: str, text: str, title: str = "Title") -> Passage:
    return Passage(id=pid, role="security", title=title, text=text,
                   source_file="kb/security/x.md", language="en", score=1.0,
                   doc_title="Checklist")


def test_format_for_prompt_fits_the_budget_and_keeps_citations() -> None:
    passages = [passage("security/x#a", "First rule. " * 20),
                passage("security/x#b", "Second rule. " * 40),
                passage("security/x#c", "Third rule. " * 40)]
    full = format_for_prompt(passages, 10_000)
    assert full.startswith("Knowledge base (cite a passage you use as [kb:ID]):\n")
    assert "[kb:security/x#a] Title (Checklist)\nFirst rule." in full
    assert full.count("[kb:security/x#") == 3
    for budget in (200, 400, 700, 1000):
        text = format_for_prompt(passages, budget)
        assert len(text) <= budget
    cut = format_for_prompt(passages, 700)
    assert "[kb:security/x#a]" in cut and cut.rstrip().endswith("…")
    assert "[kb:security/x#c]" not in cut
    assert format_for_prompt(passages, 60) == ""
    assert format_for_prompt([], 1000) == ""


def test_find_citations() -> None:
    text = ("Use Argon2id [kb:security/security_checklist#passwords] and rotate keys "
            "[kb:security/x#crypto.2]; again [kb:security/security_checklist#passwords]; "
            "not [kb:nonsense] nor [kb:Security/X#a]")
    assert find_citations(text) == ["security/security_checklist#passwords",
                                    "security/x#crypto.2"]


def test_retrieve_for_role_without_an_index_is_empty() -> None:
    settings = Settings(kb=KBSettings())
    assert retrieve_for_role("security", "password storage", 3, settings) == []
    status = KnowledgeBase.from_settings(settings).status()
    assert (status.mode, status.hint) == ("missing", "consilium kb index")


def test_retrieve_for_role_with_an_index(tmp_path: Path) -> None:
    from consilium_cli.kb.locations import index_dir

    settings = Settings(kb=KBSettings(paths=[str(sample_kb(tmp_path / "files"))]))
    reindex(tmp_path / "files", index_dir(settings))
    found = retrieve_for_role("qa", "flaky tests", 2, settings)
    assert [p.id for p in found] == ["qa/flaky#flaky", "qa/flaky#fixtures"]
    assert retrieve_for_role("qa", "flaky tests", 0, settings) == []


def test_status_checks_do_not_import_lancedb(tmp_path: Path) -> None:
    """doctor, status and the council's path without an index read meta.json only."""
    files = sample_kb(tmp_path / "files")
    index = tmp_path / "home" / "kb"
    reindex(files, index)
    code = (
        "import sys, json\n"
        "from consilium_cli.config import load_settings\n"
        "from consilium_cli.doctor import check_kb\n"
        "from consilium_cli.kb.retrieve import retrieve_for_role, KnowledgeBase\n"
        "loaded = load_settings()\n"
        "check = check_kb(loaded)\n"
        "status = KnowledgeBase.from_settings(loaded).status()\n"
        "project = load_settings(env={'CONSILIUM_KB_LOCATION': 'project'})\n"
        "none = retrieve_for_role('qa', 'flaky tests', 3, project)\n"
        "print(json.dumps([check.status, check.detail, status.passages, none,\n"
        "                  'lancedb' in sys.modules]))\n"
    )
    env = {"CONSILIUM_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120, check=True).stdout
    check_status, detail, passages, none, imported = json.loads(
        out.strip().splitlines()[-1])
    assert none == []
    assert check_status == "warn"
    assert detail.startswith("5 passages in 3 documents; full-text search only")
    assert passages == 5
    assert imported is False
