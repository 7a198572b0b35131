"""The boundary to llama-cpp-python's raw bindings.

As llama-cpp-python's own `_internals` does it: small classes that each own one native
resource (model, context, batch) and free it deterministically, the library imported
lazily with its log routed into a buffer (shown when loading fails), and its exceptions
translated here into consilium errors.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consilium_cli.errors import ConsiliumError, EngineError, ModelError

if TYPE_CHECKING:
    from types import ModuleType

INSTALL_HINT = ("pip install llama-cpp-python  (it builds llama.cpp from source: "
                "cmake and a C++ compiler are needed)")
_log_tail: deque[str] = deque(maxlen=20)
_log_callback: Any = None
_backend_lock = threading.Lock()


def llama() -> ModuleType:
    """Import llama_cpp (lazily) and route its log into a buffer instead of stderr."""
    global _log_callback
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelError(f"llama-cpp-python is not installed ({exc})", hint=INSTALL_HINT) from exc
    except OSError as exc:
        raise ModelError(f"the llama.cpp library failed to load: {exc}",
                         hint=f"reinstall it: {INSTALL_HINT}") from exc
    with _backend_lock:
        if _log_callback is None:
            # ctypes needs a live reference to the callback for as long as llama.cpp logs.
            _log_callback = llama_cpp.llama_log_callback(_on_log)
            llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
            llama_cpp.llama_backend_init()
    return llama_cpp


def _on_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    line = text.decode("utf-8", errors="replace").rstrip()
    if line:
        _log_tail.append(line)


def log_tail() -> str:
    """llama.cpp's last log lines (shown when loading fails)."""
    return "\n".join(_log_tail) or "(no log)"


@contextmanager
def map_llama_errors(what: str) -> Iterator[None]:
    """Translate llama_cpp's and ctypes' exceptions into consilium errors."""
    try:
        yield
    except ConsiliumError:
        raise
    except (OSError, ValueError, RuntimeError, ctypes.ArgumentError) as exc:
        raise EngineError(f"llama.cpp failed while {what}: {exc}",
                          hint="run `consilium doctor` to check the installation") from exc


def physical_cores() -> int:
    """Physical CPU cores (llama.cpp is slower on hyper-threads), at least 1."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            pairs = set()
            physical = core = ""
            for line in handle:
                if line.startswith("physical id"):
                    physical = line.split(":", 1)[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":", 1)[1].strip()
                    pairs.add((physical, core))
            if pairs:
                return len(pairs)
    except OSError:
        pass
    return os.cpu_count() or 1


class NativeModel:
    """A loaded llama_model and its vocabulary."""

    def __init__(self, path: Path, *, verify_hint: str) -> None:
        self.ll = llama()
        self.path = path
        self.ptr: Any = None
        _log_tail.clear()
        with map_llama_errors("loading the model"):
            params = self.ll.llama_model_default_params()
            params.n_gpu_layers = 0
            params.use_mmap = True
            self.ptr = self.ll.llama_model_load_from_file(str(path).encode("utf-8"), params)
        if not self.ptr:
            raise ModelError(f"llama.cpp could not load {path}:\n{log_tail()}", hint=verify_hint)
        self.vocab = self.ll.llama_model_get_vocab(self.ptr)

    def tokenize(self, text: str, *, add_special: bool = False,
                 parse_special: bool = True) -> list[int]:
        ll = self.ll
        data = text.encode("utf-8")
        capacity = len(data) + 16
        buf = (ll.llama_token * capacity)()
        n = ll.llama_tokenize(self.vocab, data, len(data), buf, capacity, add_special,
                              parse_special)
        if n < 0:
            capacity = -n
            buf = (ll.llama_token * capacity)()
            n = ll.llama_tokenize(self.vocab, data, len(data), buf, capacity, add_special,
                                  parse_special)
        return list(buf[:n])

    def piece(self, token: int, *, special: bool = False) -> bytes:
        """The bytes of one token (a piece of a UTF-8 character, possibly)."""
        buf = ctypes.create_string_buffer(64)
        n = self.ll.llama_token_to_piece(self.vocab, token, buf, 64, 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self.ll.llama_token_to_piece(self.vocab, token, buf, -n, 0, special)
        return buf.raw[:n]

    @property
    def n_vocab(self) -> int:
        return int(self.ll.llama_vocab_n_tokens(self.vocab))

    def close(self) -> None:
        if self.ptr:
            self.ll.llama_model_free(self.ptr)
            self.ptr = None


def set_sizes(params: Any, *, n_ctx: int, n_batch: int, n_seq_max: int, threads: int,
              flash_attn: bool) -> None:
    """Every size a context needs, explicit (never llama.cpp's defaults); the KV cache is
    unified so that sequences can share a prefix's cells."""
    params.n_ctx = n_ctx
    params.n_batch = n_batch
    params.n_ubatch = n_batch
    params.n_seq_max = n_seq_max
    params.n_threads = threads
    params.n_threads_batch = threads
    params.kv_unified = True
    ll = llama()
    params.flash_attn_type = (ll.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                              else ll.LLAMA_FLASH_ATTN_TYPE_DISABLED)


class NativeContext:
    """A llama_context on a model; `configure` fills in the context parameters."""

    def __init__(self, model: NativeModel, configure: Callable[[Any], None], *,
                 what: str, hint: str) -> None:
        self.ll = model.ll
        self.ptr: Any = None
        with map_llama_errors(f"creating {what}"):
            params = self.ll.llama_context_default_params()
            params.no_perf = True
            configure(params)
            self.ptr = self.ll.llama_init_from_model(model.ptr, params)
        if not self.ptr:
            raise ModelError(f"llama.cpp could not create {what} for {model.path}:\n"
                             f"{log_tail()}", hint=hint)
        self.memory = self.ll.llama_get_memory(self.ptr)

    def close(self) -> None:
        if self.ptr:
            self.ll.llama_free(self.ptr)
            self.ptr = None


class NativeBatch:
    """A llama_batch of up to `capacity` tokens, one sequence id each."""

    def __init__(self, ll: Any, capacity: int) -> None:
        self.ll = ll
        self.capacity = capacity
        self.raw: Any = ll.llama_batch_init(capacity, 0, 1)

    def fill(self, entries: Any) -> Any:
        """Put (token, pos, seq_id, wants_logits) entries in; return the raw batch."""
        batch = self.raw
        for i, (token, pos, seq_id, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq_id
            batch.logits[i] = logits
        batch.n_tokens = len(entries)
        return batch

    def close(self) -> None:
        if self.raw is not None:
            self.ll.llama_batch_free(self.raw)
            self.raw = None
