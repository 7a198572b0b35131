"""`consilium apply "TASK"` and `consilium apply --plan plan.json [--approve …]`.

Every action is shown in full and needs a yes (or a policy given by the user) before it
runs; every answer goes to history; every change goes to the undo journal first.
`run_plan()` is the part a caller with a plan in hand (from a decision) reuses.

Exit codes: 0 done, 1 an approved action failed or could not be applied, 2 bad plan or
usage (or no terminal and no --approve), 5 every action declined, 130 Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import (
    AgentsOpt,
    CtxOpt,
    DirectorOpt,
    FileOpt,
    MaxTokOpt,
    ModelOpt,
    NoFallbackOpt,
    RoundsOpt,
    SeedOpt,
)
from consilium_cli.errors import DeclinedError, InterruptedByUser, NoTTYError, UsageError

if TYPE_CHECKING:
    from consilium_cli.tools.approval import Preview
    from consilium_cli.tools.executor import Executor, PlanFinished
    from consilium_cli.tools.plan import Plan

ACTION_FAILED_EXIT = 1
NO_TTY_HINT = "consilium apply --plan PLAN.json --approve read-only|edits|all"

ApproveOpt = Annotated[str | None, typer.Option(
    "--approve", metavar="read-only|edits|all",
    help="Run without asking: read-only actions, file edits too, or everything. Paths "
         "outside the repository and whitespace-tolerant matches still need a person.")]


def _asker(app_ctx: AppContext):  # type: ignore[no-untyped-def]
    from consilium_cli.ui.apply_view import PROMPT_KEYS, prompt_message, render_preview
    from consilium_cli.ui.keyprompt import ask_key

    def ask(preview: Preview) -> str:
        keys = PROMPT_KEYS if not preview.personal else PROMPT_KEYS.replace("a", "")
        while True:
            key = ask_key(prompt_message(preview), keys, default="n", eof_key="q")
            app_ctx.out.print(f"  answer: {key}", style="muted", highlight=False)
            if key != "d":
                return key
            render_preview(app_ctx.out, preview, full=True)

    return ask


def run_plan(app_ctx: AppContext, plan: Plan, *, policy: str, root: Path) -> None:
    """Show, approve, apply and journal every action of `plan` in the repository `root`."""
    from consilium_cli.history import History
    from consilium_cli.tools.actions import ApplyEnv
    from consilium_cli.tools.approval import ApprovalGate
    from consilium_cli.tools.executor import Executor
    from consilium_cli.tools.journal import Journal

    loaded = app_ctx.settings()
    settings = loaded.settings
    interactive = app_ctx.stdin_is_tty and app_ctx.stdout_is_tty
    if not interactive and policy == "ask":
        raise NoTTYError("apply asks before every action, and there is no terminal to ask on",
                         hint=NO_TTY_HINT)
    task = plan.task or f"plan {plan.source}"
    with History(env=app_ctx.env) as history:
        session_id = history.start_session("apply", task, cwd=str(root))

        def record(preview: Preview, answer: str) -> None:
            history.record_approval(session_id, preview.index, preview.kind, preview.title,
                                    answer)

        gate = ApprovalGate(policy, _asker(app_ctx) if interactive else None, record)
        env = ApplyEnv(root=root, env=dict(app_ctx.env),
                       secret_values=(settings.director.api_key,),
                       default_timeout_s=settings.shell.timeout_s,
                       allow_pipelines=settings.shell.allow_pipelines,
                       journal_factory=lambda: Journal(root).start(session_id, task=task,
                                                                    source=plan.source))
        try:
            finished = _render_events(app_ctx, plan, Executor(plan, gate, env, session_id))
        except KeyboardInterrupt:
            history.finish_session(session_id, status="interrupted", decision=_for_history(plan))
            hint = f"consilium undo {session_id}" if env.has_journal else ""
            raise InterruptedByUser("interrupted: the action in progress was completed or "
                                    "left no trace; nothing after it ran", hint=hint) from None
        except Exception:
            history.finish_session(session_id, status="error", decision=_for_history(plan))
            raise
        history.finish_session(session_id, status=finished.status, decision=_for_history(plan))
    if finished.status == "declined":
        raise DeclinedError("every action was declined; nothing was changed")
    if finished.status == "failed":
        raise typer.Exit(ACTION_FAILED_EXIT)


def _for_history(plan: Plan) -> dict[str, object]:
    """The plan as history keeps it: database URLs without their passwords."""
    from consilium_cli.tools.db import mask_url

    data = plan.to_json()
    for action in data["actions"]:
        if action.get("kind") == "db_query" and isinstance(action.get("url"), str):
            action["url"] = mask_url(action["url"])
    return data


def _render_events(app_ctx: AppContext, plan: Plan, executor: Executor) -> PlanFinished:
    """Show every event as it comes; return the plan's outcome."""
    from consilium_cli.tools.actions import ActionOutput
    from consilium_cli.tools.executor import (
        ActionDecided,
        ActionFinished,
        ActionShown,
        PlanFinished,
    )
    from consilium_cli.ui import apply_view
    from consilium_cli.ui.safe_text import safe

    out = app_ctx.out
    if plan.summary:
        out.print(safe(f"plan: {plan.summary}", "title"))
    streamed: set[int] = set()
    for event in executor.run():
        if isinstance(event, ActionShown):
            apply_view.render_preview(out, event.preview)
        elif isinstance(event, ActionDecided):
            apply_view.render_decision(out, event.preview, event.decision)
        elif isinstance(event, ActionOutput):
            streamed.add(event.index)
            apply_view.render_output(out, event.stream, event.text)
        elif isinstance(event, ActionFinished):
            apply_view.render_result(out, event.preview, event.result,
                                     streamed=event.preview.index in streamed)
        elif isinstance(event, PlanFinished):
            apply_view.render_summary(out, event)
            return event
    raise AssertionError("the executor ended without a PlanFinished event")


def apply(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Argument(
        help="A task: the council decides, the decision becomes a plan, the plan is applied.",
        show_default=False)] = None,
    plan: Annotated[Path | None, typer.Option(
        "--plan", "-p", help="An action plan (JSON, see docs/plan-schema.md) to apply.",
        dir_okay=False)] = None,
    approve: ApproveOpt = None,
    file: FileOpt = None,
    agents: AgentsOpt = None,
    rounds: RoundsOpt = None,
    max_tokens: MaxTokOpt = None,
    seed: SeedOpt = None,
    director: DirectorOpt = None,
    no_fallback: NoFallbackOpt = False,
    model: ModelOpt = None,
    ctx_size: CtxOpt = None,
) -> None:
    """Apply an action plan: each action shown in full and approved, every change undoable."""
    from consilium_cli.config import find_git_root
    from consilium_cli.tools.approval import check_policy
    from consilium_cli.tools.plan import load_plan

    app_ctx: AppContext = ctx.obj
    if plan is None and not task:
        raise UsageError("no task and no plan given",
                         hint='consilium apply "TASK"  or  consilium apply --plan plan.json')
    if plan is not None and task:
        raise UsageError("give either a TASK or --plan, not both",
                         hint="consilium apply --plan plan.json")
    if approve is not None:
        check_policy(approve)
    loaded = app_ctx.settings(flags={"approval.policy": approve})
    policy = loaded.settings.approval.policy
    root = find_git_root(app_ctx.cwd.resolve()) or app_ctx.cwd.resolve()
    if plan is not None:
        path = plan if plan.is_absolute() else app_ctx.cwd / plan
        run_plan(app_ctx, load_plan(path), policy=policy, root=root)
        return
    if policy == "ask" and not (app_ctx.stdin_is_tty and app_ctx.stdout_is_tty):
        # Refuse before the council spends minutes on a plan nobody can approve.
        raise NoTTYError("apply asks before every action, and there is no terminal to ask on",
                         hint=f'consilium apply "{task}" --approve read-only|edits|all')
    from consilium_cli.cli.ask_cmd import run_ask_command

    result = run_ask_command(
        app_ctx, task=task or "", file=file, stdin=False, agents=agents, all_roles=False,
        rounds=rounds, max_tokens=max_tokens, seed=seed, director=director,
        no_fallback=no_fallback, show_payload=False, want_plan=True, model=model,
        ctx_size=ctx_size, threads=None, json_out=False)
    if result.plan is None:
        raise UsageError("the council gave no decision to turn into a plan")
    run_plan(app_ctx, result.plan, policy=policy, root=root)
