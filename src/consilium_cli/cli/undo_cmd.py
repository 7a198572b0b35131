"""`consilium undo [SESSION] [--yes] [--force]` and `consilium journal list | show`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt
from consilium_cli.errors import DeclinedError, NoTTYError

app = typer.Typer(help="The undo journal of this repository.", no_args_is_help=True)

SessionArg = Annotated[str | None, typer.Argument(
    help="Session id (or a unique prefix); default: the newest with changes to undo.",
    show_default=False)]


def _journal(app_ctx: AppContext):  # type: ignore[no-untyped-def]
    from consilium_cli.config import find_git_root
    from consilium_cli.tools.journal import Journal

    cwd = app_ctx.cwd.resolve()
    return Journal(find_git_root(cwd) or cwd)


def _confirm(app_ctx: AppContext) -> bool:
    from consilium_cli.ui.keyprompt import ask_key

    key = ask_key([("bold", "Undo these changes? "), ("", "[y]es  [n]o  (default: no) ")],
                  "yn", default="n", eof_key="n")
    app_ctx.out.print(f"  answer: {key}", style="muted", highlight=False)
    return key == "y"


def undo(
    ctx: typer.Context,
    session: SessionArg = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Restore even what was changed again since the session.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Put back every file, git ref and SQLite database an apply session changed."""
    from consilium_cli.tools.undo import plan_undo, run_undo
    from consilium_cli.ui.apply_view import render_undo_plan
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    app_ctx.settings()
    journal = _journal(app_ctx)
    log = journal.resolve(session)
    plan = plan_undo(journal, log)
    if not json_out:
        render_undo_plan(app_ctx.out, plan)
    if not force:
        plan.refuse_conflicts()  # before asking: the answer could not be carried out
    if not yes:
        if not (app_ctx.stdin_is_tty and app_ctx.stdout_is_tty):
            raise NoTTYError("undo asks before restoring, and there is no terminal to ask on",
                             hint=f"consilium undo {log.id} --yes")
        if not _confirm(app_ctx):
            raise DeclinedError("undo declined; nothing was restored")
    done = run_undo(journal, plan, force=force)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, {**plan.to_json(), "done": done})
        return
    app_ctx.out.print(safe(f"undone: session {log.id} ({len(done)} restored)", "ok"))


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


@app.command("list")
def list_sessions(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Apply sessions recorded in this repository's journal, newest first."""
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    sessions = _journal(app_ctx).sessions()
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, [{"id": s.id, "created_at": s.created_at, "task": s.task,
                                     "status": s.status, "changes": s.changes}
                                    for s in sessions])
        return
    if not sessions:
        app_ctx.out.print(safe("the journal is empty", "muted"))
        return
    for s in sessions:
        app_ctx.out.print(safe(f"{s.id}  {_when(s.created_at)}  {s.status:<11} "
                               f"{s.changes:>3} change(s)  {s.task}"))


@app.command("show")
def show(ctx: typer.Context, session: SessionArg = None, json_out: JsonOpt = False) -> None:
    """Every step of one session: what it changed and whether undo can put it back."""
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    journal = _journal(app_ctx)
    sessions = [] if session else journal.sessions()
    # the newest session, even one with nothing to undo (resolve() names the empty journal)
    log = sessions[0] if sessions else journal.resolve(session)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, log.to_json())
        return
    out = app_ctx.out
    out.print(safe(f"session {log.id}  {_when(log.created_at)}  [{log.status}]", "title"))
    out.print(safe(f"task: {log.task}"))
    for step in log.steps:
        state = "interrupted" if not step.finished else (
            "ok" if step.end and step.end.get("ok") else "failed")
        undo_note = "" if step.undoable else "  (cannot be undone)"
        out.print(safe(f"  #{step.action + 1} {step.label}: {state}{undo_note}"))
        for item in step.begin.get("files", []):
            out.print(safe(f"      {Path(item['path']).as_posix()}", "muted"))
