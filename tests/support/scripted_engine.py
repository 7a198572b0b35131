"""A scripted engine for unit tests of orchestration logic only (never product code).

It answers each request with text chosen by a function of the request, streams it in
small pieces, and records every request it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from consilium_cli.llm.engine import (
    BatchStats,
    CancelToken,
    Engine,
    EngineEvent,
    Finished,
    GenerationRequest,
    ModelInfo,
    PrefillDone,
    TextDelta,
)

Answer = Callable[[GenerationRequest], str]


class ScriptedEngine(Engine):
    def __init__(self, answer: Answer, *, n_ctx: int = 8192) -> None:
        self.answer = answer
        self.n_ctx = n_ctx
        self.batches: list[list[GenerationRequest]] = []
        self.cancel_after_deltas: int | None = None

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(path="scripted", name="scripted", architecture="none",
                         context_length=self.n_ctx, n_ctx=self.n_ctx, file_type="none",
                         size_bytes=0)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4) if text else 0

    def stream(self, requests: Sequence[GenerationRequest],
               cancel: CancelToken | None = None) -> Iterator[EngineEvent]:
        self.batches.append(list(requests))
        yield PrefillDone(shared_tokens=0, reused_tokens=0,
                          own_tokens=tuple(1 for _ in requests), seconds=0.0)
        deltas = 0
        for index, request in enumerate(requests):
            text = self.answer(request)
            emitted = ""
            for start in range(0, len(text), 7):
                if cancel is not None and cancel.cancelled:
                    break
                piece = text[start:start + 7]
                emitted += piece
                deltas += 1
                yield TextDelta(index, piece)
                if self.cancel_after_deltas is not None and deltas >= self.cancel_after_deltas \
                        and cancel is not None:
                    cancel.cancel()
            reason = "cancelled" if cancel is not None and cancel.cancelled else "eos"
            yield Finished(index, emitted, reason, 10, self.count_tokens(emitted))
        yield BatchStats(0, 0, 0.0, 0, 0.0, 0.0, 0.0, 0)
