"""The Engine interface the council calls: chat messages in, streamed text events out.

One call to `Engine.stream()` runs a batch of requests together. The engine finds the
longest token prefix the requests share, evaluates it once, and decodes every request in
the same batch step by step, so six agents cost far less than six answers. A single
request is a batch of one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 40
    seed: int = 0
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class GenerationRequest:
    messages: tuple[ChatMessage, ...]
    params: SamplingParams = field(default_factory=SamplingParams)


FinishReason = Literal["stop", "length", "eos", "cancelled"]


@dataclass(frozen=True)
class PrefillDone:
    """The shared prefix and every request's own part are in the KV cache."""

    shared_tokens: int
    reused_tokens: int
    own_tokens: tuple[int, ...]
    seconds: float


@dataclass(frozen=True)
class TextDelta:
    index: int
    text: str


@dataclass(frozen=True)
class Finished:
    index: int
    text: str
    reason: FinishReason
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class BatchStats:
    prefill_tokens: int
    reused_tokens: int
    prefill_s: float
    decode_steps: int
    decode_s: float
    llama_decode_s: float
    total_s: float
    completion_tokens: int


EngineEvent = PrefillDone | TextDelta | Finished | BatchStats


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    architecture: str
    context_length: int
    n_ctx: int
    file_type: str
    size_bytes: int


class Engine(ABC):
    """A loaded model that can run batches of chat requests."""

    @property
    @abstractmethod
    def info(self) -> ModelInfo: ...

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens of `text` as it would appear inside a prompt."""

    @abstractmethod
    def stream(self, requests: Sequence[GenerationRequest],
               cancel: CancelToken | None = None) -> Iterator[EngineEvent]:
        """Run the requests as one batch; yields events until every request finishes."""

    def close(self) -> None:  # noqa: B027 - engines without native resources keep it
        """Release native resources; the engine is unusable afterwards."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CancelToken:
    """Set from another thread (or a signal handler) to stop generation at the next step."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def collect(events: Iterator[EngineEvent], count: int) -> list[Finished]:
    """Drain a stream and return each request's final result in request order."""
    done: list[Finished | None] = [None] * count
    for event in events:
        if isinstance(event, Finished):
            done[event.index] = event
    return [d for d in done if d is not None]
