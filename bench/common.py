"""Shared benchmark helpers: the cached 1.5B-shape model, peak RSS, printing."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE = Path(os.environ.get("CONSILIUM_BENCH_CACHE", Path.home() / ".cache" / "consilium-bench"))


def qwen15b_shape_q4km(log: Any = print) -> Path:
    """A random-weight GGUF with Qwen2.5-Coder-1.5B's exact shapes, quantised to Q4_K_M.

    Built once (F16 write about 45 s, quantisation about 80 s on 2 cores) and cached
    outside the repository; it runs at the real model's speed.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / "random-qwen2.5-1.5b-shape.Q4_K_M.gguf"
    if target.exists():
        return target
    from tests.support.random_gguf import QWEN25_15B, write_random_qwen2

    f16 = CACHE / "random-qwen2.5-1.5b-shape.F16.gguf"
    started = time.perf_counter()
    log(f"building {f16.name} (once) …")
    write_random_qwen2(f16, QWEN25_15B, dtype="f16", name="random-qwen2.5-1.5b-shape")
    log(f"  written in {time.perf_counter() - started:.0f} s; quantising to Q4_K_M …")
    quantize(f16, target)
    f16.unlink()
    log(f"  done in {time.perf_counter() - started:.0f} s: {target}")
    return target


def quantize(source: Path, target: Path) -> None:
    from consilium_cli.llm.native import llama

    llama_cpp = llama()  # routes llama.cpp's log away from stdout
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = os.cpu_count() or 2
    tmp = target.with_suffix(".partial")
    rc = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params)
    if rc != 0:
        raise SystemExit(f"quantisation failed with code {rc}")
    tmp.replace(target)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def emit(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
