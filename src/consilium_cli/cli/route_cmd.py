"""`consilium route TASK`: which roles would join a task, and the words that chose them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import AgentsOpt, AllOpt, JsonOpt, ModelOpt, model_flags

if TYPE_CHECKING:
    from consilium_cli.council.router import Routing

TaskArg = Annotated[str, typer.Argument(
    help="The task, in English or Russian (or a mix); `-` reads it from standard input.")]
FileOpt = Annotated[list[str] | None, typer.Option(
    "--file", "-f", help="A file the task is about; its path is a routing signal. Repeatable.")]
ClassifyOpt = Annotated[bool, typer.Option(
    "--classify", help="When the words are not enough, let the local model choose "
                       "(the model is loaded only then).")]


def route(
    ctx: typer.Context,
    task: TaskArg,
    json_out: JsonOpt = False,
    agents: AgentsOpt = None,
    all_roles: AllOpt = False,
    files: FileOpt = None,
    classify: ClassifyOpt = False,
    model: ModelOpt = None,
) -> None:
    """Show which roles would join TASK and why."""
    from consilium_cli.council.router import route as choose_roles
    from consilium_cli.errors import UsageError

    app_ctx: AppContext = ctx.obj
    if all_roles and agents is not None:
        raise UsageError("--agents and --all cannot be used together", hint="keep one of them")
    if task == "-":
        task = app_ctx.stdin.read()
    flags = model_flags(model) if classify else {}
    loaded = app_ctx.settings(flags=flags)
    chosen_agents = agents.split(",") if agents is not None else None
    if chosen_agents is None and not all_roles and loaded.settings.council.agents:
        chosen_agents = list(loaded.settings.council.agents)
    paths = list(files or [])
    routing = choose_roles(task, files=paths, agents=chosen_agents, all_roles=all_roles)
    if classify and not routing.confident:
        from consilium_cli.llm.loader import load_engine

        with load_engine(loaded, n_seq_max=2) as engine:
            routing = choose_roles(task, files=paths, engine=engine)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, routing.to_json())
        return
    _render(app_ctx, routing)


def _render(app_ctx: AppContext, routing: Routing) -> None:
    from rich.text import Text

    from consilium_cli.ui.safe_text import safe

    width = max(len(role) for role in routing.roles)
    for role in routing.roles:
        line = Text(f"{role:<{width}}  ", style=f"role.{role}")
        line.append_text(safe(", ".join(routing.reasons.get(role, []))))
        app_ctx.out.print(line)
    note = {
        "lexicon": "chosen from the task's words and paths",
        "model": "chosen by the local model (the words were not enough)",
        "override": "chosen by you",
    }[routing.stage]
    if routing.stage == "lexicon" and not routing.confident:
        note = "few signals in the task; a default choice (--classify lets the model decide)"
    app_ctx.out.print(safe(f"stage: {routing.stage}: {note}", "muted"))
