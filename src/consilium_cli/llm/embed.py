"""Text embeddings with llama.cpp, for the knowledge bases' vector search.

One `LlamaEmbedder` owns one model and one context (created with `embeddings = true`) and
embeds texts in batches: several sequences per `llama_decode`, each pooled by llama.cpp
into one vector (`llama_get_embeddings_seq`), then L2-normalised.

Models differ in what they expect; `profile_for()` reads it from the GGUF:
- Qwen3-Embedding (the manifest's `embedding`): a decoder pooled on its last token, which
  must be the end-of-text token; a query is prefixed with an instruction, a passage is
  not. Its vectors are Matryoshka-trained, so the first 384 dimensions are kept: a third
  of the storage and of the vector-search time for a small loss of accuracy.
- E5 models: "query: " / "passage: " prefixes, mean pooling.
- Anything else: the pooling the GGUF declares (mean for encoders, last token for
  decoders when it declares none), no prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from consilium_cli.config import KBSettings
from consilium_cli.errors import ConsiliumError, EngineError, ModelInvalidError
from consilium_cli.llm.gguf_file import GGUFInfo, read_gguf
from consilium_cli.llm.native import (
    NativeBatch,
    NativeContext,
    NativeModel,
    log_tail,
    map_llama_errors,
    physical_cores,
    set_sizes,
)

if TYPE_CHECKING:
    import numpy as np

    from consilium_cli.llm.models import Registry

Kind = Literal["query", "passage"]

# llama.cpp's enum llama_pooling_type
POOLING_NONE, POOLING_MEAN, POOLING_CLS, POOLING_LAST, POOLING_RANK = 0, 1, 2, 3, 4
POOLING_NAMES = {POOLING_MEAN: "mean", POOLING_CLS: "cls", POOLING_LAST: "last"}
ENCODER_ARCHITECTURES = frozenset({"bert", "nomic-bert", "jina-bert-v2", "xlm-roberta",
                                   "gemma-embedding"})
QWEN3_QUERY_INSTRUCTION = ("Instruct: Given a question about a software project, retrieve "
                           "knowledge-base passages that answer it\nQuery:")
MRL_DIMS = 384
DISABLED = ("off", "none")


@dataclass(frozen=True)
class EmbedConfig:
    """Sizes for llama.cpp, always explicit."""

    # Per text; a longer one is cut (its full text stays searchable). A passage is at most
    # 1,500 characters: about 400 tokens of English, 600 of Russian.
    max_tokens: int = 640
    n_batch: int = 2048      # tokens per llama_decode at most, several texts together
    n_seq_max: int = 16      # texts per llama_decode
    n_threads: int = 0       # 0: the number of physical cores
    # llama.cpp keeps a logits row (vocabulary-wide) for every token of a batch, even in
    # embedding mode: the batch is kept small enough that this stays under the budget.
    output_budget_mb: int = 256

    def threads(self) -> int:
        return self.n_threads or physical_cores()

    def batch_tokens(self, n_vocab: int, max_tokens: int) -> int:
        affordable = self.output_budget_mb * 2**20 // (4 * max(n_vocab, 1))
        return max(max_tokens, min(self.n_batch, affordable))


@dataclass(frozen=True)
class EmbeddingProfile:
    family: str
    pooling: int
    query_prefix: str = ""
    passage_prefix: str = ""
    dims: int | None = None      # keep only the first `dims` dimensions (Matryoshka)
    append_end: bool = False     # end every text with the end-of-text token


def _names(info: GGUFInfo) -> str:
    parts = [str(info.get("general.name", "")), str(info.get("general.basename", "")),
             info.path.name]
    return " ".join(parts).lower()


def profile_for(info: GGUFInfo) -> EmbeddingProfile:
    """How to prompt and pool this model, from its GGUF metadata."""
    names = _names(info)
    declared = info.get(f"{info.architecture}.pooling_type")
    declared = int(declared) if declared is not None else None
    if declared == POOLING_RANK:
        raise ModelInvalidError(f"{info.path} is a reranker, not an embedding model",
                                hint="use `consilium models pull embedding`")
    encoder = info.architecture in ENCODER_ARCHITECTURES
    if declared in POOLING_NAMES:
        pooling = int(declared)
    else:
        pooling = POOLING_MEAN if encoder else POOLING_LAST
    if re.search(r"qwen3[-_ ]?embedding", names):
        return EmbeddingProfile("qwen3-embedding", POOLING_LAST, QWEN3_QUERY_INSTRUCTION, "",
                                dims=MRL_DIMS, append_end=True)
    if re.search(r"(^|[^a-z0-9])e5([^a-z0-9]|$)", names):
        return EmbeddingProfile("e5", pooling, "query: ", "passage: ")
    if "nomic-embed" in names:
        return EmbeddingProfile("nomic", pooling, "search_query: ", "search_document: ")
    return EmbeddingProfile("generic", pooling, append_end=pooling == POOLING_LAST)


def model_identity(info: GGUFInfo) -> str:
    """Changes whenever vectors from this file would not be comparable with earlier ones."""
    return f"{info.name}|{info.architecture}|{info.size}|{profile_for(info).family}"


class LlamaEmbedder:
    """An embedding GGUF loaded in-process; `embed()` returns normalised float32 rows."""

    def __init__(self, model_path: Path, config: EmbedConfig | None = None) -> None:
        self.config = config or EmbedConfig()
        self.gguf = read_gguf(Path(model_path), purpose="embedding")
        self.profile = profile_for(self.gguf)
        trained = self.gguf.context_length or self.config.max_tokens
        self.max_tokens = max(8, min(self.config.max_tokens, trained))
        self._model = NativeModel(self.gguf.path, verify_hint=(
            "check the file with `consilium models verify embedding`"))
        self._ll = self._model.ll
        # A whole text goes into one ubatch: an encoder must see it at once, and pooling
        # reads the text's tokens from one evaluation.
        self._n_tokens = self.config.batch_tokens(self._model.n_vocab, self.max_tokens)
        try:
            self._ctx = NativeContext(self._model, self._configure,
                                      what="an embedding context",
                                      hint="check the file with `consilium models verify "
                                           "embedding`")
        except BaseException:
            self._model.close()
            raise
        self._mem = self._ctx.memory
        self._batch = NativeBatch(self._ll, self._n_tokens)
        ll = self._ll
        out_width = getattr(ll, "llama_model_n_embd_out", None)
        width = (int(out_width(self._model.ptr)) if out_width else 0) or \
            int(ll.llama_model_n_embd(self._model.ptr))
        self.native_dim = width
        dims = self.profile.dims
        self.dim = dims if dims and dims < width else width
        self._end = self._end_token()
        # A trailing special token the model adds (SEP, EOS) survives truncation.
        self._keeps_tail = bool(ll.llama_vocab_get_add_eos(self._model.vocab) or
                                ll.llama_vocab_get_add_sep(self._model.vocab))

    def _configure(self, params: Any) -> None:
        set_sizes(params, n_ctx=self._n_tokens, n_batch=self._n_tokens,
                  n_seq_max=self.config.n_seq_max, threads=self.config.threads(),
                  flash_attn=False)
        params.embeddings = True
        params.pooling_type = self.profile.pooling

    def close(self) -> None:
        if getattr(self, "_ll", None) is None:
            return
        for resource in (self._batch, self._ctx, self._model):
            resource.close()

    def __del__(self) -> None:
        if hasattr(self, "_batch"):
            self.close()

    def __enter__(self) -> LlamaEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- facts ------------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return model_identity(self.gguf)

    @property
    def name(self) -> str:
        return self.gguf.name

    # -- tokens -----------------------------------------------------------------------

    def _tokenize(self, text: str, *, special: bool = False) -> list[int]:
        return self._model.tokenize(text, add_special=not special, parse_special=special)

    def _end_token(self) -> int:
        """Qwen's embedding models end a text with <|endoftext|>; others with their EOS."""
        tokens = self._tokenize("<|endoftext|>", special=True)
        if len(tokens) == 1:
            return tokens[0]
        return int(self._ll.llama_vocab_eos(self._model.vocab))

    def _prepare(self, text: str) -> list[int]:
        tokens = self._tokenize(text)
        room = self.max_tokens - (1 if self.profile.append_end else 0)
        if len(tokens) > room:
            tokens = tokens[: room - 1] + tokens[-1:] if self._keeps_tail else tokens[:room]
        if self.profile.append_end and (not tokens or tokens[-1] != self._end):
            tokens.append(self._end)
        return tokens or [self._end]

    # -- embedding --------------------------------------------------------------------

    def prefixed(self, text: str, kind: Kind) -> str:
        prefix = self.profile.query_prefix if kind == "query" else self.profile.passage_prefix
        return prefix + text

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """One normalised row per text, `self.dim` wide."""
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with map_llama_errors("tokenising texts for embedding"):
            prepared = [self._prepare(self.prefixed(t, kind)) for t in texts]
        for start, group in self._groups(prepared):
            vectors = self._run(group)
            out[start:start + len(group)] = vectors
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts, "passage")

    def _groups(self, prepared: list[list[int]]) -> Iterator[tuple[int, list[list[int]]]]:
        """Consecutive texts packed into batches under both the token and sequence limits."""
        start = 0
        group: list[list[int]] = []
        used = 0
        for index, tokens in enumerate(prepared):
            if group and (used + len(tokens) > self._n_tokens or
                          len(group) == self.config.n_seq_max):
                yield start, group
                start, group, used = index, [], 0
            group.append(tokens)
            used += len(tokens)
        if group:
            yield start, group

    def _run(self, group: list[list[int]]) -> np.ndarray:
        import numpy as np

        ll = self._ll
        batch = self._batch.fill([(token, pos, seq_id, True)
                                  for seq_id, tokens in enumerate(group)
                                  for pos, token in enumerate(tokens)])
        with map_llama_errors("embedding texts"):
            if self._mem:
                ll.llama_memory_clear(self._mem, True)
            rc = ll.llama_decode(self._ctx.ptr, batch)
            if rc != 0:
                raise EngineError(f"llama.cpp failed to embed (llama_decode returned {rc}):\n"
                                  f"{log_tail()}")
            rows = np.empty((len(group), self.dim), dtype=np.float32)
            for seq_id in range(len(group)):
                pointer = ll.llama_get_embeddings_seq(self._ctx.ptr, seq_id)
                if not pointer:
                    raise EngineError("llama.cpp returned no pooled embedding",
                                      hint="the model may not support embeddings")
                full = np.ctypeslib.as_array(pointer, shape=(self.native_dim,))
                rows[seq_id] = full[: self.dim]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.maximum(norms, 1e-12)


# -- which model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddingChoice:
    """The embedding model the settings name, and whether it is on disk."""

    name: str
    path: Path | None
    explicit: bool          # the user named it (a missing file is then an error)
    reason: str = ""        # why there is no path
    hint: str = ""
    disabled: bool = False  # kb.embedding_model = "off"

    @property
    def available(self) -> bool:
        return self.path is not None


def resolve_embedding_model(kb: KBSettings, registry: Registry | None = None
                            ) -> EmbeddingChoice:
    """`kb.embedding_model`: "" is the manifest's `embedding` alias, "off" disables vectors,
    a path is a GGUF file, anything else a registry name."""
    value = kb.embedding_model.strip()
    if value.lower() in DISABLED:
        return EmbeddingChoice(value, None, True, "vector search is off "
                               f"(kb.embedding_model = {value})", disabled=True)
    if value.lower().endswith(".gguf") or "/" in value or "\\" in value:
        path = Path(value).expanduser()
        if path.is_file():
            return EmbeddingChoice(str(path), path, True)
        return EmbeddingChoice(str(path), None, True, f"the embedding model {path} does not "
                               "exist", "set kb.embedding_model to a GGUF file, or to '' for "
                               "the default model")
    from consilium_cli.llm.models import Registry

    name = value or "embedding"
    try:
        registry = registry or Registry()
        entry = registry.get(name)
        path = registry.local_path(entry)
    except ConsiliumError as exc:
        if value:
            raise
        return EmbeddingChoice(name, None, False, exc.message, exc.hint)
    if path is None:
        return EmbeddingChoice(name, None, bool(value),
                               f"the embedding model {entry.name} ({entry.repo}, about "
                               f"{entry.size_mb} MB) is not downloaded",
                               f"consilium models pull {name}")
    return EmbeddingChoice(name, path, bool(value))
