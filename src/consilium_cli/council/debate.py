"""The debate: every selected agent answers in round 1, then revises in later rounds.

Prompt layout (what makes batching pay): every prompt starts with the same system
message (council rules, task, repository facts, files), so the engine evaluates it once
for all agents. From round 2 on, the user message starts with the previous round's
answers in one fixed order, also shared, and only each role's short instruction at the
end is evaluated per agent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consilium_cli.council.citations import check_citations, prompt_sections
from consilium_cli.council.roles import council_prompts, get_role
from consilium_cli.council.transcript import (
    AgentAnswer,
    AgentDelta,
    AgentDone,
    CouncilEvent,
    RoundDone,
    RoundStarted,
    Transcript,
)
from consilium_cli.llm.engine import (
    BatchStats,
    CancelToken,
    ChatMessage,
    Engine,
    Finished,
    GenerationRequest,
    PrefillDone,
    SamplingParams,
    TextDelta,
)


@dataclass(frozen=True)
class DebateConfig:
    rounds: int = 2
    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 40
    seed: int = 0

    @property
    def words(self) -> int:
        """A word budget the model can follow, well inside the token budget."""
        return max(20, int(self.max_tokens * 0.55))

    def params(self, offset: int) -> SamplingParams:
        return SamplingParams(max_tokens=self.max_tokens, temperature=self.temperature,
                              top_p=self.top_p, top_k=self.top_k, seed=self.seed + offset)


def system_message(shared_context: str) -> ChatMessage:
    return ChatMessage("system", f"{council_prompts().system}\n\n{shared_context}")


def render_round(answers: Sequence[AgentAnswer], round_no: int,
                 compact: Callable[[str], str]) -> str:
    """The previous round's answers, in the council's fixed role order."""
    header = council_prompts().transcript_header.format(round=round_no)
    blocks = [f"[{a.role} — {get_role(a.role).title}]\n{compact(a.text).strip() or '(no answer)'}"
              for a in answers]
    return header + "\n\n" + "\n\n".join(blocks)


def render_rounds(transcript: Transcript, upto: int, compact: Callable[[str], str]) -> str:
    """Rounds 1..upto; each round's shared prompt part extends the one before it, so the
    engine's prefix cache keeps what earlier rounds already evaluated."""
    return "\n\n".join(render_round(transcript.round_answers(n), n, compact)
                       for n in range(1, upto + 1))


def role_instruction(role: str, round_no: int, config: DebateConfig,
                     passages: str = "") -> str:
    """The part of the prompt that only this agent sees: in round 1 its whole role prompt
    (and its knowledge passages), in later rounds one short line."""
    prompts = council_prompts()
    if round_no > 1:
        return prompts.round2_role.format(title=get_role(role).title)
    text = prompts.round1.format(role_prompt=get_role(role).debate, words=config.words)
    return f"{passages}\n\n{text}" if passages else text


def later_round_preamble(previous: str, round_no: int, config: DebateConfig) -> str:
    """The shared part of a later round: the earlier rounds, then the round's instruction."""
    instruction = council_prompts().round2.format(round=round_no, words=config.words)
    return f"{previous}\n\n{instruction}"


def build_requests(system: ChatMessage, roles: Sequence[str], round_no: int,
                   config: DebateConfig, previous: str = "",
                   passages: Mapping[str, str] | None = None) -> list[GenerationRequest]:
    shared = later_round_preamble(previous, round_no, config) if round_no > 1 else ""
    requests = []
    for offset, role in enumerate(roles):
        instruction = role_instruction(role, round_no, config, (passages or {}).get(role, ""))
        user = f"{shared}\n\n{instruction}" if shared else instruction
        requests.append(GenerationRequest(
            messages=(system, ChatMessage("user", user)),
            params=config.params(offset + 100 * round_no)))
    return requests


def compactor(engine: Engine, max_tokens: int) -> Callable[[str], str]:
    """Cut an answer to `max_tokens` at a line or sentence boundary, saying so.

    Each later round re-renders every earlier answer, so results are remembered rather
    than tokenised again."""
    done: dict[str, str] = {}

    def compact(text: str) -> str:
        if text in done:
            return done[text]
        keep = text
        if engine.count_tokens(text) > max_tokens:
            while keep and engine.count_tokens(keep) > max_tokens:
                cut = max(keep.rfind("\n", 0, len(keep) - 1),
                          keep.rfind(". ", 0, len(keep) - 1))
                keep = keep[:cut + 1] if cut > 0 else keep[: int(len(keep) * 0.8)]
            keep = keep.rstrip() + " […]"
        done[text] = keep
        return keep
    return compact


def run_round(engine: Engine, transcript: Transcript, requests: Sequence[GenerationRequest],
              roles: Sequence[str], round_no: int, cancel: CancelToken,
              given: Mapping[str, Sequence[Any]] | None = None) -> Iterator[CouncilEvent]:
    """Run one round as one batch; stream deltas; record answers in `transcript`."""
    yield RoundStarted(round_no, tuple(roles))
    started = time.perf_counter()
    prefill: PrefillDone | None = None
    stats: BatchStats | None = None
    for event in engine.stream(requests, cancel):
        if isinstance(event, TextDelta):
            yield AgentDelta(round_no, roles[event.index], event.text)
        elif isinstance(event, Finished):
            role = roles[event.index]
            cited = check_citations(event.text, (given or {}).get(role, ()))
            answer = AgentAnswer(round_no, role, event.text, event.reason,
                                 event.prompt_tokens, event.completion_tokens,
                                 time.perf_counter() - started, cited)
            transcript.answers.append(answer)
            if event.reason == "cancelled":
                transcript.cancelled = True
            yield AgentDone(answer)
        elif isinstance(event, PrefillDone):
            prefill = event
        elif isinstance(event, BatchStats):
            stats = event
    done = RoundDone(round_no, prefill, stats)
    transcript.rounds.append(done)
    yield done


def run_debate(engine: Engine, shared_context: str, roles: Sequence[str],
               config: DebateConfig, transcript: Transcript, *,
               cancel: CancelToken | None = None,
               given: Mapping[str, Sequence[Any]] | None = None) -> Iterator[CouncilEvent]:
    """All rounds; the answers accumulate in `transcript`. `given` holds each role's
    knowledge passages, which go into that role's own part of the prompt."""
    cancel = cancel or CancelToken()
    passages = prompt_sections(given) if given else None
    system = system_message(shared_context)
    compact = compactor(engine, max(32, config.max_tokens))
    previous = ""
    for round_no in range(1, config.rounds + 1):
        requests = build_requests(system, roles, round_no, config, previous, passages)
        yield from run_round(engine, transcript, requests, roles, round_no, cancel, given)
        if transcript.cancelled or cancel.cancelled:
            transcript.cancelled = True
            return
        if round_no < config.rounds:
            previous = render_rounds(transcript, round_no, compact)
