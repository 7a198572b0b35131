"""`consilium ask "TASK"`: the council debates, the Director decides."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from typing import Annotated, Any

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import CtxOpt, JsonOpt, ModelOpt, ThreadsOpt, model_flags
from consilium_cli.errors import ExitCode, ModelError
from consilium_cli.llm.engine import CancelToken

TaskArg = Annotated[str, typer.Argument(help="What you want the council's advice on.")]
FileOpt = Annotated[list[str] | None, typer.Option(
    "--file", "-f", help="File or glob to give the council (repeatable).")]
StdinOpt = Annotated[bool, typer.Option("--stdin", help="Also read text from standard input.")]
AgentsOpt = Annotated[str | None, typer.Option(
    "--agents", help="Comma-separated roles (dev,security,qa,architect,ux,seo).")]
AllOpt = Annotated[bool, typer.Option("--all", help="All six roles.")]
RoundsOpt = Annotated[int | None, typer.Option("--rounds", help="Debate rounds (1-3).")]
MaxTokOpt = Annotated[int | None, typer.Option("--max-tokens", help="New tokens per answer.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Sampling seed.")]
DirectorOpt = Annotated[str | None, typer.Option(
    "--director", help="Who decides: auto, remote, local or off.")]
NoFallbackOpt = Annotated[bool, typer.Option(
    "--no-fallback", help="A remote Director failure exits 4 instead of deciding locally.")]
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
    model: ModelOpt = None,
    ctx_size: CtxOpt = None,
    threads: ThreadsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask the council: agents debate on the local model, the Director decides."""
    from consilium_cli.council.runner import AskRequest, run_ask

    app_ctx: AppContext = ctx.obj
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
        show_payload=show_payload)

    from consilium_cli.ui.console import write_json
    from consilium_cli.ui.council_view import LiveCouncilView, PlainCouncilView

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
                                 on_status=lambda msg: app_ctx.err.print(msg, style="muted"))
    if show_payload and result.payload is not None:
        render_payload(app_ctx, result.payload, json_out)
        return
    if json_out:
        write_json(app_ctx.stdout, result.to_json())
    transcript = result.transcript
    if transcript.cancelled:
        app_ctx.err.print("interrupted: what was produced is in history "
                          f"(consilium history show {result.session_id})", style="warn")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    outcome = transcript.director
    if outcome is not None and outcome.decision is None:
        raise ModelError(f"the Director gave no decision: {outcome.error}",
                         hint="raise --max-tokens, or run again with another --seed")


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
        answer = app_ctx.err.input("Send it? [y/N] ")
    return answer.strip().lower() in ("y", "yes")
