"""`consilium models list | pull | path | verify | add`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt

app = typer.Typer(help="Local models: list, download, locate, verify, register.",
                  no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="Model name (see `consilium models list`).")]


def _registry():
    from consilium_cli.llm.models import Registry

    return Registry()


@app.command("list")
def list_models(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Known models and whether each is on disk."""
    app_ctx: AppContext = ctx.obj
    registry = _registry()
    aliases = {target: name for name, target in registry.aliases.items()}
    rows = []
    for name in registry.names():
        entry = registry.get(name)
        path = registry.local_path(entry)
        rows.append({
            "name": name, "alias": aliases.get(name, ""), "purpose": entry.purpose,
            "quant": entry.quant, "size_mb": entry.size_mb, "license": entry.license,
            "source": entry.repo + "/" + entry.file if entry.from_hub else entry.path,
            "present": path is not None, "path": str(path) if path else None,
        })
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, rows)
        return
    from rich.table import Table

    from consilium_cli.ui.safe_text import safe

    if not app_ctx.stdout_is_tty:
        for row in rows:
            state = "present" if row["present"] else "missing"
            app_ctx.out.print(safe(f"{row['name']}\t{row['alias'] or '-'}\t{row['purpose']}\t"
                                   f"{row['quant']}\t{row['size_mb']} MB\t{state}\t"
                                   f"{row['path'] or row['source']}"))
        return
    table = Table(box=None, pad_edge=False, header_style="title")
    for column in ("name", "alias", "purpose", "quant", "size", "on disk", "source"):
        table.add_column(column)
    for row in rows:
        table.add_row(safe(row["name"]), safe(row["alias"]), safe(row["purpose"]),
                      safe(row["quant"]), safe(f"{row['size_mb']} MB"),
                      safe("yes", "ok") if row["present"] else safe("no", "warn"),
                      safe(row["source"], "muted"))
    app_ctx.out.print(table)


@app.command("path")
def path(ctx: typer.Context, name: NameArg = "default") -> None:
    """Print the model's file path; exit 3 with the pull command when it is missing."""
    app_ctx: AppContext = ctx.obj
    app_ctx.stdout.write(f"{_registry().require_path(name)}\n")


@app.command("pull")
def pull(ctx: typer.Context, name: NameArg = "default") -> None:
    """Download a model into the Hugging Face cache (resumes an interrupted download)."""
    app_ctx: AppContext = ctx.obj
    from consilium_cli.ui.safe_text import safe

    registry = _registry()
    entry = registry.get(name)
    existing = registry.local_path(entry)
    if existing is not None:
        app_ctx.err.print(safe(f"{entry.name} is already here: {existing}", "ok"))
        app_ctx.stdout.write(f"{existing}\n")
        return
    if entry.from_hub:  # otherwise pull() says there is nothing to download
        app_ctx.err.print(safe(f"downloading {entry.repo}/{entry.file} "
                               f"(about {entry.size_mb} MB)"))
    path = registry.pull(name)
    app_ctx.err.print(safe(f"saved {path}", "ok"))
    app_ctx.stdout.write(f"{path}\n")


@app.command("verify")
def verify(ctx: typer.Context, name: NameArg = "default", json_out: JsonOpt = False) -> None:
    """Check a model's GGUF header, size and (when the manifest has it) sha256."""
    app_ctx: AppContext = ctx.obj
    report = _registry().verify(name)
    payload = {"name": report.entry.name, "path": str(report.path),
               "architecture": report.architecture, "file_type": report.file_type,
               "size_bytes": report.size_bytes, "sha256": report.sha256,
               "sha256_checked": report.sha256_matches is not None}
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, payload)
        return
    from consilium_cli.ui.render import status_line

    checked = ("matches the manifest" if report.sha256_matches else
               "no published hash to compare")
    app_ctx.out.print(status_line("ok", report.entry.name,
                                  f"{report.architecture}, {report.file_type}, "
                                  f"{report.size_bytes:,} bytes, {report.path}"))
    app_ctx.out.print(status_line("ok" if report.sha256_matches else "info", "sha256",
                                  f"{report.sha256} ({checked})"))


@app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A GGUF file you already have.")],
    name: Annotated[str | None, typer.Option("--name", help="Name to register it under.")]
    = None,
    embedding: Annotated[bool, typer.Option("--embedding",
                                            help="Register it as an embedding model.")] = False,
) -> None:
    """Register a local GGUF so `--model NAME` finds it."""
    app_ctx: AppContext = ctx.obj
    from consilium_cli.ui.safe_text import safe

    entry = _registry().add(file, name, purpose="embedding" if embedding else "chat")
    app_ctx.out.print(safe(f"added {entry.name}: {entry.path} ({entry.quant}, "
                           f"{entry.size_mb} MB)", "ok"))
