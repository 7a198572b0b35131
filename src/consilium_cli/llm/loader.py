"""From settings to a loaded engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from consilium_cli.config import DEFAULT, LoadedSettings, ModelSettings, Settings

if TYPE_CHECKING:
    from consilium_cli.llm.llamacpp import LlamaCppEngine


def resolve_model_path(model: ModelSettings) -> Path:
    """The GGUF to load: `model.path` if set, else the registry's file for `model.name`."""
    if model.path:
        return Path(model.path).expanduser()
    from consilium_cli.llm.models import Registry

    return Registry().require_path(model.name)


def load_engine(settings: Settings | LoadedSettings, *, n_seq_max: int = 8) -> LlamaCppEngine:
    """Check the model file and load it with every size explicit.

    A context size the user set is used as given (too large for the model is an error);
    the built-in default is lowered to the model's trained context when that is smaller.
    """
    from consilium_cli.llm.gguf_file import read_gguf
    from consilium_cli.llm.llamacpp import EngineConfig, LlamaCppEngine

    explicit_ctx = True
    if isinstance(settings, LoadedSettings):
        explicit_ctx = settings.origins.get("model.ctx") != DEFAULT
        settings = settings.settings
    model = settings.model
    path = resolve_model_path(model)
    gguf = read_gguf(path)
    n_ctx = model.ctx
    trained = gguf.context_length
    if not explicit_ctx and trained and trained < n_ctx:
        n_ctx = trained
    config = EngineConfig(n_ctx=n_ctx, n_threads=model.threads, n_batch=model.batch,
                          n_seq_max=n_seq_max, flash_attn=model.flash_attn)
    return LlamaCppEngine(path, config, gguf=gguf)
