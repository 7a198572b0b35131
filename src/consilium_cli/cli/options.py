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


def looks_like_path(value: str) -> bool:
    return value.lower().endswith(".gguf") or "/" in value or "\\" in value or \
        Path(value).exists()


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
