"""The council's record: answers per round, the decision, and the events that stream them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consilium_cli.llm.engine import BatchStats, PrefillDone


@dataclass(frozen=True)
class AgentAnswer:
    round: int
    role: str
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    citations: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Dissent:
    role: str
    point: str
    resolution: str


@dataclass(frozen=True)
class Decision:
    decision: str
    reasons: tuple[str, ...]
    dissents: tuple[Dissent, ...]
    confidence: str
    follow_up: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision, "reasons": list(self.reasons),
            "dissents": [{"role": d.role, "point": d.point, "resolution": d.resolution}
                         for d in self.dissents],
            "confidence": self.confidence, "follow_up": list(self.follow_up),
        }


@dataclass(frozen=True)
class DirectorOutcome:
    """Who decided (`local`, `remote`, `local (remote failed: …)`), and what it cost."""

    label: str
    decision: Decision | None
    raw: str
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    error: str = ""


# -- events ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundStarted:
    round: int
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AgentDelta:
    round: int
    role: str
    text: str


@dataclass(frozen=True)
class AgentDone:
    answer: AgentAnswer


@dataclass(frozen=True)
class RoundDone:
    round: int
    prefill: PrefillDone | None
    stats: BatchStats | None


@dataclass(frozen=True)
class DirectorStarted:
    label: str


@dataclass(frozen=True)
class DirectorDelta:
    text: str


@dataclass(frozen=True)
class DirectorDone:
    outcome: DirectorOutcome


@dataclass
class Transcript:
    task: str
    roles: tuple[str, ...]
    answers: list[AgentAnswer] = field(default_factory=list)
    rounds: list[RoundDone] = field(default_factory=list)
    director: DirectorOutcome | None = None
    cancelled: bool = False

    def round_answers(self, round_no: int) -> list[AgentAnswer]:
        order = {role: i for i, role in enumerate(self.roles)}
        found = [a for a in self.answers if a.round == round_no]
        return sorted(found, key=lambda a: order.get(a.role, 99))

    @property
    def last_round(self) -> int:
        return max((a.round for a in self.answers), default=0)

    def tokens(self) -> dict[str, int]:
        stats = [r.stats for r in self.rounds if r.stats]
        return {
            "prompt": sum(a.prompt_tokens for a in self.answers),
            "completion": sum(a.completion_tokens for a in self.answers),
            "prefilled": sum(s.prefill_tokens for s in stats),
            "reused": sum(s.reused_tokens for s in stats),
            "director_prompt": self.director.prompt_tokens if self.director else 0,
            "director_completion": self.director.completion_tokens if self.director else 0,
        }

    def to_json(self) -> dict[str, Any]:
        rounds = []
        for number in range(1, self.last_round + 1):
            rounds.append({"round": number, "messages": [
                {"role": a.role, "text": a.text, "finish_reason": a.finish_reason,
                 "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
                 "seconds": round(a.seconds, 3),
                 "citations": [c.to_json() for c in a.citations]}
                for a in self.round_answers(number)]})
        director = self.director
        return {
            "task": self.task, "roles": list(self.roles), "rounds": rounds,
            "director": director.label if director else "off",
            "decision": director.decision.to_json() if director and director.decision else None,
            "director_error": director.error if director else "",
            "cancelled": self.cancelled, "tokens": self.tokens(),
        }


CouncilEvent = (RoundStarted | AgentDelta | AgentDone | RoundDone | DirectorStarted
                | DirectorDelta | DirectorDone)
