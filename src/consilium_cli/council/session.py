"""One council session: budget the context, debate, then let the Director decide."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consilium_cli.council.context import Context, fit_to_budget
from consilium_cli.council.debate import DebateConfig, build_requests, run_debate, system_message
from consilium_cli.council.director import Director
from consilium_cli.council.transcript import CouncilEvent, DirectorDone, Transcript
from consilium_cli.errors import UsageError
from consilium_cli.llm.engine import CancelToken, Engine

# Room for chat-template tokens and the director's instruction.
_MARGIN_TOKENS = 96


@dataclass(frozen=True)
class Budget:
    n_ctx: int
    context_tokens: int
    role_tokens: int
    transcript_tokens: int
    director_tokens: int


def plan_budget(engine: Engine, roles: Sequence[str], config: DebateConfig,
                director_max_tokens: int, n_ctx: int,
                passages: Mapping[str, str] | None = None, plan_max_tokens: int = 0) -> Budget:
    """How many tokens the shared context may use so every phase fits in `n_ctx`.

    With a unified KV cache the context holds the shared prefix once plus, per agent, its
    own instruction and answer. Later rounds add the earlier rounds' answers to the shared
    part; the Director adds all of them plus its own answer.
    """
    probe = build_requests(system_message(""), roles, 1, config, passages=passages)
    # Later rounds add a shared instruction and a shorter role line: round 1 is the most.
    role_tokens = max(engine.count_tokens(r.messages[-1].content) for r in probe) + 64
    transcript_round = len(roles) * (config.max_tokens + 16) + 16
    phases = [len(roles) * (role_tokens + config.max_tokens)]
    for round_no in range(2, config.rounds + 1):
        phases.append(transcript_round * (round_no - 1)
                      + len(roles) * (role_tokens + config.max_tokens))
    director = 0
    if director_max_tokens:
        director = transcript_round * config.rounds + director_max_tokens + _MARGIN_TOKENS
        phases.append(director)
    if plan_max_tokens:
        # The planner sees the parsed decision and its rules (a few hundred tokens) and
        # writes at least `plan_max_tokens`; it takes whatever room is left beyond that.
        phases.append(plan_max_tokens + 6 * _MARGIN_TOKENS)
    system = engine.count_tokens(system_message("").content)
    available = n_ctx - max(phases) - system - _MARGIN_TOKENS
    return Budget(n_ctx, available, role_tokens, transcript_round * config.rounds, director)


def fit_context(engine: Engine, context: Context, budget: Budget) -> Context:
    if budget.context_tokens < 64:
        raise UsageError(
            f"a {budget.n_ctx}-token context leaves no room for the task with these agents, "
            "rounds and answer lengths",
            hint="raise --ctx, or lower --max-tokens, --rounds or the number of --agents")
    return fit_to_budget(context, budget.context_tokens, engine.count_tokens)


def run_council(engine: Engine, context: Context, roles: Sequence[str], config: DebateConfig,
                director: Director | None, transcript: Transcript, *,
                cancel: CancelToken | None = None,
                given: Mapping[str, Sequence[Any]] | None = None) -> Iterator[CouncilEvent]:
    """Debate, then decide; everything lands in `transcript`, events stream out."""
    cancel = cancel or CancelToken()
    shared = context.render()
    yield from run_debate(engine, shared, roles, config, transcript, cancel=cancel,
                          given=given)
    if transcript.cancelled or director is None:
        return
    for event in director.decide(transcript, shared, cancel):
        if isinstance(event, DirectorDone):
            transcript.director = event.outcome
            if event.outcome.error == "cancelled":
                transcript.cancelled = True
        yield event
