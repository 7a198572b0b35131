"""Check a GGUF file's header before llama.cpp touches it.

llama.cpp aborts or crashes on some broken files, so a model that is missing, a folder,
unreadable, not GGUF, truncated, or of an architecture we do not run is reported here
as a `ModelError` with the fix. The reader walks the header with `struct` over an mmap:
it keeps scalar metadata and the lengths of arrays (a 152k-token vocabulary is skipped,
not materialised), then checks that every tensor's data lies inside the file.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.errors import ModelInvalidError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"

# Architectures consilium runs as chat models, and as embedding models.
CHAT_ARCHITECTURES = frozenset({
    "qwen2", "qwen3", "qwen2moe", "qwen3moe", "llama", "mistral3", "phi3", "gemma",
    "gemma2", "gemma3", "starcoder2", "granite", "deepseek2", "olmo2", "smollm3",
})
EMBEDDING_ARCHITECTURES = frozenset({"bert", "nomic-bert", "jina-bert-v2", "xlm-roberta",
                                     "qwen2", "qwen3", "gemma-embedding"})

# value type -> struct format for scalars (GGUF spec); 8 = string, 9 = array
_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
           10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_U64 = struct.Struct("<Q")
_MAX_KEPT_ARRAY = 64


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size: int
    version: int
    architecture: str
    metadata: dict[str, Any]
    array_lengths: dict[str, int]
    tensor_count: int
    data_end: int
    tensor_types: dict[int, int] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def name(self) -> str:
        return str(self.get("general.name", self.path.stem))

    @property
    def context_length(self) -> int | None:
        value = self.get(f"{self.architecture}.context_length")
        return int(value) if value is not None else None

    @property
    def chat_template(self) -> str | None:
        value = self.get("tokenizer.chat_template")
        return value if isinstance(value, str) else None

    @property
    def vocab_size(self) -> int:
        return self.array_lengths.get("tokenizer.ggml.tokens", 0)

    @property
    def file_type(self) -> str:
        """The dominant quantisation, by tensor count (e.g. Q4_K, F16)."""
        if not self.tensor_types:
            return "unknown"
        from gguf import GGMLQuantizationType

        dominant = max(self.tensor_types, key=lambda t: self.tensor_types[t])
        try:
            return GGMLQuantizationType(dominant).name
        except ValueError:
            return f"type {dominant}"


class _Truncated(Exception):
    pass


class _Cursor:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise _Truncated
        (value,) = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.take("Q")
        if self.pos + length > len(self.buf):
            raise _Truncated
        raw = bytes(self.buf[self.pos:self.pos + length])
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.take("Q")
        self.pos += length
        if self.pos > len(self.buf):
            raise _Truncated

    def value(self, vtype: int) -> Any:
        if vtype in _SCALAR:
            return self.take(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string()
        raise ValueError(f"unknown metadata value type {vtype}")


def _read_array(cur: _Cursor) -> tuple[list[Any] | None, int]:
    item_type = cur.take("I")
    count = cur.take("Q")
    if count <= _MAX_KEPT_ARRAY and item_type != _ARRAY:
        return [cur.value(item_type) for _ in range(count)], count
    if item_type in _SCALAR:
        cur.pos += struct.calcsize(_SCALAR[item_type]) * count
        if cur.pos > len(cur.buf):
            raise _Truncated
    elif item_type == _STRING:
        # A vocabulary holds ~150k strings: this loop is most of the time of a read.
        buf, pos, end, unpack = cur.buf, cur.pos, len(cur.buf), _U64.unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise _Truncated
            pos += 8 + unpack(buf, pos)[0]
        if pos > end:
            raise _Truncated
        cur.pos = pos
    elif item_type == _ARRAY:
        for _ in range(count):
            _read_array(cur)
    else:
        raise ValueError(f"unknown array item type {item_type}")
    return None, count


def _tensor_nbytes(ggml_type: int, elements: int) -> int:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    except (ValueError, KeyError):
        raise ValueError(f"unknown tensor type {ggml_type}") from None
    return elements // block * type_size


def _open_problem(path: Path) -> str | None:
    if not path.exists():
        return None
    if path.is_dir():
        return "is a directory, not a GGUF file"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def read_gguf(path: Path, *, purpose: str = "chat") -> GGUFInfo:
    """Read and check the header of the GGUF at `path` (purpose: "chat" or "embedding")."""
    fix = "`consilium models pull default` downloads the default model"
    if not path.exists():
        raise ModelNotFoundError(f"model file not found: {path}", hint=fix)
    problem = _open_problem(path)
    if problem:
        raise ModelInvalidError(f"model path {path} {problem}",
                                hint=f"point --model at a .gguf file; {fix}")
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < 24:
                raise ModelInvalidError(f"{path} is not a GGUF model ({size} bytes)",
                                        hint=fix)
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(path, buf, size, purpose)
    except PermissionError as exc:
        raise ModelInvalidError(f"model path {path} cannot be read (permission denied)",
                                hint=f"chmod u+r {path}") from exc
    except OSError as exc:
        raise ModelInvalidError(f"cannot read model file {path}: {exc}", hint=fix) from exc


def _parse(path: Path, buf: mmap.mmap, size: int, purpose: str) -> GGUFInfo:
    redownload = "the file is damaged: delete it and run `consilium models pull NAME` again"
    if bytes(buf[:4]) != GGUF_MAGIC:
        raise ModelInvalidError(
            f"{path} is not a GGUF model (it starts with {bytes(buf[:4])!r}, not b'GGUF')",
            hint="consilium runs GGUF files; `consilium models pull default` fetches one",
        )
    cur = _Cursor(buf)
    cur.pos = 4
    metadata: dict[str, Any] = {}
    arrays: dict[str, int] = {}
    tensor_types: dict[int, int] = {}
    try:
        version = cur.take("I")
        if version not in (2, 3):
            raise ModelInvalidError(f"{path}: unsupported GGUF version {version}",
                                    hint="convert the model with a current llama.cpp")
        tensor_count = cur.take("Q")
        kv_count = cur.take("Q")
        for _ in range(kv_count):
            key = cur.string()
            vtype = cur.take("I")
            if vtype == _ARRAY:
                values, count = _read_array(cur)
                arrays[key] = count
                if values is not None:
                    metadata[key] = values
            else:
                metadata[key] = cur.value(vtype)
        tensors: list[tuple[int, int, int]] = []
        for _ in range(tensor_count):
            cur.skip_string()
            n_dims = cur.take("I")
            elements = 1
            for _ in range(n_dims):
                elements *= cur.take("Q")
            ggml_type = cur.take("I")
            offset = cur.take("Q")
            tensors.append((ggml_type, elements, offset))
            tensor_types[ggml_type] = tensor_types.get(ggml_type, 0) + 1
    except _Truncated:
        raise ModelInvalidError(f"{path} is truncated inside its header ({size} bytes)",
                                hint=redownload) from None
    except ValueError as exc:
        raise ModelInvalidError(f"{path} has a corrupt GGUF header: {exc}",
                                hint=redownload) from exc

    alignment = int(metadata.get("general.alignment", 32)) or 32
    data_start = (cur.pos + alignment - 1) // alignment * alignment
    try:
        data_end = max((data_start + off + _tensor_nbytes(t, n) for t, n, off in tensors),
                       default=data_start)
    except ValueError as exc:
        raise ModelInvalidError(f"{path} has a corrupt GGUF header: {exc}",
                                hint=redownload) from exc
    if data_end > size:
        raise ModelInvalidError(
            f"{path} is truncated: its tensors need {data_end:,} bytes, the file has {size:,}",
            hint=redownload,
        )

    architecture = str(metadata.get("general.architecture", ""))
    allowed = CHAT_ARCHITECTURES if purpose == "chat" else EMBEDDING_ARCHITECTURES
    if architecture not in allowed:
        raise ModelInvalidError(
            f"{path}: architecture {architecture or '(none)'!r} is not supported for "
            f"{purpose} (supported: {', '.join(sorted(allowed))})",
            hint="use a Qwen2.5-Coder GGUF: `consilium models pull default`",
        )
    return GGUFInfo(path, size, version, architecture, metadata, arrays, tensor_count,
                    data_end, tensor_types)
