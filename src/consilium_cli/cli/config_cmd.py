"""`consilium config show | path`."""

from __future__ import annotations

from typing import Any

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt
from consilium_cli.config import PROJECT_FILE, key_specs

app = typer.Typer(help="Show the effective settings and where they come from.",
                  no_args_is_help=True)


def _display(value: Any, secret: bool) -> Any:
    if secret:
        return "(set)" if value else "(not set)"
    return value


def _shown(value: Any) -> str:
    """A value as text: strings quoted, so an empty one is visible."""
    return repr(value) if isinstance(value, str) else str(value)


@app.command("show")
def show(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Every effective setting with the layer it came from."""
    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    rows = []
    for dotted, spec in key_specs().items():
        value = _display(loaded.value(dotted), bool(spec.meta.get("secret")))
        rows.append((dotted, value, loaded.origins[dotted], spec.doc))
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, {k: {"value": v, "origin": o} for k, v, o, _ in rows})
        return
    from consilium_cli.ui.safe_text import safe

    if app_ctx.stdout_is_tty:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_header=True, header_style="title")
        for column in ("setting", "value", "from", "meaning"):
            table.add_column(column)
        for dotted, value, origin, doc in rows:
            table.add_row(safe(dotted), safe(_shown(value)), safe(origin, "muted"),
                          safe(doc, "muted"))
        app_ctx.out.print(table)
    else:
        for dotted, value, origin, _ in rows:
            app_ctx.out.print(safe(f"{dotted} = {_shown(value)}  # {origin}"))


@app.command("path")
def path(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """The user config file and the project file in effect."""
    app_ctx: AppContext = ctx.obj
    loaded = app_ctx.settings()
    user = str(loaded.user_file)
    project = str(loaded.project_file) if loaded.project_file else None
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, {"user": user, "user_exists": loaded.user_file.exists()
                                    if loaded.user_file else False, "project": project})
        return
    from consilium_cli.ui.safe_text import safe

    exists = loaded.user_file is not None and loaded.user_file.exists()
    app_ctx.out.print(safe(f"user:    {user}" + ("" if exists else "  (not created yet)")))
    app_ctx.out.print(safe(f"project: {project or f'(no {PROJECT_FILE} up to the git root)'}"))
