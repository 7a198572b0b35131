"""The local engine: llama.cpp through llama-cpp-python's low-level API.

llama-cpp-python's `Llama` class decodes one sequence at a time, so the council's engine
is written on the raw bindings, wrapped the way llama-cpp-python's `_internals` does it:
small classes that each own one native resource and free it deterministically.

One `stream()` call runs a batch of chat requests:
1. tokenise every prompt and take the longest token prefix they share;
2. keep what the KV cache already holds of that prefix (sequence 0 is the cache), and
   evaluate only the rest, once;
3. give each request its own sequence (a copy of sequence 0; with the unified KV cache the
   copy only tags cells, nothing is recomputed), and evaluate every request's own part
   in one batch;
4. decode all requests together, one token each per `llama_decode`, each with its own
   sampler chain (grammar, top-k, top-p, temperature, seed) and stop conditions.
"""

from __future__ import annotations

import codecs
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.errors import EngineError, ModelError, UsageError
from consilium_cli.llm.chat_template import render_chat
from consilium_cli.llm.engine import (
    BatchStats,
    CancelToken,
    Engine,
    EngineEvent,
    Finished,
    FinishReason,
    GenerationRequest,
    ModelInfo,
    PrefillDone,
    SamplingParams,
    TextDelta,
)
from consilium_cli.llm.gguf_file import GGUFInfo, read_gguf
from consilium_cli.llm.native import (
    NativeBatch,
    NativeContext,
    NativeModel,
    log_tail,
    map_llama_errors,
    physical_cores,
    set_sizes,
)


class ContextOverflowError(UsageError):
    """The prompts and answers do not fit in the context."""


@dataclass(frozen=True)
class EngineConfig:
    """Every size llama.cpp needs, always explicit (never a library default)."""

    n_ctx: int = 8192
    n_threads: int = 0
    n_batch: int = 512
    n_seq_max: int = 8
    flash_attn: bool = True

    def threads(self) -> int:
        return self.n_threads or physical_cores()


@dataclass
class _Sequence:
    """Decoding state of one request inside a batch."""

    index: int
    seq_id: int
    params: SamplingParams
    sampler: Any
    prompt_tokens: int
    pos: int
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))
    text: str = ""
    emitted: int = 0
    generated: int = 0
    pending: int = -1
    done: bool = False


class LlamaCppEngine(Engine):
    """A GGUF model loaded in-process; `stream()` runs batches of chat requests."""

    def __init__(self, model_path: Path, config: EngineConfig | None = None, *,
                 gguf: GGUFInfo | None = None) -> None:
        """`gguf`: the file's header when the caller has already read it."""
        self.config = config or EngineConfig()
        self.gguf: GGUFInfo = gguf or read_gguf(Path(model_path))
        if self.config.n_ctx < 64:
            raise UsageError(f"context size {self.config.n_ctx} is too small (at least 64)")
        trained = self.gguf.context_length
        if trained and self.config.n_ctx > trained:
            raise UsageError(
                f"context size {self.config.n_ctx} is larger than the model supports ({trained})",
                hint=f"use --ctx {trained} or less",
            )
        self._model = NativeModel(self.gguf.path, verify_hint=(
            "check the file with `consilium models verify NAME`, or pull it again"))
        self._ll = self._model.ll
        self._samplers: list[Any] = []
        self._cached: list[int] = []
        self._abort = False
        # ctypes must keep the callback alive as long as the context can call it.
        self._abort_cb = self._ll.ggml_abort_callback(lambda _data: self._abort)
        opened: list[Any] = [self._model]
        try:
            self._ctx = NativeContext(self._model, self._configure, what=(
                f"a {self.config.n_ctx}-token context"),
                hint="lower --ctx (memory) or check the model file")
            opened.insert(0, self._ctx)
            self._mem = self._ctx.memory
            self._batch = NativeBatch(self._ll, max(self.config.n_batch, self.config.n_seq_max))
            opened.insert(0, self._batch)
            vocab = self._model.vocab
            self._eos_text = self._model.piece(self._ll.llama_vocab_eos(vocab), special=True)
            self._bos_text = self._model.piece(self._ll.llama_vocab_bos(vocab), special=True)
        except BaseException:
            for resource in opened:  # newest first
                resource.close()
            raise

    def _configure(self, params: Any) -> None:
        cfg = self.config
        set_sizes(params, n_ctx=cfg.n_ctx, n_batch=cfg.n_batch, n_seq_max=cfg.n_seq_max,
                  threads=cfg.threads(), flash_attn=cfg.flash_attn)
        params.abort_callback = self._abort_cb

    def close(self) -> None:
        if getattr(self, "_ll", None) is None:
            return
        self._free_samplers()
        for resource in (self._batch, self._ctx, self._model):
            resource.close()

    def __del__(self) -> None:
        if hasattr(self, "_batch"):
            self.close()

    # -- model facts ------------------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        g = self.gguf
        return ModelInfo(path=str(g.path), name=g.name, architecture=g.architecture,
                         context_length=g.context_length or self.config.n_ctx,
                         n_ctx=self.config.n_ctx, file_type=g.file_type, size_bytes=g.size)

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        return self._model.tokenize(text, parse_special=special)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, special=False))

    def render(self, request: GenerationRequest) -> str:
        template = self.gguf.chat_template
        if not template:
            raise ModelError(f"{self.gguf.path} has no chat template in its metadata",
                             hint="use an instruct model: `consilium models pull default`")
        return render_chat(template, request.messages,
                           bos_token=self._bos_text.decode("utf-8", "replace"),
                           eos_token=self._eos_text.decode("utf-8", "replace"))

    # -- sampling ---------------------------------------------------------------------

    def _make_sampler(self, params: SamplingParams) -> Any:
        ll = self._ll
        chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
        if not chain:
            raise EngineError("llama.cpp could not create a sampler chain")
        self._samplers.append(chain)
        if params.json_schema is not None:
            grammar = schema_grammar(params.json_schema)
            sampler = ll.llama_sampler_init_grammar(self._model.vocab, grammar.encode("utf-8"),
                                                    b"root")
            if not sampler:
                raise EngineError(f"llama.cpp rejected the JSON grammar:\n{log_tail()}")
            ll.llama_sampler_chain_add(chain, sampler)
        if params.temperature <= 0:
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_greedy())
            return chain
        if params.top_k > 0:
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_k(params.top_k))
        if params.top_p < 1.0:
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_p(params.top_p, 1))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_temp(params.temperature))
        seed = params.seed & 0xFFFFFFFF
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dist(seed))
        return chain

    def _free_samplers(self) -> None:
        for sampler in self._samplers:
            self._ll.llama_sampler_free(sampler)
        self._samplers = []

    # -- decoding ---------------------------------------------------------------------

    def _decode(self, entries: Sequence[tuple[int, int, int, bool]]) -> float:
        """Evaluate (token, pos, seq_id, wants_logits) entries; return seconds spent."""
        batch = self._batch.fill(entries)
        start = time.perf_counter()
        rc = self._ll.llama_decode(self._ctx.ptr, batch)
        elapsed = time.perf_counter() - start
        if rc == 2:
            raise _Aborted
        if rc != 0:
            self._reset_cache()
            detail = ("no free KV slot: the context is full" if rc == 1 else
                      f"llama_decode returned {rc}")
            raise EngineError(f"llama.cpp failed to decode: {detail}\n{log_tail()}",
                              hint="raise --ctx or lower --max-tokens")
        return elapsed

    def _reset_cache(self) -> None:
        self._ll.llama_memory_clear(self._mem, True)
        self._cached = []

    def reset(self) -> None:
        """Forget the cached prompt prefix (the next batch evaluates everything)."""
        self._reset_cache()

    def _prefill(self, tokens: list[int], start: int, seq_id: int) -> float:
        """Evaluate tokens[start:] into `seq_id` in chunks, no logits; return decode time."""
        spent = 0.0
        step = self.config.n_batch
        for lo in range(start, len(tokens), step):
            chunk = tokens[lo:lo + step]
            spent += self._decode([(t, lo + j, seq_id, False) for j, t in enumerate(chunk)])
        return spent

    def stream(self, requests: Sequence[GenerationRequest],
               cancel: CancelToken | None = None) -> Iterator[EngineEvent]:
        if not requests:
            return
        if len(requests) > self.config.n_seq_max - 1:
            raise UsageError(f"{len(requests)} requests in one batch; this engine runs at most "
                             f"{self.config.n_seq_max - 1}")
        cancel = cancel or CancelToken()
        self._abort = cancel.cancelled
        watcher = _CancelWatcher(cancel, self)
        try:
            yield from self._run(requests, cancel)
        finally:
            watcher.stop()
            self._free_samplers()

    def _plan(self, requests: Sequence[GenerationRequest]) -> tuple[list[list[int]], int]:
        """Tokenised prompts and the length of their shared prefix; checks the budget."""
        with map_llama_errors("tokenising the prompts"):
            prompts = [self.tokenize(self.render(r)) for r in requests]
        # Every request keeps at least one own token, so each has its own logits.
        shared = min(_common_prefix(prompts), min(len(p) for p in prompts) - 1)
        need = shared + sum(len(p) - shared + r.params.max_tokens
                            for p, r in zip(prompts, requests))
        if need > self.config.n_ctx:
            raise ContextOverflowError(
                f"the prompts and answers need {need} tokens of context; the context holds "
                f"{self.config.n_ctx}",
                hint="raise --ctx, lower --max-tokens, or pass fewer files",
            )
        trained = self.gguf.context_length
        longest = max(len(p) + r.params.max_tokens for p, r in zip(prompts, requests))
        if trained and longest > trained:
            raise ContextOverflowError(
                f"one prompt and its answer need {longest} positions; the model supports "
                f"{trained}", hint="lower --max-tokens or pass fewer files")
        return prompts, shared

    def _prepare(self, requests: Sequence[GenerationRequest]
                 ) -> tuple[list[list[int]], int, int, list[_Sequence]]:
        """Tokenise, keep the cached part of the shared prefix, give each request a sequence."""
        ll = self._ll
        prompts, shared = self._plan(requests)
        with map_llama_errors("preparing the KV cache"):
            reuse = min(_common_prefix([self._cached, prompts[0][:shared]]), shared)
            for seq_id in range(1, self.config.n_seq_max):
                ll.llama_memory_seq_rm(self._mem, seq_id, -1, -1)
            if not ll.llama_memory_seq_rm(self._mem, 0, reuse, -1):
                self._reset_cache()
                reuse = 0
            self._cached = prompts[0][:reuse]
            seqs = [
                _Sequence(i, i + 1, r.params, self._make_sampler(r.params), len(p), len(p))
                for i, (r, p) in enumerate(zip(requests, prompts))
            ]
        return prompts, shared, reuse, seqs

    def _prefill_all(self, prompts: list[list[int]], shared: int, reuse: int,
                     seqs: list[_Sequence],
                     on_last: Callable[[_Sequence, int], None]) -> float:
        """Evaluate the shared prefix once into sequence 0, share it with every request's
        sequence, then evaluate the requests' own parts; returns llama_decode seconds."""
        spent = self._prefill(prompts[0][:shared], reuse, 0)
        self._cached = prompts[0][:shared]
        for seq in seqs:
            self._ll.llama_memory_seq_cp(self._mem, 0, seq.seq_id, -1, -1)
        return spent + self._evaluate_own_parts(seqs, prompts, shared, on_last)

    def _sample_first(self, seq: _Sequence, batch_index: int) -> None:
        seq.pending = self._ll.llama_sampler_sample(seq.sampler, self._ctx.ptr, batch_index)

    def next_token_logits(self, requests: Sequence[GenerationRequest]) -> list[Any]:
        """The logits after each request's prompt, from the same batched prefill path
        that `stream()` uses (numpy arrays of vocabulary size)."""
        import numpy as np

        n_vocab = self._ll.llama_vocab_n_tokens(self._model.vocab)
        found: dict[int, Any] = {}

        def grab(seq: _Sequence, batch_index: int) -> None:
            pointer = self._ll.llama_get_logits_ith(self._ctx.ptr, batch_index)
            found[seq.index] = np.ctypeslib.as_array(pointer, shape=(n_vocab,)).copy()

        self._abort = False  # a cancelled stream() leaves the flag set
        try:
            prompts, shared, reuse, seqs = self._prepare(requests)
            self._prefill_all(prompts, shared, reuse, seqs, grab)
        finally:
            self._free_samplers()
        return [found[i] for i in range(len(requests))]

    def _run(self, requests: Sequence[GenerationRequest],
             cancel: CancelToken) -> Iterator[EngineEvent]:
        ll = self._ll
        t_start = time.perf_counter()
        prompts, shared, reuse, seqs = self._prepare(requests)
        t_prefill = time.perf_counter()
        try:
            decode_s = self._prefill_all(prompts, shared, reuse, seqs, self._sample_first)
        except _Aborted:
            self._reset_cache()
            for seq in seqs:
                yield from self._finish(seq, "cancelled")
            return
        prefill_s = time.perf_counter() - t_prefill
        yield PrefillDone(shared_tokens=shared, reused_tokens=reuse,
                          own_tokens=tuple(len(p) - shared for p in prompts), seconds=prefill_s)

        t_decode = time.perf_counter()
        steps = 0
        # The first token of every sequence was sampled with the own-part evaluation.
        for seq in seqs:
            yield from self._accept(seq, seq.pending)
        while live := [s for s in seqs if not s.done]:
            try:
                if cancel.cancelled:
                    raise _Aborted
                decode_s += self._decode([(s.pending, s.pos, s.seq_id, True) for s in live])
            except _Aborted:
                self._reset_cache()
                for seq in live:
                    yield from self._finish(seq, "cancelled")
                break
            steps += 1
            for batch_index, seq in enumerate(live):
                seq.pos += 1
                token = ll.llama_sampler_sample(seq.sampler, self._ctx.ptr, batch_index)
                yield from self._accept(seq, token)
        end = time.perf_counter()
        yield BatchStats(
            prefill_tokens=len(prompts[0]) - reuse + sum(len(p) - shared for p in prompts[1:]),
            reused_tokens=reuse, prefill_s=prefill_s, decode_steps=steps,
            decode_s=end - t_decode, llama_decode_s=decode_s,
            total_s=end - t_start, completion_tokens=sum(s.generated for s in seqs),
        )

    def _evaluate_own_parts(self, seqs: list[_Sequence], prompts: list[list[int]],
                            shared: int, on_last: Callable[[_Sequence, int], None]) -> float:
        """Evaluate every request's own tokens, packed into full batches; `on_last` runs
        right after the batch that holds a request's last prompt token (its logits are
        only valid until the next decode)."""
        entries: list[tuple[int, int, int, bool]] = []
        owners: list[_Sequence] = []
        spent = 0.0

        def flush() -> float:
            elapsed = self._decode(entries)
            # llama.cpp addresses logits by the token's index in the batch.
            for batch_index, (entry, owner) in enumerate(zip(entries, owners)):
                if entry[3]:
                    on_last(owner, batch_index)
            entries.clear()
            owners.clear()
            return elapsed

        for seq, prompt in zip(seqs, prompts):
            own = prompt[shared:]
            for j, token in enumerate(own):
                if len(entries) == self.config.n_batch:
                    spent += flush()
                entries.append((token, shared + j, seq.seq_id, j == len(own) - 1))
                owners.append(seq)
        return spent + flush()

    def _accept(self, seq: _Sequence, token: int) -> Iterator[EngineEvent]:
        """Take a sampled token: finish, or stream its text and schedule it for decoding."""
        if self._ll.llama_vocab_is_eog(self._model.vocab, token):
            yield from self._finish(seq, "eos")
            return
        seq.generated += 1
        seq.text += seq.decoder.decode(self._model.piece(token))
        stop_at = _find_stop(seq.text, seq.params.stop)
        if stop_at is not None:
            seq.text = seq.text[:stop_at]
            yield from self._finish(seq, "stop")
            return
        safe_end = len(seq.text) - _held_back(seq.text, seq.params.stop)
        if safe_end > seq.emitted:
            yield TextDelta(seq.index, seq.text[seq.emitted:safe_end])
            seq.emitted = safe_end
        if seq.generated >= seq.params.max_tokens:
            yield from self._finish(seq, "length")
            return
        seq.pending = token

    def _finish(self, seq: _Sequence, reason: FinishReason) -> Iterator[EngineEvent]:
        """Stream what was held back (an incomplete stop string, a split character), then
        report the request's final text."""
        seq.done = True
        if reason != "stop":
            seq.text += seq.decoder.decode(b"", final=True)
        if len(seq.text) > seq.emitted:
            yield TextDelta(seq.index, seq.text[seq.emitted:])
            seq.emitted = len(seq.text)
        yield Finished(seq.index, seq.text, reason, seq.prompt_tokens, seq.generated)


class _Aborted(Exception):
    pass


class _CancelWatcher:
    """Turn a cancel request into llama.cpp's abort flag within ~50 ms, even mid-prefill."""

    def __init__(self, cancel: CancelToken, engine: LlamaCppEngine) -> None:
        self._cancel = cancel
        self._engine = engine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.wait(0.05):
            if self._cancel.cancelled:
                self._engine._abort = True
                return

    def stop(self) -> None:
        # Joined, so a watcher of a finished batch cannot set the flag during the next one.
        self._stopped.set()
        self._thread.join()


def _common_prefix(seqs: Sequence[Sequence[int]]) -> int:
    if not seqs:
        return 0
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for i in range(n):
        token = first[i]
        if any(s[i] != token for s in seqs[1:]):
            return i
    return n


def _find_stop(text: str, stops: Sequence[str]) -> int | None:
    hits = [text.find(s) for s in stops if s]
    hits = [h for h in hits if h >= 0]
    return min(hits) if hits else None


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Characters at the end of `text` that could be the start of a stop string."""
    hold = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                hold = max(hold, k)
                break
    return hold


_grammar_cache: dict[str, str] = {}
# llama-cpp-python's converter lets raw control characters into JSON strings (llama.cpp's
# own converter excludes them); a string with a raw newline or tab is not valid JSON.
_LOOSE_CHAR = 'char ::= [^"\\\\]'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'


def schema_grammar(schema: dict[str, Any]) -> str:
    """GBNF for a JSON schema, by llama.cpp's own converter (cached per schema).

    Properties keep the schema's order: the model writes them in that order, so a
    decision can come before the confidence that depends on it.
    """
    import json

    key = json.dumps(schema)
    if key not in _grammar_cache:
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        try:
            grammar = json_schema_to_gbnf(key)
        except (ValueError, KeyError, TypeError) as exc:
            raise EngineError(f"the JSON schema cannot be turned into a grammar: {exc}") from exc
        grammar = grammar.replace(_LOOSE_CHAR, _STRICT_CHAR)
        # The converter writes characters outside the BMP (emoji) as UTF-16 surrogate
        # pairs, which match no UTF-8 text; write them as one code point instead.
        _grammar_cache[key] = _SURROGATES.sub(_join_surrogates, grammar)
    return _grammar_cache[key]


_SURROGATES = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"
