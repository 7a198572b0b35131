"""From a decision to an action plan (`ask --save-plan`, `apply "TASK"`).

The local model writes the plan under the plan schema's grammar, on the same engine and
after the same shared prompt prefix as the debate (the files are already in its KV
cache). When the Director was remote, it writes the plan: it gets the named files redacted
with the same placeholders as its decision, and every placeholder in its plan is mapped
back to the original value here, before anything is shown; a plan that still holds a
placeholder nobody can map is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from consilium_cli.council.context import Context
from consilium_cli.council.debate import system_message
from consilium_cli.council.transcript import Decision, Transcript
from consilium_cli.errors import ModelError, RemoteError, UsageError
from consilium_cli.llm.engine import (
    CancelToken,
    ChatMessage,
    Engine,
    Finished,
    GenerationRequest,
    SamplingParams,
)

LOCAL_PLAN_MAX_TOKENS = 2048
# The context budget always keeps this much room for the plan.
LOCAL_PLAN_MIN_TOKENS = 768
PLAN_RULES = """Turn the Director's decision into an action plan that `consilium apply` can run.
Rules:
- Use only files shown in the task context; paths are relative to the repository root.
- To change an existing file use edit_file: each "search" text is copied exactly from
  the file and occurs there once; "replace" is its new text.
- Use write_file only for new files; use run with an argv list (no shell) for commands
  such as tests.
- Every action has a short "why". At most 8 actions, in the order they should run.
- Set "version" to 1, "task" to the task, and "summary" to one sentence."""


class PlanGenerationError(ModelError):
    """The model did not produce a usable plan."""


def decision_text(decision: Decision) -> str:
    lines = [f"Decision: {decision.decision}"]
    lines += [f"- reason: {r}" for r in decision.reasons]
    lines += [f"- follow-up: {f}" for f in decision.follow_up]
    return "\n".join(lines)


def plan_request(context: Context, decision: Decision, *,
                 max_tokens: int = LOCAL_PLAN_MAX_TOKENS, seed: int = 0) -> GenerationRequest:
    """The local planning request: the debate's shared prefix first, so it is reused."""
    from consilium_cli.tools.plan import plan_schema

    user = f"{decision_text(decision)}\n\n{PLAN_RULES}"
    params = SamplingParams(max_tokens=max_tokens, temperature=0.2, top_p=0.9, top_k=40,
                            seed=seed + 777, json_schema=plan_schema())
    return GenerationRequest((system_message(context.render()), ChatMessage("user", user)),
                             params)


def parse_generated_plan(raw: str, source: str) -> Any:
    from consilium_cli.tools.plan import PlanError, parse_plan

    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PlanGenerationError(f"the {source} plan is not JSON ({exc.msg})") from exc
    try:
        return parse_plan(data, source=source)
    except PlanError as exc:
        raise PlanGenerationError(f"the {source} plan is not valid: {exc.message}",
                                  hint="run again with another --seed, or write the plan "
                                       "yourself: docs/plan-schema.md") from exc


def local_plan(engine: Engine, context: Context, decision: Decision, *, seed: int = 0,
               cancel: CancelToken | None = None,
               on_delta: Callable[[str], None] | None = None) -> Any:
    """The plan written by the local model under the plan grammar, in whatever room the
    context has left (at most LOCAL_PLAN_MAX_TOKENS)."""
    from dataclasses import replace

    request = plan_request(context, decision, seed=seed)
    prompt_tokens = engine.count_tokens("".join(m.content for m in request.messages)) + 64
    room = min(LOCAL_PLAN_MAX_TOKENS, engine.info.n_ctx - prompt_tokens)
    request = replace(request, params=replace(request.params, max_tokens=max(room, 64)))
    final: Finished | None = None
    for event in engine.stream([request], cancel):
        if isinstance(event, Finished):
            final = event
        elif on_delta is not None and hasattr(event, "text"):
            on_delta(event.text)
    assert final is not None
    if final.reason == "cancelled":
        from consilium_cli.errors import InterruptedByUser

        raise InterruptedByUser("interrupted while writing the plan")
    if final.reason == "length":
        raise PlanGenerationError(
            f"the local model's plan was cut at {final.completion_tokens} tokens",
            hint="name fewer files, or write the plan yourself: docs/plan-schema.md")
    return parse_generated_plan(final.text, "local model's")


def restore_placeholders(data: Any, redactor: Any) -> Any:
    """Put the original values back into every string of a plan; refuse unknown ones."""
    if isinstance(data, str):
        unknown = redactor.unrestorable(data)
        if unknown:
            raise RemoteError(
                "the Director's plan refers to values it was never given: "
                + ", ".join(sorted(set(unknown))),
                hint="run again, or write the plan yourself: docs/plan-schema.md")
        return redactor.restore(data)
    if isinstance(data, list):
        return [restore_placeholders(item, redactor) for item in data]
    if isinstance(data, dict):
        return {key: restore_placeholders(value, redactor) for key, value in data.items()}
    return data


def remote_plan(director: Any, context: Context, transcript: Transcript,
                cancel: CancelToken | None = None) -> Any:
    """The plan written by the remote Director, its placeholders mapped back locally."""
    from consilium_cli.llm.openai_compat import OpenAICompatClient, RemoteFailure, chat_body
    from consilium_cli.tools.plan import parse_plan, plan_schema

    payload = director.last_payload
    decision = transcript.director.decision if transcript.director else None
    if payload is None or decision is None:
        raise UsageError("there is no remote decision to plan from")
    redactor = payload.redactor
    files = [f"## File {f.path}\n```\n{f.text}\n```" for f in context.files]
    redacted = [r.text for r in redactor.redact_all(
        [decision_text(decision), *files])]
    user = ("# Decision\n" + redacted[0] + "\n\n# Files\n" + ("\n\n".join(redacted[1:])
                                                              or "(no files were named)")
            + "\n\n" + PLAN_RULES)
    messages = [payload.body["messages"][0], {"role": "user", "content": user}]
    body = chat_body(director.config.model, messages, plan_schema(), schema_name="plan")
    body["response_format"]["json_schema"]["strict"] = False
    if director.confirm is not None and not director.confirm(
            type(payload)(body, {}, [], redactor)):
        raise RemoteError("the plan request was not confirmed; nothing was sent")
    try:
        with OpenAICompatClient(director.config) as client:
            result = client.stream_chat(body, on_delta=lambda _t: None, cancel=cancel)
    except RemoteFailure as failure:
        director.log_request(body, f"failed (plan): {failure.reason}", None, failure.latency_s)
        raise RemoteError(f"the remote Director could not write the plan: {failure.reason}",
                          hint="use --director local to plan on this machine") from failure
    from consilium_cli.tools.plan import PlanError

    try:
        plan = parse_plan(restore_placeholders(json.loads(result.text), redactor),
                          source="Director's plan")
    except json.JSONDecodeError as exc:
        director.log_request(body, f"failed (plan): not JSON ({exc.msg})", result)
        raise RemoteError(f"the Director's plan is not JSON ({exc.msg})") from exc
    except (PlanError, RemoteError) as exc:
        director.log_request(body, f"failed (plan): {exc.message}", result)
        if isinstance(exc, RemoteError):
            raise
        raise RemoteError(f"the Director's plan is not valid: {exc.message}") from exc
    director.log_request(body, "ok (plan)", result)
    return plan
