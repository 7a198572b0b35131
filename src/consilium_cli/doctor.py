"""Health checks behind `consilium doctor`; each returns ok / warn / fail with the fix."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from consilium_cli.config import DEFAULT, LoadedSettings
from consilium_cli.errors import ConsiliumError, ExitCode

if TYPE_CHECKING:
    from consilium_cli.llm.gguf_file import GGUFInfo


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""
    exit_code: int = int(ExitCode.OK)


def check_python() -> Check:
    version = platform.python_version()
    if sys.version_info < (3, 10):  # noqa: UP036 - doctor may run under another interpreter
        return Check("python", "fail", f"{version} (3.10 or newer needed)",
                     "install Python 3.10+", int(ExitCode.USAGE))
    return Check("python", "ok", f"{version} ({sys.executable})")


def check_llama() -> Check:
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:
        return Check("llama.cpp", "fail", f"llama-cpp-python does not import: {exc}",
                     "pip install llama-cpp-python", int(ExitCode.MODEL))
    return Check("llama.cpp", "ok", f"llama-cpp-python {llama_cpp.__version__}")


def check_cpu(loaded: LoadedSettings) -> Check:
    from consilium_cli.llm.native import llama, physical_cores

    cores = physical_cores()
    threads = loaded.settings.model.threads or cores
    try:
        info = llama().llama_print_system_info().decode("utf-8", "replace")
    except ConsiliumError:
        info = ""
    features = [part.split("=")[0].strip() for part in info.split("|")
                if part.strip().endswith("= 1")]
    simd = [f for f in features if f in ("AVX", "AVX2", "AVX512", "FMA", "F16C", "NEON",
                                         "SVE", "AVX_VNNI", "AMX_INT8")]
    detail = f"{cores} physical cores, {threads} threads; SIMD: {', '.join(simd) or 'none'}"
    if threads > cores:
        return Check("cpu", "warn", detail + " (more threads than cores slows llama.cpp)",
                     f"consilium config: model.threads = {cores}")
    if not simd:
        return Check("cpu", "warn", detail + " (no SIMD: expect slow generation)")
    return Check("cpu", "ok", detail)


def check_model(loaded: LoadedSettings) -> tuple[Check, GGUFInfo | None]:
    """The model file and its header; returns the check and the header, when readable."""
    from consilium_cli.llm.gguf_file import read_gguf
    from consilium_cli.llm.loader import resolve_model_path

    model = loaded.settings.model
    try:
        path = resolve_model_path(model)
        info = read_gguf(path)
    except ConsiliumError as exc:
        return Check("model", "fail", exc.message, exc.hint, int(exc.exit_code)), None
    trained = info.context_length or 0
    detail = (f"{info.name} ({info.architecture}, {info.file_type}, "
              f"{info.size / 2**20:,.0f} MiB, trained context {trained}) at {path}")
    if trained and model.ctx > trained and loaded.origins["model.ctx"] == DEFAULT:
        detail += f"; the default context {model.ctx} is lowered to {trained}"
    elif trained and model.ctx > trained:
        return Check("model", "fail", detail + f"; --ctx {model.ctx} exceeds it",
                     f"set model.ctx to {trained} or less", int(ExitCode.USAGE)), info
    return Check("model", "ok", detail), info


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(loaded: LoadedSettings, info: GGUFInfo | None) -> Check:
    """KV cache for the configured context plus the model file, against free memory."""
    ctx = loaded.settings.model.ctx
    if info is None:
        return Check("memory", "warn", "no model to size the context against")
    if loaded.origins["model.ctx"] == DEFAULT and info.context_length:
        ctx = min(ctx, info.context_length)
    arch = info.architecture
    layers = int(info.get(f"{arch}.block_count", 0))
    heads = int(info.get(f"{arch}.attention.head_count", 1))
    kv_heads = int(info.get(f"{arch}.attention.head_count_kv", heads))
    embd = int(info.get(f"{arch}.embedding_length", 0))
    kv_bytes = ctx * layers * 2 * kv_heads * (embd // max(heads, 1)) * 2
    need = kv_bytes + info.size
    free = _available_memory()
    detail = (f"context {ctx} tokens: KV cache {kv_bytes / 2**20:,.0f} MiB + model "
              f"{info.size / 2**20:,.0f} MiB")
    if free is None:
        return Check("memory", "ok", detail)
    detail += f"; {free / 2**30:,.1f} GiB available"
    if need > free:
        return Check("memory", "fail", detail, "lower model.ctx", int(ExitCode.MODEL))
    return Check("memory", "ok", detail)


def check_director(loaded: LoadedSettings) -> Check:
    director = loaded.settings.director
    origin = loaded.origins["director.api_key"]
    if director.mode in ("local", "off"):
        return Check("director", "ok", f"mode {director.mode}: decisions stay on this machine")
    if director.api_key:
        where = f" ({director.base_url})" if director.base_url else ""
        return Check("director", "ok",
                     f"remote {director.model}{where}; API key set (from {origin})")
    return Check("director", "warn",
                 "no API key: the local Director decides (nothing leaves this machine)",
                 "set OPENAI_API_KEY to use the remote Director")


def check_git() -> Check:
    git = shutil.which("git")
    if git is None:
        return Check("git", "warn", "git not found: no repository facts or git actions",
                     "install git")
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10,
                             check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("git", "warn", f"git does not run: {exc}")
    return Check("git", "ok", out)


def check_kb(loaded: LoadedSettings) -> Check:
    """The knowledge index and its search mode, from its metadata (lancedb stays unloaded)."""
    from consilium_cli.kb.retrieve import KnowledgeBase

    try:
        status = KnowledgeBase.from_settings(loaded).status()
    except ConsiliumError as exc:
        return Check("knowledge", "warn", exc.message, exc.hint)
    if not status.indexed:
        return Check("knowledge", "warn", status.note, status.hint)
    detail = f"{status.passages} passages in {status.documents} documents"
    if status.hybrid:
        return Check("knowledge", "ok",
                     f"{detail}; hybrid search with {status.embedding_model}")
    return Check("knowledge", "warn", f"{detail}; {status.note}", status.hint)


def run_checks(loaded: LoadedSettings) -> list[Check]:
    model_check, info = check_model(loaded)
    return [check_python(), check_llama(), check_cpu(loaded), model_check,
            check_memory(loaded, info), check_director(loaded), check_git(), check_kb(loaded)]
