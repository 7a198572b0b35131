"""`consilium redact [FILE|-]`: show exactly what the Director would receive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt
from consilium_cli.errors import UsageError

SourceArg = Annotated[str | None, typer.Argument(
    metavar="FILE|-", show_default=False,
    help="File to redact; `-` or nothing with piped input reads standard input.")]


def redact(ctx: typer.Context, source: SourceArg = None, json_out: JsonOpt = False) -> None:
    """Print a text with its secrets and private paths replaced by placeholders.

    The summary (kinds and counts, never the values) goes to standard error.
    """
    from consilium_cli.council.redact import RedactionRules, Redactor

    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    text = _read(app_ctx, source)
    rules = RedactionRules.from_settings(loaded.settings.redact)
    result = Redactor(rules, repo_root=loaded.project_root).redact(text)
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, {"text": result.text, "replaced": result.replaced})
        return
    if app_ctx.stdout_is_tty:
        from consilium_cli.ui.safe_text import clean

        app_ctx.stdout.write(clean(result.text))
    else:
        app_ctx.stdout.write(result.text)  # a pipe gets the exact redacted bytes
    app_ctx.stdout.flush()
    from consilium_cli.ui.safe_text import safe

    if result.replaced:
        counts = ", ".join(f"{kind} {count}" for kind, count in result.replaced.items())
        app_ctx.err.print(safe(f"redacted {result.total}: {counts}", "muted"))
    else:
        app_ctx.err.print(safe("redacted 0: nothing to replace", "muted"))


def _read(app_ctx: AppContext, source: str | None) -> str:
    if source is None and app_ctx.stdin_is_tty:
        raise UsageError("nothing to redact: give a file or pipe text in",
                         hint="consilium redact FILE   (or: cat FILE | consilium redact -)")
    if source is None or source == "-":
        return app_ctx.stdin.read()
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = app_ctx.cwd / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot read {source}: {reason}",
                         hint="consilium redact <a readable file>") from exc
    return data.decode("utf-8", errors="replace")
