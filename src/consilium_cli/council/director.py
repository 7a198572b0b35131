"""The Director reads the debate and decides.

`LocalDirector` runs on the council's own engine, its answer constrained by the decision's
JSON schema. The remote Director (GPT-5.2 through an OpenAI-compatible API) implements the
same `Director` protocol, and falls back to the local one with a label that says why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from consilium_cli.council.debate import render_rounds, system_message
from consilium_cli.council.roles import ROLES, council_prompts
from consilium_cli.council.transcript import (
    Decision,
    DirectorDelta,
    DirectorDone,
    DirectorOutcome,
    DirectorStarted,
    Dissent,
    Transcript,
)
from consilium_cli.llm.engine import (
    CancelToken,
    ChatMessage,
    Engine,
    Finished,
    GenerationRequest,
    SamplingParams,
    TextDelta,
)

DirectorEvent = DirectorStarted | DirectorDelta | DirectorDone

CONFIDENCE = ("low", "medium", "high")
LOCAL_DIRECTOR_MAX_TOKENS = 1800


def decision_schema(roles: tuple[str, ...] = ROLES) -> dict[str, Any]:
    """The decision's JSON schema. Every string and list is bounded, so a grammar-constrained
    answer always ends within `LOCAL_DIRECTOR_MAX_TOKENS` (a random-weight model that fills
    every field to its limit needs up to about 1,650 tokens; real models use a fraction)."""
    def text(limit: int) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": limit}

    return {
        "type": "object",
        "properties": {
            "decision": text(480),
            "reasons": {"type": "array", "items": text(220), "minItems": 1, "maxItems": 3},
            "dissents": {
                "type": "array", "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {"role": {"type": "string", "enum": list(roles)},
                                   "point": text(180), "resolution": text(220)},
                    "required": ["role", "point", "resolution"],
                    "additionalProperties": False,
                },
            },
            "confidence": {"type": "string", "enum": list(CONFIDENCE)},
            "follow_up": {"type": "array", "items": text(180), "maxItems": 3},
        },
        "required": ["decision", "reasons", "dissents", "confidence", "follow_up"],
        "additionalProperties": False,
    }


class DecisionFormatError(ValueError):
    """The Director's answer is not a decision (not JSON, wrong shape, truncated)."""


def parse_decision(raw: str) -> Decision:
    """Validate a decision strictly; anything off-schema is an error, never patched up."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DecisionFormatError(f"not JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise DecisionFormatError("not a JSON object")
    missing = [k for k in ("decision", "reasons", "confidence") if k not in data]
    if missing:
        raise DecisionFormatError(f"missing fields: {', '.join(missing)}")

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DecisionFormatError(f"`{key}` must be a list of strings")
        return tuple(v.strip() for v in value if v.strip())

    decision = data["decision"]
    if not isinstance(decision, str) or not decision.strip():
        raise DecisionFormatError("`decision` must be a non-empty string")
    confidence = str(data["confidence"]).lower()
    if confidence not in CONFIDENCE:
        raise DecisionFormatError(f"`confidence` must be one of {', '.join(CONFIDENCE)}")
    dissents = []
    for item in data.get("dissents", []) or []:
        if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ("role", "point", "resolution")):
            raise DecisionFormatError("each dissent needs role, point and resolution strings")
        dissents.append(Dissent(item["role"], item["point"].strip(), item["resolution"].strip()))
    return Decision(decision.strip(), strings("reasons"), tuple(dissents), confidence,
                    strings("follow_up"))


class Director(Protocol):
    label: str

    def decide(self, transcript: Transcript, shared_context: str,
               cancel: CancelToken) -> Iterator[DirectorEvent]: ...


class LocalDirector:
    """The decision from the council's own engine, under the decision schema's grammar."""

    label = "local"

    def __init__(self, engine: Engine, compact: Callable[[str], str], *,
                 max_tokens: int = LOCAL_DIRECTOR_MAX_TOKENS, seed: int = 0,
                 label: str = "local") -> None:
        self.engine = engine
        self.compact = compact
        self.max_tokens = max_tokens
        self.seed = seed
        self.label = label

    def request(self, transcript: Transcript, shared_context: str) -> GenerationRequest:
        debate = render_rounds(transcript, transcript.last_round, self.compact)
        user = f"{debate}\n\n{council_prompts().director}"
        params = SamplingParams(max_tokens=self.max_tokens, temperature=0.2, top_p=0.9,
                                top_k=40, seed=self.seed + 999,
                                json_schema=decision_schema(transcript.roles))
        return GenerationRequest((system_message(shared_context), ChatMessage("user", user)),
                                 params)

    def decide(self, transcript: Transcript, shared_context: str,
               cancel: CancelToken) -> Iterator[DirectorEvent]:
        yield DirectorStarted(self.label)
        started = time.perf_counter()
        final: Finished | None = None
        for event in self.engine.stream([self.request(transcript, shared_context)], cancel):
            if isinstance(event, TextDelta):
                yield DirectorDelta(event.text)
            elif isinstance(event, Finished):
                final = event
        seconds = time.perf_counter() - started
        assert final is not None
        decision, error = None, ""
        if final.reason == "cancelled":
            error = "cancelled"
        elif final.reason == "length":
            error = (f"the decision was cut at {final.completion_tokens} tokens "
                     "(raise --max-tokens)")
        else:
            try:
                decision = parse_decision(final.text)
            except DecisionFormatError as exc:
                error = f"the decision is malformed: {exc}"
        yield DirectorDone(DirectorOutcome(
            label=self.label, decision=decision, raw=final.text, seconds=seconds,
            prompt_tokens=final.prompt_tokens, completion_tokens=final.completion_tokens,
            model=self.engine.info.name, error=error))
