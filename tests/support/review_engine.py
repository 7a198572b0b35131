"""A scripted engine for unit tests of the review's orchestration (batching, validation,
exit codes): it answers each request with text a test chooses and records every call.
The real engine is tested end to end on the tiny GGUF."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from consilium_cli.llm.engine import (
    CancelToken,
    Engine,
    EngineEvent,
    Finished,
    GenerationRequest,
    ModelInfo,
)

Answer = Callable[[GenerationRequest], str]


@dataclass
class _Config:
    n_ctx: int = 8192
    n_seq_max: int = 8


@dataclass
class ScriptedEngine(Engine):
    """Answers with `answer(request)`; counts a token per 4 characters."""

    answer: Answer
    config: _Config = field(default_factory=_Config)
    calls: list[list[GenerationRequest]] = field(default_factory=list)

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(path="/scripted.gguf", name="scripted", architecture="scripted",
                         context_length=self.config.n_ctx, n_ctx=self.config.n_ctx,
                         file_type="none", size_bytes=0)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def stream(self, requests: Sequence[GenerationRequest],
               cancel: CancelToken | None = None) -> Iterator[EngineEvent]:
        assert len(requests) <= self.config.n_seq_max - 1, "more requests than one batch"
        self.calls.append(list(requests))
        for i, request in enumerate(requests):
            text = self.answer(request)
            yield Finished(i, text, "stop", 100, max(1, len(text) // 4))


def role_of(request: GenerationRequest) -> str:
    """The role a review request is for (its instruction names the role's title)."""
    from consilium_cli.council.roles import ROLES, get_role

    user = request.messages[-1].content
    for role in ROLES:
        if f"as the {get_role(role).title.lower()}." in user:
            return role
    return "summary"


def findings_json(*findings: dict[str, Any]) -> str:
    items = []
    for f in findings:
        item = {"file": "", "line": 0, "severity": "info", "title": "t", "explanation": "",
                "suggested_fix": "", "replacement": ""}
        item.update(f)
        items.append(item)
    return json.dumps({"findings": items})
