"""`consilium ask "TASK"`: the council debates, the Director decides."""

from __future__ import annotations

import json
import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import (
    AgentsOpt,
    AllOpt,
    CtxOpt,
    DirectorOpt,
    FileOpt,
    JsonOpt,
    MaxTokOpt,
    ModelOpt,
    NoFallbackOpt,
    RoundsOpt,
    SeedOpt,
    ThreadsOpt,
    model_flags,
)
from consilium_cli.errors import ExitCode, ModelError, UsageError
from consilium_cli.llm.engine import CancelToken

TaskArg = Annotated[str, typer.Argument(help="What you want the council's advice on.")]
StdinOpt = Annotated[bool, typer.Option("--stdin", help="Also read text from standard input.")]
SavePlanOpt = Annotated[Path | None, typer.Option(
    "--save-plan", dir_okay=False,
    help="Turn the decision into an action plan (JSON) for `consilium apply --plan`.")]
ShowPayloadOpt = Annotated[bool, typer.Option(
    "--show-payload", help="Print the exact (redacted) request the remote Director would "
                           "get, and send nothing.")]


@contextmanager
def cancel_on_sigint(cancel: CancelToken) -> Iterator[None]:
    """First Ctrl-C stops generation gracefully; a second one interrupts at once."""
    def handler(signum: int, frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (e.g. some test runners)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def ask(
    ctx: typer.Context,
    task: TaskArg,
    file: FileOpt = None,
    stdin: StdinOpt = False,
    agents: AgentsOpt = None,
    all_roles: AllOpt = False,
    rounds: RoundsOpt = None,
    max_tokens: MaxTokOpt = None,
    seed: SeedOpt = None,
    director: DirectorOpt = None,
    no_fallback: NoFallbackOpt = False,
    show_payload: ShowPayloadOpt = False,
    save_plan: SavePlanOpt = None,
    model: ModelOpt = None,
    ctx_size: CtxOpt = None,
    threads: ThreadsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask the council: agents debate on the local model, the Director decides."""
    app_ctx: AppContext = ctx.obj
    result = run_ask_command(
        app_ctx, task=task, file=file, stdin=stdin, agents=agents, all_roles=all_roles,
        rounds=rounds, max_tokens=max_tokens, seed=seed, director=director,
        no_fallback=no_fallback, show_payload=show_payload, want_plan=save_plan is not None,
        model=model, ctx_size=ctx_size, threads=threads, json_out=json_out)
    if save_plan is not None and result.plan is not None:
        from consilium_cli.tools.atomic import atomic_write_text
        from consilium_cli.ui.safe_text import safe

        path = save_plan if save_plan.is_absolute() else app_ctx.cwd / save_plan
        atomic_write_text(path, json.dumps(result.plan.to_json(), ensure_ascii=False,
                                           indent=2) + "\n")
        app_ctx.err.print(safe(f"plan saved: {path} ({len(result.plan.actions)} actions); "
                               f"apply it with: consilium apply --plan {save_plan}", "ok"))


def run_ask_command(app_ctx: AppContext, *, task: str, file: list[str] | None, stdin: bool,
                    agents: str | None, all_roles: bool, rounds: int | None,
                    max_tokens: int | None, seed: int | None, director: str | None,
                    no_fallback: bool, show_payload: bool, want_plan: bool,
                    model: str | None, ctx_size: int | None, threads: int | None,
                    json_out: bool) -> Any:
    """Run the council with live rendering; shared by `ask` and `apply "TASK"`."""
    from consilium_cli.council.runner import AskRequest, run_ask

    flags = model_flags(model, ctx_size, threads)
    flags.update({"council.rounds": rounds, "council.max_tokens": max_tokens,
                  "council.seed": seed, "director.mode": director})
    loaded = app_ctx.settings(flags)
    stdin_text = app_ctx.stdin.read() if stdin else ""
    council = loaded.settings.council
    request = AskRequest(
        task=task, files=tuple(file or ()), stdin_text=stdin_text, agents=agents,
        all_roles=all_roles, seed=council.seed if council.seed >= 0 else
        random.randrange(2**31), cwd=app_ctx.cwd, no_fallback=no_fallback,
        show_payload=show_payload, want_plan=want_plan, env=app_ctx.env)

    from consilium_cli.ui.console import write_json
    from consilium_cli.ui.council_view import LiveCouncilView, PlainCouncilView
    from consilium_cli.ui.safe_text import safe

    cancel = CancelToken()
    view: Any
    # With --show-payload, standard output carries only the request body.
    console = app_ctx.err if show_payload else app_ctx.out
    if json_out:
        view = None
    elif (app_ctx.stderr if show_payload else app_ctx.stdout).isatty():
        view = LiveCouncilView(console)
    else:
        view = PlainCouncilView(console)
    request = replace(request, confirm=lambda payload: confirm_send(app_ctx, view, payload))
    with cancel_on_sigint(cancel):
        if view is None:
            result = run_ask(loaded, request, cancel=cancel, on_event=None,
                             on_status=None)
        else:
            with view:
                result = run_ask(loaded, request, cancel=cancel, on_event=view.handle,
                                 on_status=lambda msg: app_ctx.err.print(safe(msg, "muted")))
    if show_payload and result.payload is not None:
        render_payload(app_ctx, result.payload, json_out)
        return result
    if json_out:
        payload = result.to_json()
        if result.plan is not None:
            payload["plan"] = result.plan.to_json()
        write_json(app_ctx.stdout, payload)
    transcript = result.transcript
    if transcript.cancelled:
        app_ctx.err.print(safe("interrupted: what was produced is in history "
                               f"(consilium history show {result.session_id})", "warn"))
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    outcome = transcript.director
    if outcome is not None and outcome.decision is None:
        raise ModelError(f"the Director gave no decision: {outcome.error}",
                         hint="raise --max-tokens, or run again with another --seed")
    if want_plan and outcome is None:
        raise UsageError("an action plan needs a decision; --director off gives none",
                         hint="drop --director off")
    return result


def render_payload(app_ctx: AppContext, payload: Any, json_out: bool) -> None:
    """The exact request body, then what was replaced (kinds and counts, never values)."""
    from consilium_cli.ui.safe_text import safe

    app_ctx.stdout.write(payload.as_json() + "\n")
    replaced = ", ".join(f"{kind} ×{count}" for kind, count in sorted(payload.replaced.items()))
    app_ctx.err.print(safe(f"redacted: {replaced or 'nothing'}", "muted"))
    for note in payload.trimmed:
        app_ctx.err.print(safe(f"trimmed: {note}", "muted"))
    app_ctx.err.print(safe("nothing was sent", "muted"))


def confirm_send(app_ctx: AppContext, view: Any, payload: Any) -> bool:
    """`director.confirm = true`: ask before the request leaves the machine."""
    from consilium_cli.ui.safe_text import safe

    if not (app_ctx.stdin_is_tty and app_ctx.stdout_is_tty):
        app_ctx.err.print(safe("director.confirm is set and there is no terminal to ask: "
                               "nothing is sent", "warn"))
        return False
    body = payload.body
    size = len(payload.as_json())
    replaced = sum(payload.replaced.values())
    suspend = view.suspend() if hasattr(view, "suspend") else nullcontext()
    with suspend:
        app_ctx.err.print(safe(f"The remote Director ({body['model']}) would receive {size:,} "
                               f"characters ({replaced} values redacted). "
                               "`consilium ask --show-payload` prints it.", "warn"))
        answer = app_ctx.err.input("Send it? [y/N] ", markup=False)
    return answer.strip().lower() in ("y", "yes")
