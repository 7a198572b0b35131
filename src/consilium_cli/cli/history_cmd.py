"""`consilium history list | show ID | export ID --json`."""

from __future__ import annotations

import datetime
from typing import Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt

app = typer.Typer(help="Past sessions: tasks, every message, decisions, approvals.",
                  no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="Session id (a unique prefix), or 'last'.")]


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


@app.command("list")
def list_sessions(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """The most recent sessions."""
    from consilium_cli.history import History
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    with History(env=app_ctx.env) as history:
        sessions = history.list_sessions(limit)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, [s.__dict__ for s in sessions])
        return
    if not sessions:
        app_ctx.err.print(safe('history is empty: consilium ask "…" starts a session', "muted"))
        return
    for s in sessions:
        task = " ".join(s.task.split())
        task = task[:70] + "…" if len(task) > 70 else task
        app_ctx.out.print(safe(f"{s.id}  {_when(s.created_at)}  {s.kind:<6} {s.status:<9} "
                               f"{','.join(s.roles):<28} {task}"))


@app.command("show")
def show(ctx: typer.Context, session: IdArg = "last", json_out: JsonOpt = False) -> None:
    """One session in full: messages per round, the decision, approvals."""
    from consilium_cli.history import History
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    with History(env=app_ctx.env) as history:
        record = history.get_session(session)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, record.to_json())
        return
    s = record.summary
    out = app_ctx.out
    out.print(safe(f"session {s.id} · {s.kind} · {s.status} · {_when(s.created_at)}", "title"))
    out.print(safe(f"task: {s.task}"))
    out.print(safe(f"model: {record.model}", "muted"))
    current = None
    for message in record.messages:
        if message["round"] != current:
            current = message["round"]
            out.print(safe(f"\n== Round {current} ==", "title"))
        out.print(safe(f"\n[{message['role']}] ({message['completion_tokens']} tokens, "
                       f"{message['finish_reason']})", f"role.{message['role']}"))
        out.print(safe(message["text"].strip()))
    if record.decision:
        d = record.decision
        out.print(safe(f"\n== Director: {s.director} ==", "title"))
        out.print(safe(d.get("decision", "")))
        for reason in d.get("reasons", []):
            out.print(safe(f"- {reason}"))
    for approval in record.approvals:
        out.print(safe(f"approval #{approval['action_index']} {approval['kind']}: "
                       f"{approval['answer']}  {approval['summary']}"))
    for request in record.director_requests:
        out.print(safe(f"director request to {request['endpoint']} ({request['model']}): "
                       f"{request['outcome']}, {request['latency_s']:.2f} s", "muted"))


@app.command("export")
def export(ctx: typer.Context, session: IdArg = "last",
           json_out: Annotated[bool, typer.Option("--json", help="JSON (the only format).")]
           = True) -> None:
    """Export a session as JSON."""
    from consilium_cli.history import History
    from consilium_cli.ui.console import write_json

    app_ctx: AppContext = ctx.obj
    with History(env=app_ctx.env) as history:
        write_json(app_ctx.stdout, history.get_session(session).to_json())
