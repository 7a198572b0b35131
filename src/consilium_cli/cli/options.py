"""Options shared by several commands, and how their values become settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", help="Model name from `consilium models list`, or a GGUF file path.")]
CtxOpt = Annotated[int | None, typer.Option("--ctx", help="Context size in tokens.")]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", help="CPU threads (0 = auto).")]

# The council's options, shared by `ask`, `apply "TASK"` and `route`.
FileOpt = Annotated[list[str] | None, typer.Option(
    "--file", "-f", help="File or glob to give the council (repeatable).")]
AgentsOpt = Annotated[str | None, typer.Option(
    "--agents", help="Comma-separated roles (dev,security,qa,architect,ux,seo).")]
AllOpt = Annotated[bool, typer.Option("--all", help="All six roles.")]
RoundsOpt = Annotated[int | None, typer.Option("--rounds", help="Debate rounds (1-3).")]
MaxTokOpt = Annotated[int | None, typer.Option("--max-tokens", help="New tokens per answer.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Sampling seed.")]
DirectorOpt = Annotated[str | None, typer.Option(
    "--director", help="Who decides: auto, remote, local or off.")]
NoFallbackOpt = Annotated[bool, typer.Option(
    "--no-fallback", help="A remote Director failure exits 4 instead of deciding locally.")]


def looks_like_path(value: str) -> bool:
    return value.lower().endswith(".gguf") or "/" in value or "\\" in value or \
        Path(value).is_file()


def model_flags(model: str | None = None, ctx: int | None = None,
                threads: int | None = None) -> dict[str, Any]:
    """Settings overrides for the model options (a path goes to model.path)."""
    flags: dict[str, Any] = {"model.ctx": ctx, "model.threads": threads}
    if model is not None:
        if looks_like_path(model):
            flags["model.path"] = str(Path(model).expanduser().absolute())
        else:
            flags["model.name"] = model
            flags["model.path"] = ""
    return flags
