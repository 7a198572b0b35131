"""The llama.cpp embedding engine on tiny random-weight GGUFs: a decoder with last-token
pooling (the tiny qwen2, as Qwen3-Embedding runs), one named like Qwen3-Embedding (its
prefixes and Matryoshka truncation), and a BERT encoder with mean pooling."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from consilium_cli.config import KBSettings
from consilium_cli.errors import ModelInvalidError, UsageError
from consilium_cli.llm.embed import (
    MRL_DIMS,
    POOLING_LAST,
    POOLING_MEAN,
    QWEN3_QUERY_INSTRUCTION,
    EmbedConfig,
    LlamaEmbedder,
    profile_for,
    resolve_embedding_model,
)
from consilium_cli.llm.gguf_file import read_gguf
from tests.support.random_embedding_gguf import write_random_bert
from tests.support.random_gguf import Shape, write_random_qwen2

# One thread: the test machines' cores are shared, and spinning threads then stall.
CONFIG = EmbedConfig(n_threads=1, n_batch=1024, n_seq_max=4)
TEXTS = ["store password hashes", "хранение паролей", "flaky tests", "store password hashes",
         "кэш", "timeouts and retries"]


@pytest.fixture(scope="module")
def bert_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_bert(tmp_path_factory.mktemp("embed") / "bert.gguf")


@pytest.fixture(scope="module")
def qwen3_named_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shape = Shape(n_layer=1, n_embd=512, n_head=4, n_head_kv=2, n_ff=128, n_vocab=512,
                  n_ctx_train=4096, tied_embeddings=True)
    return write_random_qwen2(tmp_path_factory.mktemp("embed") / "q3.gguf", shape,
                              name="Qwen3-Embedding-0.6B (random test weights)")


def check_vectors(embedder: LlamaEmbedder) -> np.ndarray:
    vectors = embedder.embed_passages(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Random weights give nearly parallel vectors; what matters is that each text gets
    # its own, the same one every time, whether batched with others or alone.
    np.testing.assert_allclose(vectors[0], vectors[3], atol=1e-7)
    assert np.abs(vectors[0] - vectors[1]).max() > 1e-6
    alone = embedder.embed_passages([TEXTS[1]])[0]
    np.testing.assert_allclose(alone, vectors[1], atol=1e-6)
    return vectors


def test_decoder_with_last_token_pooling(tiny_gguf: Path) -> None:
    with LlamaEmbedder(tiny_gguf, CONFIG) as embedder:
        assert embedder.profile.pooling == POOLING_LAST
        assert embedder.profile.append_end
        assert embedder.dim == 64
        check_vectors(embedder)
        tokens = embedder._prepare("hello")
        assert tokens[-1] == embedder._end


def test_bert_encoder_with_mean_pooling(bert_gguf: Path) -> None:
    with LlamaEmbedder(bert_gguf, CONFIG) as embedder:
        assert embedder.profile.pooling == POOLING_MEAN
        assert not embedder.profile.append_end
        assert embedder.dim == 32
        check_vectors(embedder)


def test_long_texts_are_cut_to_the_token_limit(bert_gguf: Path) -> None:
    with LlamaEmbedder(bert_gguf, replace(CONFIG, max_tokens=64)) as embedder:
        tokens = embedder._prepare("flaky tests " * 200)
        assert len(tokens) == 64
        assert tokens[-1] == 3  # [SEP] survives the cut
        assert embedder.embed_passages(["flaky tests " * 200]).shape == (1, 32)


def test_qwen3_embedding_profile(qwen3_named_gguf: Path) -> None:
    with LlamaEmbedder(qwen3_named_gguf, CONFIG) as embedder:
        profile = embedder.profile
        assert profile.family == "qwen3-embedding"
        assert embedder.native_dim == 512
        assert embedder.dim == MRL_DIMS
        assert embedder.prefixed("пароли", "query") == QWEN3_QUERY_INSTRUCTION + "пароли"
        assert embedder.prefixed("пароли", "passage") == "пароли"
        query = embedder.embed_queries(["пароли"])[0]
        passage = embedder.embed_passages(["пароли"])[0]
        assert query.shape == (MRL_DIMS,)
        assert not np.allclose(query, passage)
        np.testing.assert_allclose(np.linalg.norm(query), 1.0, rtol=1e-5)


def test_profiles_from_metadata(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf, purpose="embedding")

    def named(name: str, **extra: object) -> object:
        return profile_for(replace(info, metadata={**info.metadata, "general.name": name,
                                                   **extra}))

    e5 = named("multilingual-e5-small")
    assert (e5.query_prefix, e5.passage_prefix) == ("query: ", "passage: ")
    assert named("nomic-embed-text-v1.5").query_prefix == "search_query: "
    assert named("bge-m3").family == "generic"
    assert named("something", **{"qwen2.pooling_type": 2}).pooling == 2
    with pytest.raises(ModelInvalidError, match="reranker"):
        named("bge-reranker", **{"qwen2.pooling_type": 4})


def test_a_chat_only_architecture_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"not a gguf at all, just bytes")
    with pytest.raises(ModelInvalidError):
        LlamaEmbedder(path, CONFIG)


def test_resolution_of_the_setting(tiny_gguf: Path, tmp_path: Path) -> None:
    default = resolve_embedding_model(KBSettings())
    assert not default.available and not default.explicit
    assert "not downloaded" in default.reason
    assert default.hint == "consilium models pull embedding"

    off = resolve_embedding_model(KBSettings(embedding_model="off"))
    assert off.disabled and not off.available

    by_path = resolve_embedding_model(KBSettings(embedding_model=str(tiny_gguf)))
    assert by_path.available and by_path.path == tiny_gguf

    missing = resolve_embedding_model(KBSettings(embedding_model=str(tmp_path / "no.gguf")))
    assert missing.explicit and not missing.available

    with pytest.raises(UsageError, match="unknown model"):
        resolve_embedding_model(KBSettings(embedding_model="no-such-model"))
