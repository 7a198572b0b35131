"""`consilium undo [SESSION] [--yes] [--force] [--trust-journal]` and
`consilium journal list | show`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt
from consilium_cli.errors import DeclinedError, NoTTYError

if TYPE_CHECKING:
    from rich.console import Console

    from consilium_cli.tools.journal import Journal, SessionLog
    from consilium_cli.tools.undo import UndoPlan

app = typer.Typer(help="The undo journal of this repository.", no_args_is_help=True)

SessionArg = Annotated[str | None, typer.Argument(
    help=("Session id (or a unique prefix); default: the newest with changes to undo "
          "that your history records as made here."),
    show_default=False)]


def _journal(app_ctx: AppContext):  # type: ignore[no-untyped-def]
    from consilium_cli.config import find_git_root
    from consilium_cli.tools.journal import Journal

    cwd = app_ctx.cwd.resolve()
    return Journal(find_git_root(cwd) or cwd)


def _confirm(console: Console, outside: int) -> bool:
    from consilium_cli.ui.keyprompt import ask_key

    question = "Undo these changes? " if not outside else \
        f"Undo these changes, {outside} of them OUTSIDE THE REPOSITORY? "
    key = ask_key([("bold", question), ("", "[y]es  [n]o  (default: no) ")],
                  "yn", default="n", eof_key="n")
    console.print(f"  answer: {key}", style="muted", highlight=False)
    return key == "y"


def _unvouched(app_ctx: AppContext, journal: Journal,
               sessions: list[SessionLog]) -> dict[str, str]:
    """Why history does not vouch for each of `sessions` it does not vouch for, by id."""
    from consilium_cli.history import History
    from consilium_cli.tools.undo import provenance_problem

    if not sessions:
        return {}
    with History(env=app_ctx.env) as history:
        problems = {s.id: provenance_problem(history, journal.root, s) for s in sessions}
    return {sid: why for sid, why in problems.items() if why}


def _resolve(app_ctx: AppContext, journal: Journal, session: str | None,
             trust_journal: bool) -> SessionLog:
    """The session to undo; unless trusted, one history vouches for (the default passes
    over sessions it does not, a named one is refused)."""
    from consilium_cli.history import History
    from consilium_cli.tools.undo import check_provenance, provenance_problem

    if trust_journal:
        return journal.resolve(session)
    with History(env=app_ctx.env) as history:
        log = journal.resolve(session, vouched=lambda candidate: not provenance_problem(
            history, journal.root, candidate))
        check_provenance(history, journal.root, log)
    return log


def _render_outside(console: Console, plan: UndoPlan) -> None:
    from consilium_cli.ui.safe_text import safe

    if not plan.outside:
        return
    console.print(safe("  OUTSIDE THE REPOSITORY (only a yes typed at a terminal covers "
                       "these; --yes does not):", "bold red"))
    for name in plan.outside:
        console.print(safe(f"    {name}", "bold red"))


def undo(
    ctx: typer.Context,
    session: SessionArg = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Restore even what was changed again since the session.")] = False,
    trust_journal: Annotated[bool, typer.Option(
        "--trust-journal",
        help="Undo a session your history does not record as `consilium apply` in this "
             "repository (a journal copied or shipped with the repository). Only for a "
             "session you know you made: its records decide what is written.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Put back every file, git ref and SQLite database an apply session changed.

    Only sessions your history records as `consilium apply` in this repository
    on this machine are undone; any other journal session (one that came with
    the repository) is refused unless you pass --trust-journal.

    Anything outside the repository (a file apply wrote there, a folder it made)
    is listed as OUTSIDE THE REPOSITORY and always needs a yes typed at a
    terminal: neither --yes nor --trust-journal covers it, and without a
    terminal undo refuses (exit 2).
    """
    from consilium_cli.tools.undo import plan_undo, run_undo
    from consilium_cli.ui.apply_view import render_kept_dirs, render_undo_plan
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    app_ctx.settings()
    journal = _journal(app_ctx)
    log = _resolve(app_ctx, journal, session, trust_journal)
    plan = plan_undo(journal, log)
    if not json_out:
        render_undo_plan(app_ctx.out, plan)
    # the person asked about what lies outside sees it listed, on stderr under --json
    _render_outside(app_ctx.err if json_out else app_ctx.out, plan)
    if not force:
        plan.refuse_conflicts()  # before asking: the answer could not be carried out
    interactive = app_ctx.stdin_is_tty and app_ctx.stdout_is_tty
    if plan.outside and not interactive:
        raise NoTTYError(f"undo would change {len(plan.outside)} path(s) outside the "
                         "repository, which only a yes typed at a terminal covers (--yes "
                         "does not), and there is no terminal to ask on",
                         hint=f"consilium undo {log.id}   (run it in a terminal)")
    if not yes or plan.outside:
        if not interactive:
            raise NoTTYError("undo asks before restoring, and there is no terminal to ask on",
                             hint=f"consilium undo {log.id} --yes")
        if not _confirm(app_ctx.err if json_out else app_ctx.out, len(plan.outside)):
            raise DeclinedError("undo declined; nothing was restored")
    done = run_undo(journal, plan, force=force)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, {**plan.to_json(), "done": done})
        return
    app_ctx.out.print(safe(f"undone: session {log.id} ({len(done)} restored)", "ok"))
    render_kept_dirs(app_ctx.out, plan)


def _when(stamp: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))
    except (OverflowError, OSError, ValueError):  # a time the platform cannot show
        return "(unknown time)".ljust(19)


@app.command("list")
def list_sessions(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Apply sessions recorded in this repository's journal, newest first."""
    from consilium_cli.ui.safe_text import safe

    app_ctx: AppContext = ctx.obj
    journal = _journal(app_ctx)
    sessions = journal.sessions()
    if journal.damaged:
        # on stderr: --json keeps its list; a damaged session is most likely a shipped one
        app_ctx.err.print(safe(f"skipped {len(journal.damaged)} damaged session(s): "
                               + ", ".join(sorted(journal.damaged)), "warn"))
    foreign = _unvouched(app_ctx, journal, sessions)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, [{"id": s.id, "created_at": s.created_at, "task": s.task,
                                     "status": s.status, "changes": s.changes,
                                     "made_here": s.id not in foreign}
                                    for s in sessions])
        return
    if not sessions:
        app_ctx.out.print(safe("the journal is empty", "muted"))
        return
    for s in sessions:
        app_ctx.out.print(safe(f"{s.id}  {_when(s.created_at)}  {s.status:<11} "
                               f"{s.changes:>3} change(s)  {s.task}"))
        if s.id in foreign:
            app_ctx.out.print(safe(f"    not made here: {foreign[s.id]}", "warn"))


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
    foreign = _unvouched(app_ctx, journal, [log])
    if foreign:
        out.print(safe(f"not made here: {foreign[log.id]}", "warn"))
    out.print(safe(f"task: {log.task}"))
    for step in log.steps:
        state = "interrupted" if not step.finished else (
            "ok" if step.end and step.end.get("ok") else "failed")
        undo_note = "" if step.undoable else "  (cannot be undone)"
        out.print(safe(f"  #{step.action + 1} {step.label}: {state}{undo_note}"))
        for item in step.begin.get("files", []):
            out.print(safe(f"      {Path(item['path']).as_posix()}", "muted"))
