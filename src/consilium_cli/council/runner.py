"""`ask` as a service: route, gather context, load the engine, debate, decide, record.

The CLI gives it settings and a request and renders the events it emits; tests and
benchmarks call it the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.config import LoadedSettings
from consilium_cli.council.context import Context
from consilium_cli.council.director import LOCAL_DIRECTOR_MAX_TOKENS
from consilium_cli.council.planner import LOCAL_PLAN_MIN_TOKENS
from consilium_cli.council.transcript import AgentDone, CouncilEvent, Transcript
from consilium_cli.llm.engine import CancelToken, Engine


@dataclass(frozen=True)
class AskRequest:
    task: str
    files: tuple[str, ...] = ()
    stdin_text: str = ""
    agents: str | None = None
    all_roles: bool = False
    seed: int = 0
    cwd: Path = field(default_factory=Path.cwd)
    no_fallback: bool = False
    show_payload: bool = False
    confirm: Callable[[Any], bool] | None = None
    want_plan: bool = False
    env: Mapping[str, str] | None = None  # where the history lives; the process's by default


@dataclass
class AskResult:
    session_id: str
    transcript: Transcript
    routing: Any
    context_summary: dict[str, Any]
    model: dict[str, Any]
    timings: dict[str, float]
    payload: Any = None
    plan: Any = None

    def to_json(self) -> dict[str, Any]:
        payload = self.transcript.to_json()
        payload.update({
            "session_id": self.session_id,
            "routing": {"roles": list(self.routing.roles), "reasons": self.routing.reasons,
                        "stage": self.routing.stage},
            "context": self.context_summary, "model": self.model, "timings": self.timings,
        })
        return payload


def _repo_root(context: Context, cwd: Path) -> Path:
    """The root whose paths the redactor shortens: the repository's, else the cwd."""
    return Path(context.repo.root) if context.repo else cwd


def choose_director(loaded: LoadedSettings, engine: Engine, compact: Callable[[str], str],
                    request: AskRequest, context: Context,
                    on_status: Callable[[str], None]) -> Any:
    """The Director for this session by `director.mode`: off, local, or remote (the
    default `auto` means remote, which falls back to local without a key)."""
    from consilium_cli.council.director import LocalDirector
    from consilium_cli.council.redact import RedactionRules
    from consilium_cli.council.remote_director import RemoteDirector
    from consilium_cli.llm.openai_compat import RemoteConfig

    director = loaded.settings.director
    if director.mode == "off":
        return None
    local = LocalDirector(engine, compact, seed=request.seed)
    if director.mode == "local":
        return local
    return RemoteDirector(
        RemoteConfig.from_settings(director), context_summary=context.summary_text(),
        repo_root=_repo_root(context, request.cwd),
        max_payload_tokens=director.max_payload_tokens,
        fallback=None if request.no_fallback else local,
        rules=RedactionRules.from_settings(loaded.settings.redact),
        confirm=request.confirm if director.confirm else None, on_status=on_status)


def run_ask(loaded: LoadedSettings, request: AskRequest, *, cancel: CancelToken,
            on_event: Callable[[CouncilEvent], None] | None = None,
            on_status: Callable[[str], None] | None = None) -> AskResult:
    from consilium_cli.council.context import build_context
    from consilium_cli.council.debate import DebateConfig, compactor
    from consilium_cli.council.roles import parse_roles
    from consilium_cli.council.router import route
    from consilium_cli.council.session import fit_context, plan_budget, run_council
    from consilium_cli.history import History
    from consilium_cli.llm.loader import load_engine
    from consilium_cli.llm.openai_compat import validate_base_url

    settings = loaded.settings
    validate_base_url(settings.director.base_url)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    status = on_status or (lambda _msg: None)

    fixed = parse_roles(request.agents) or (list(settings.council.agents) or None)
    context = build_context(request.task, files=request.files, stdin_text=request.stdin_text,
                            cwd=request.cwd)
    routing = route(request.task, files=[f.path for f in context.files], agents=fixed,
                    all_roles=request.all_roles)
    roles = list(routing.roles)
    config = DebateConfig(rounds=settings.council.rounds, max_tokens=settings.council.max_tokens,
                          temperature=settings.council.temperature, top_p=settings.council.top_p,
                          top_k=settings.council.top_k, seed=request.seed)

    from consilium_cli.council.citations import passages_for_roles, prompt_sections

    given = passages_for_roles(roles, request.task, loaded)

    status(f"loading the model for {', '.join(roles)}…")
    t0 = time.perf_counter()
    engine = load_engine(loaded, n_seq_max=len(roles) + 1)
    timings["load_s"] = time.perf_counter() - t0
    try:
        compact = compactor(engine, max(32, config.max_tokens))
        mode = settings.director.mode
        director_tokens = 0 if mode == "off" else LOCAL_DIRECTOR_MAX_TOKENS
        budget = plan_budget(engine, roles, config, director_tokens, engine.info.n_ctx,
                             passages=prompt_sections(given),
                             plan_max_tokens=LOCAL_PLAN_MIN_TOKENS if request.want_plan else 0)
        context = fit_context(engine, context, budget)
        director = None if request.show_payload else choose_director(
            loaded, engine, compact, request, context, status)
        info = engine.info
        model = {"name": info.name, "path": info.path, "file_type": info.file_type,
                 "n_ctx": info.n_ctx}
        transcript = Transcript(task=request.task, roles=tuple(roles))
        payload = plan = None
        with History(env=request.env) as history:
            session_id = history.start_session("ask", request.task, model=info.path,
                                               roles=roles, cwd=str(request.cwd))
            t1 = time.perf_counter()
            state = "failed"
            try:
                for event in run_council(engine, context, roles, config, director, transcript,
                                         cancel=cancel, given=given):
                    if isinstance(event, AgentDone):
                        a = event.answer
                        history.add_message(session_id, a.round, a.role, a.text,
                                            prompt_tokens=a.prompt_tokens,
                                            completion_tokens=a.completion_tokens,
                                            finish_reason=a.finish_reason, seconds=a.seconds)
                    if on_event is not None:
                        on_event(event)
                state = "cancelled" if transcript.cancelled else "done"
                if request.show_payload and not transcript.cancelled:
                    payload = director_payload(loaded, transcript, context, request.cwd)
                if request.want_plan and state == "done" and transcript.director \
                        and transcript.director.decision:
                    status("writing the action plan…")
                    t2 = time.perf_counter()
                    plan = make_plan(engine, director, context, transcript, request, cancel)
                    timings["plan_s"] = time.perf_counter() - t2
            except KeyboardInterrupt:
                state = "cancelled"
                raise
            finally:
                for log in getattr(director, "requests", ()):
                    history.record_director_request(
                        session_id, endpoint=log.endpoint, model=log.model,
                        payload=log.payload, outcome=log.outcome,
                        usage={"prompt_tokens": log.prompt_tokens,
                               "completion_tokens": log.completion_tokens},
                        latency_s=log.latency_s)
                timings["council_s"] = time.perf_counter() - t1
                timings["total_s"] = time.perf_counter() - started
                outcome = transcript.director
                history.finish_session(
                    session_id, status=state,
                    decision=outcome.decision.to_json() if outcome and outcome.decision
                    else None,
                    director=outcome.label if outcome else "off",
                    timings=timings, tokens=transcript.tokens())
    finally:
        engine.close()
    return AskResult(session_id, transcript, routing, context.summary(), model, timings,
                     payload, plan)


def make_plan(engine: Engine, director: Any, context: Context, transcript: Transcript,
              request: AskRequest, cancel: CancelToken) -> Any:
    """The action plan for the decision: by whoever made the decision."""
    from consilium_cli.council.planner import local_plan, remote_plan

    outcome = transcript.director
    assert outcome is not None and outcome.decision is not None
    if outcome.label == "remote":
        return remote_plan(director, context, transcript, cancel)
    return local_plan(engine, context, outcome.decision, seed=request.seed, cancel=cancel)


def director_payload(loaded: LoadedSettings, transcript: Transcript, context: Context,
                     cwd: Path) -> Any:
    """What the remote Director would receive for this transcript (nothing is sent)."""
    from consilium_cli.council.redact import RedactionRules
    from consilium_cli.council.remote_director import build_payload

    settings = loaded.settings
    return build_payload(transcript, context.summary_text(), settings.director.model,
                         max_tokens=settings.director.max_payload_tokens,
                         repo_root=_repo_root(context, cwd),
                         rules=RedactionRules.from_settings(settings.redact))
