"""`consilium review`: a council code review of a diff, for people and for CI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import (
    CtxOpt,
    DirectorOpt,
    JsonOpt,
    ModelOpt,
    NoFallbackOpt,
    model_flags,
)
from consilium_cli.errors import ExitCode, UsageError
from consilium_cli.ui.safe_text import safe

if TYPE_CHECKING:
    from consilium_cli.review.report import ReportMeta
    from consilium_cli.review.runner import ReviewEvent, ReviewResult

FORMATS = ("text", "markdown", "json", "sarif")

PatchArg = Annotated[str | None, typer.Argument(
    help="Patch file to review ('-' or nothing: standard input).", show_default=False)]
StagedOpt = Annotated[bool, typer.Option("--staged", help="Review the staged changes.")]
BaseOpt = Annotated[str | None, typer.Option(
    "--base", help="Review the working tree (with --staged: the index) against REF.",
    metavar="REF")]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="Output format: text, markdown, json or sarif.", metavar="FORMAT")]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the report to FILE instead of standard output.",
    metavar="FILE")]
FailOnOpt = Annotated[str | None, typer.Option(
    "--fail-on", help="Exit 1 when a finding is at or above this severity "
                      "(info, low, medium, high, critical).", metavar="SEVERITY")]
AgentsOpt = Annotated[str | None, typer.Option(
    "--agents", help="Only these roles, each reviewing everything (dev,security,qa,...).")]


def review(
    ctx: typer.Context,
    patch_file: PatchArg = None,
    staged: StagedOpt = False,
    base: BaseOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    model: ModelOpt = None,
    ctx_size: CtxOpt = None,
    agents: AgentsOpt = None,
    director: DirectorOpt = None,
    no_fallback: NoFallbackOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Review a diff with the council: `git diff | consilium review`."""
    from consilium_cli.council.roles import parse_roles
    from consilium_cli.review.diff import parse_diff
    from consilium_cli.review.findings import exit_code_for, parse_severity
    from consilium_cli.review.report import ReportMeta
    from consilium_cli.review.source import read_source

    app_ctx: AppContext = ctx.obj
    out_format = _format(fmt, json_out)
    flags = model_flags(model, ctx_size)
    flags["review.fail_on"] = parse_severity(fail_on) if fail_on is not None else None
    flags["director.mode"] = director
    loaded = app_ctx.settings(flags)
    settings = loaded.settings
    threshold = settings.review.fail_on
    roles = parse_roles(agents) or (list(settings.council.agents) or None)

    source = read_source(patch=patch_file, staged=staged, base=base, stdin=app_ctx.stdin,
                         stdin_is_tty=app_ctx.stdin_is_tty, cwd=app_ctx.cwd,
                         max_bytes=int(settings.review.max_input_mb * 1_000_000))
    if source.from_git and not source.text.strip():
        result, model_name = _empty_result(), ""
        app_ctx.err.print(safe(f"nothing to review: no changes in {source.label}", "muted"))
    else:
        diff = parse_diff(source.text)
        result, model_name = _run(app_ctx, loaded, diff, source.root, roles, source.label,
                                  no_fallback)

    code = exit_code_for(result.findings, threshold)
    from consilium_cli import __version__

    meta = ReportMeta(source=source.label, model=model_name, fail_on=threshold,
                      exit_code=code, version=__version__)
    _emit(app_ctx, result, meta, out_format, output)
    if result.cancelled:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if code:
        raise typer.Exit(code)


def _format(fmt: str | None, json_out: bool) -> str:
    chosen = (fmt or "").strip().lower()
    if json_out:
        if chosen not in ("", "json"):
            raise UsageError(f"--json and --format {fmt} disagree", hint="use one of them")
        return "json"
    if not chosen:
        return "text"
    if chosen not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    return chosen


def _run(app_ctx: AppContext, loaded: Any, diff: Any, root: Path | None,
         roles: list[str] | None, label: str, no_fallback: bool) -> tuple[ReviewResult, str]:
    from consilium_cli.cli.ask_cmd import cancel_on_sigint
    from consilium_cli.history import History
    from consilium_cli.llm.engine import CancelToken
    from consilium_cli.llm.loader import load_engine
    from consilium_cli.review.service import model_label, review_diff

    engine = load_engine(loaded)
    try:
        with History(env=app_ctx.env) as history:
            session = history.start_session("review", f"review {label}", model=engine.info.path,
                                            cwd=str(app_ctx.cwd))
            cancel = CancelToken()
            progress = _progress(app_ctx) if _stderr_is_tty(app_ctx) else None
            state = "failed"
            result: ReviewResult | None = None
            try:
                summarize = _summarizer(app_ctx, loaded, engine, root, history, session,
                                        no_fallback)
                with cancel_on_sigint(cancel):
                    result = review_diff(diff, engine, loaded.settings, root=root,
                                         agents=roles, cancel=cancel, on_event=progress,
                                         summarize=summarize)
                state = "cancelled" if result.cancelled else "done"
            finally:
                history.finish_session(
                    session, status=state, director=result.verdict.by if result else "",
                    decision={"summary": result.verdict.summary,
                              "findings": [f.to_json() for f in result.findings]}
                    if result else None)
        return result, model_label(engine)
    finally:
        engine.close()


def _summarizer(app_ctx: AppContext, loaded: Any, engine: Any, root: Path | None,
                history: Any, session: str, no_fallback: bool) -> Any:
    """The remote Director's summary (local fallback) unless director.mode is local/off."""
    settings = loaded.settings
    if settings.director.mode in ("local", "off"):
        return None
    from consilium_cli.review.remote_verdict import remote_summarizer
    from consilium_cli.review.service import review_options
    from consilium_cli.review.verdict import local_summarizer

    def log(body: dict[str, Any], outcome: str, result: Any) -> None:
        import json

        history.record_director_request(
            session, endpoint=(settings.director.base_url or "https://api.openai.com/v1"),
            model=settings.director.model, payload=json.dumps(body, ensure_ascii=False),
            outcome=outcome,
            usage={"prompt_tokens": getattr(result, "prompt_tokens", 0),
                   "completion_tokens": getattr(result, "completion_tokens", 0)},
            latency_s=getattr(result, "latency_s", 0.0))

    fallback = None if no_fallback else local_summarizer(
        engine, seed=review_options(settings, engine).seed)
    return remote_summarizer(settings, fallback, repo_root=root, log=log,
                             on_status=lambda msg: app_ctx.err.print(safe(msg, "muted")))


def _stderr_is_tty(app_ctx: AppContext) -> bool:
    return bool(getattr(app_ctx.stderr, "isatty", lambda: False)())


def _progress(app_ctx: AppContext) -> Any:
    from consilium_cli.review.runner import GroupDone, GroupStarted, Summarizing

    def show(event: ReviewEvent) -> None:
        if isinstance(event, GroupStarted):
            app_ctx.err.print(f"group {event.index + 1}/{event.total}: {event.tokens} tokens, "
                              f"{', '.join(event.roles)} …", style="muted")
        elif isinstance(event, GroupDone):
            found = sum(len(o.findings) for o in event.outcomes)
            app_ctx.err.print(f"group {event.index + 1}/{event.total} done in "
                              f"{event.seconds:.1f} s: {found} finding(s)", style="muted")
        elif isinstance(event, Summarizing):
            app_ctx.err.print(f"ranking {event.findings} finding(s) …", style="muted")

    return show


def _empty_result() -> ReviewResult:
    from consilium_cli.review.diff import Diff
    from consilium_cli.review.plan import ReviewPlan
    from consilium_cli.review.runner import ReviewResult
    from consilium_cli.review.verdict import unranked

    return ReviewResult(ReviewPlan(Diff(()), (), (), 0), unranked(()))


def _emit(app_ctx: AppContext, result: ReviewResult, meta: ReportMeta, out_format: str,
          output: Path | None) -> None:
    from consilium_cli.review import report

    if out_format == "text" and output is None and app_ctx.stdout_is_tty:
        for renderable in report.rich_report(result, meta):
            app_ctx.out.print(renderable)
        return
    if out_format in ("json", "sarif"):
        from consilium_cli.ui.console import json_text

        payload = report.to_json(result, meta) if out_format == "json" else \
            report.to_sarif(result, meta)
        text = json_text(payload) + "\n"
    elif out_format == "markdown":
        text = report.to_markdown(result, meta)
    else:
        text = report.to_text(result, meta)
    if output is None:
        app_ctx.stdout.write(text)
        app_ctx.stdout.flush()
        return
    from consilium_cli.tools.atomic import atomic_write_bytes

    path = output if output.is_absolute() else app_ctx.cwd / output
    try:
        atomic_write_bytes(path, text.encode("utf-8"), keep_mode=True)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}",
                         hint="choose a writable path for --output") from exc
    app_ctx.err.print(safe(f"wrote the {out_format} report to {output} "
                           f"({len(result.findings)} finding(s))", "muted"))
