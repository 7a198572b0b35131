"""From settings to a loaded engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from consilium_cli.config import ModelSettings, Settings

if TYPE_CHECKING:
    from consilium_cli.llm.llamacpp import LlamaCppEngine
    from consilium_cli.llm.models import Registry


def resolve_model_path(model: ModelSettings, registry: Registry | None = None) -> Path:
    """The GGUF to load: `model.path` if set, else the registry's file for `model.name`."""
    if model.path:
        return Path(model.path).expanduser()
    from consilium_cli.llm.models import Registry

    return (registry or Registry()).require_path(model.name)


def load_engine(settings: Settings, *, n_seq_max: int = 8) -> LlamaCppEngine:
    """Check the model file and load it with every size explicit."""
    from consilium_cli.llm.llamacpp import EngineConfig, LlamaCppEngine

    model = settings.model
    config = EngineConfig(n_ctx=model.ctx, n_threads=model.threads, n_batch=model.batch,
                          n_seq_max=n_seq_max, flash_attn=model.flash_attn)
    return LlamaCppEngine(resolve_model_path(model), config)
