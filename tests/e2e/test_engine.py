"""The real llama.cpp engine on the tiny random-weight GGUF."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from consilium_cli.errors import ModelError, UsageError
from consilium_cli.llm.engine import (
    BatchStats,
    CancelToken,
    ChatMessage,
    Finished,
    GenerationRequest,
    PrefillDone,
    SamplingParams,
    TextDelta,
    collect,
)
from consilium_cli.llm.llamacpp import ContextOverflowError, EngineConfig, LlamaCppEngine

SHARED = ChatMessage("system", "You are a council. The task: store passwords safely. " * 8)


def request(user: str, **params: object) -> GenerationRequest:
    return GenerationRequest((SHARED, ChatMessage("user", user)), SamplingParams(**params))


def test_batch_logits_match_single_sequence_runs(tiny_engine: LlamaCppEngine) -> None:
    requests = [request(f"role {name}: answer briefly") for name in
                ("dev", "security", "qa", "architect", "ux", "seo")]
    tiny_engine.reset()
    batched = tiny_engine.next_token_logits(requests)
    for req, logits in zip(requests, batched):
        tiny_engine.reset()
        (single,) = tiny_engine.next_token_logits([req])
        assert np.allclose(logits, single, atol=2e-3), float(np.abs(logits - single).max())


def test_stream_reports_shared_prefill_and_text(tiny_engine: LlamaCppEngine) -> None:
    tiny_engine.reset()
    requests = [request(f"agent {i}", max_tokens=12, seed=i) for i in range(3)]
    events = list(tiny_engine.stream(requests))
    prefill = next(e for e in events if isinstance(e, PrefillDone))
    assert prefill.shared_tokens > 100
    assert all(0 < own < 40 for own in prefill.own_tokens)
    done = [e for e in events if isinstance(e, Finished)]
    assert sorted(d.index for d in done) == [0, 1, 2]
    for d in done:
        streamed = "".join(e.text for e in events if isinstance(e, TextDelta)
                           and e.index == d.index)
        assert streamed == d.text
        assert d.completion_tokens <= 12
    stats = events[-1]
    assert isinstance(stats, BatchStats)
    assert stats.llama_decode_s <= stats.total_s


def test_second_batch_reuses_the_cached_prefix(tiny_engine: LlamaCppEngine) -> None:
    tiny_engine.reset()
    list(tiny_engine.stream([request("first", max_tokens=2)]))
    events = list(tiny_engine.stream([request("second question", max_tokens=2)]))
    prefill = next(e for e in events if isinstance(e, PrefillDone))
    assert prefill.reused_tokens > 100


def test_same_seed_same_text(tiny_engine: LlamaCppEngine) -> None:
    texts = []
    for _ in range(2):
        tiny_engine.reset()
        texts.append(collect(tiny_engine.stream([request("x", max_tokens=16, seed=7)]), 1)[0].text)
    assert texts[0] == texts[1]


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_json_schema_output_always_parses(tiny_engine: LlamaCppEngine, temperature: float) -> None:
    schema = {"type": "object", "properties": {
        "title": {"type": "string", "maxLength": 40},
        "severity": {"type": "string", "enum": ["low", "high"]},
        "lines": {"type": "array", "items": {"type": "integer"}, "maxItems": 3}},
        "required": ["title", "severity", "lines"], "additionalProperties": False}
    for seed in range(4):
        result = collect(tiny_engine.stream([request(
            "json", max_tokens=400, seed=seed, temperature=temperature, json_schema=schema)]), 1)
        data = json.loads(result[0].text)
        assert set(data) == {"title", "severity", "lines"}
        assert data["severity"] in ("low", "high")


def test_russian_text_streams_whole_through_split_utf8(tiny_engine: LlamaCppEngine) -> None:
    """Byte-level tokens split every Cyrillic letter; deltas must never cut a character."""
    phrase = "Храните пароли с солью: bcrypt или argon2 🔐"
    schema = {"type": "object", "properties": {"a": {"type": "string", "const": phrase}},
              "required": ["a"], "additionalProperties": False}
    events = list(tiny_engine.stream([request("скажи", max_tokens=200, json_schema=schema)]))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "\ufffd" not in "".join(deltas)
    assert json.loads("".join(deltas))["a"] == phrase
    assert len(deltas) > 10


def test_stop_strings_are_not_emitted(tiny_engine: LlamaCppEngine) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "const": "one STOP two"}},
              "required": ["a"], "additionalProperties": False}
    events = list(tiny_engine.stream([request("x", max_tokens=60, json_schema=schema,
                                              stop=("STOP",))]))
    done = next(e for e in events if isinstance(e, Finished))
    assert done.reason == "stop"
    assert done.text == '{"a": "one ' or done.text.endswith("one ")
    assert "STOP" not in "".join(e.text for e in events if isinstance(e, TextDelta))


def test_cancel_stops_every_sequence(tiny_engine: LlamaCppEngine) -> None:
    cancel = CancelToken()
    finished = []
    for event in tiny_engine.stream([request(f"a{i}", max_tokens=1000) for i in range(3)],
                                    cancel):
        if isinstance(event, TextDelta) and not cancel.cancelled:
            cancel.cancel()
        if isinstance(event, Finished):
            finished.append(event)
    assert len(finished) == 3
    assert {f.reason for f in finished} == {"cancelled"}
    # the engine is usable afterwards
    assert collect(tiny_engine.stream([request("again", max_tokens=3)]), 1)[0].reason in (
        "length", "eos")


def test_cancel_from_another_thread_interrupts_a_long_prefill(tiny_gguf: Path) -> None:
    engine = LlamaCppEngine(tiny_gguf, EngineConfig(n_ctx=4096, n_batch=4096, n_seq_max=2))
    long_prompt = GenerationRequest((ChatMessage("user", "ab " * 1300),),
                                    SamplingParams(max_tokens=4))
    cancel = CancelToken()
    threading.Timer(0.01, cancel.cancel).start()
    started = time.perf_counter()
    results = collect(engine.stream([long_prompt], cancel), 1)
    assert results[0].reason in ("cancelled", "length", "eos")
    assert time.perf_counter() - started < 30
    engine.close()


def test_a_cancelled_token_stops_before_any_work(tiny_engine: LlamaCppEngine) -> None:
    cancel = CancelToken()
    cancel.cancel()
    results = collect(tiny_engine.stream([request("a", max_tokens=50)], cancel), 1)
    assert results[0].reason == "cancelled"
    assert results[0].completion_tokens == 0


def test_context_overflow_is_a_usage_error(tiny_engine: LlamaCppEngine) -> None:
    with pytest.raises(ContextOverflowError) as err:
        list(tiny_engine.stream([request("x", max_tokens=5000)]))
    assert isinstance(err.value, UsageError)
    assert "--ctx" in err.value.hint


def test_context_larger_than_the_model_supports(tiny_gguf: Path) -> None:
    with pytest.raises(UsageError, match="larger than the model supports"):
        LlamaCppEngine(tiny_gguf, EngineConfig(n_ctx=100_000))


def test_too_many_requests_for_the_sequences(tiny_gguf: Path) -> None:
    engine = LlamaCppEngine(tiny_gguf, EngineConfig(n_ctx=1024, n_seq_max=2))
    with pytest.raises(UsageError, match="at most 1"):
        list(engine.stream([request("a"), request("b")]))
    engine.close()


def test_model_without_chat_template_is_a_model_error(tmp_path: Path) -> None:
    from tests.support.random_gguf import write_random_qwen2

    path = write_random_qwen2(tmp_path / "m.gguf", chat_template=None)
    engine = LlamaCppEngine(path, EngineConfig(n_ctx=512, n_seq_max=2))
    with pytest.raises(ModelError):
        list(engine.stream([request("hi")]))
    engine.close()
