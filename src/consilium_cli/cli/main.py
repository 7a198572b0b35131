"""The `consilium` command: global options, command groups, and error-to-exit-code mapping."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from consilium_cli import __version__
from consilium_cli.cli.context import AppContext
from consilium_cli.errors import ConsiliumError, ExitCode

INTERNAL_ERROR = 70


class ConsiliumGroup(TyperGroup):
    """Maps consilium errors to their exit codes; tracebacks only with --debug."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ConsiliumError as exc:
            _report(ctx, exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:
            app_ctx = _app_context(ctx)
            if app_ctx.debug:
                raise
            from consilium_cli.ui.safe_text import safe

            app_ctx.err.print(safe(f"internal error: {type(exc).__name__}: {exc}", "error"))
            app_ctx.err.print(safe("this is a bug in consilium; run again with --debug for "
                                   "the traceback and report it", "hint"))
            raise typer.Exit(INTERNAL_ERROR) from None


def _app_context(ctx: Any) -> AppContext:
    """The command's context, or a default one when the error came before it was made."""
    return ctx.obj if isinstance(ctx.obj, AppContext) else AppContext()


def _report(ctx: Any, exc: ConsiliumError) -> None:
    from consilium_cli.ui.render import render_error

    app_ctx = _app_context(ctx)
    if app_ctx.debug:
        import traceback

        app_ctx.stderr.write("".join(traceback.format_exception(exc)))
    render_error(app_ctx.err, exc)


app = typer.Typer(
    name="consilium",
    cls=ConsiliumGroup,
    help="A council of local role agents that debates your coding task and gives one "
         "well-argued answer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"consilium {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (as NO_COLOR).")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """consilium: a local council of role agents for your code."""
    ctx.obj = AppContext(debug=debug, color="never" if no_color else "auto")


def _register() -> None:
    from consilium_cli.cli import (
        apply_cmd,
        ask_cmd,
        config_cmd,
        doctor_cmd,
        history_cmd,
        kb_cmd,
        models_cmd,
        redact_cmd,
        review_cmd,
        route_cmd,
        undo_cmd,
    )

    app.command("ask")(ask_cmd.ask)
    app.command("apply")(apply_cmd.apply)
    app.command("undo")(undo_cmd.undo)
    app.command("review")(review_cmd.review)
    app.command("route")(route_cmd.route)
    app.command("redact")(redact_cmd.redact)
    app.command("doctor")(doctor_cmd.doctor)
    app.add_typer(kb_cmd.app, name="kb")
    app.add_typer(history_cmd.app, name="history")
    app.add_typer(undo_cmd.app, name="journal")
    app.add_typer(models_cmd.app, name="models")
    app.add_typer(config_cmd.app, name="config")


_register()


def run() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="consilium")
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.INTERRUPTED))


if __name__ == "__main__":
    run()
