"""`consilium doctor`."""

from __future__ import annotations

from dataclasses import asdict

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import CtxOpt, JsonOpt, ModelOpt, model_flags


def doctor(ctx: typer.Context, model: ModelOpt = None, ctx_size: CtxOpt = None,
           json_out: JsonOpt = False) -> None:
    """Check the installation: Python, llama.cpp, CPU, model, memory, Director key,
    knowledge index, git."""
    from consilium_cli.doctor import run_checks

    app_ctx: AppContext = ctx.obj
    checks = run_checks(app_ctx.settings(model_flags(model, ctx_size)))
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, [asdict(c) for c in checks])
    else:
        from consilium_cli.ui.render import status_line

        for check in checks:
            app_ctx.out.print(status_line(check.status, check.name, check.detail, check.fix))
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        raise typer.Exit(failed[0].exit_code or 1)
