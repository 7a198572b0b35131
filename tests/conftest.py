"""Shared fixtures: the tiny random-weight GGUF (written once per session), isolated
user directories, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.random_gguf import TINY, write_random_qwen2


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 64-wide random qwen2 GGUF with a byte-level vocabulary and ChatML."""
    return write_random_qwen2(tmp_path_factory.mktemp("models") / "tiny.gguf", TINY)


@pytest.fixture(scope="session")
def tiny_engine(tiny_gguf: Path) -> Iterator[object]:
    """The real llama.cpp engine on the tiny model, shared by tests that only read it."""
    from consilium_cli.llm.llamacpp import EngineConfig, LlamaCppEngine

    engine = LlamaCppEngine(tiny_gguf, EngineConfig(n_ctx=4096, n_threads=1, n_seq_max=8))
    yield engine
    engine.close()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets empty config, data and Hugging Face directories, no API keys,
    and offline Hugging Face access."""
    home = tmp_path / "home"
    for sub in ("config", "data", "cache", "hf"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("CONSILIUM_HOME", str(home / "data" / "consilium"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in list(os.environ):
        if var.startswith("CONSILIUM_") and var != "CONSILIUM_HOME":
            monkeypatch.delenv(var)
    # One thread is plenty for the tiny model, and llama.cpp's spinning worker threads make
    # a loaded CI machine (or parallel test runs) far slower with two.
    monkeypatch.setenv("CONSILIUM_MODEL_THREADS", "1")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    # pip (the model mirror) never reaches a real index from a test: no configuration
    # files, and an index on a closed loopback port that refuses at once.
    for var in list(os.environ):
        if var.startswith("PIP_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    # huggingface_hub reads HF_HOME once, at import; point its constants at this test's cache.
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HOME", str(home / "hf"))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(home / "hf" / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    return home
