"""`consilium ask "TASK"`: the council debates, the Director decides."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager
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
        random.randrange(2**31), cwd=app_ctx.cwd)

    from consilium_cli.ui.console import write_json
    from consilium_cli.ui.council_view import LiveCouncilView, PlainCouncilView

    cancel = CancelToken()
    view: Any
    if json_out:
        view = None
    elif app_ctx.stdout_is_tty:
        view = LiveCouncilView(app_ctx.out)
    else:
        view = PlainCouncilView(app_ctx.out)
    with cancel_on_sigint(cancel):
        if view is None:
            result = run_ask(loaded, request, cancel=cancel, on_event=None,
                             on_status=None)
        else:
            with view:
                result = run_ask(loaded, request, cancel=cancel, on_event=view.handle,
                                 on_status=lambda msg: app_ctx.err.print(msg, style="muted"))
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
