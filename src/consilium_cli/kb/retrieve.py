"""Search the knowledge index: full-text always, hybrid when vectors can be compared.

Full-text search (BM25 over the English and the Russian column) always runs. When the
index holds vectors and the same embedding model is on disk, the query is embedded too
and the two rankings are fused by reciprocal rank fusion (each passage scores
sum(1 / (60 + rank)) over the lists it appears in), which needs no score calibration
between BM25 and cosine similarity.

For the council: `retrieve_for_role()` returns [] at once when there is no index (it
never raises for a missing one; `KnowledgeBase.status()` says why), and
`format_for_prompt()` lays the passages out for an agent to cite as `[kb:ID]`.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consilium_cli.config import LoadedSettings, Settings
from consilium_cli.errors import ModelNotFoundError
from consilium_cli.kb.locations import index_dir
from consilium_cli.kb.store import IndexMeta, Store, read_meta

if TYPE_CHECKING:
    import numpy as np

    from consilium_cli.llm.embed import EmbeddingChoice, LlamaEmbedder

RRF_K = 60
CANDIDATES = 4          # each ranking contributes k * CANDIDATES candidates (at least 20)
_QUERY_CACHE = 16
CITATION = re.compile(r"\[kb:([a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*#[a-z0-9][a-z0-9_.-]*)\]")


@dataclass(frozen=True)
class Passage:
    """One retrieved passage; cite it as `[kb:{id}]`."""

    id: str
    role: str
    title: str           # the section heading
    text: str
    source_file: str
    language: str
    score: float         # BM25 (full-text) or reciprocal-rank-fusion score (hybrid)
    doc_title: str = ""
    doc_version: int = 0
    updated: str = ""
    matched_by: str = "text"   # text | vector | text+vector

    @property
    def citation(self) -> str:
        return f"[kb:{self.id}]"

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class KBStatus:
    """What retrieval can do right now, and why not more."""

    index_dir: Path
    indexed: bool
    passages: int = 0
    documents: int = 0
    roles: dict[str, int] | None = None
    vectors_in_index: bool = False
    hybrid: bool = False
    embedding_model: str | None = None
    note: str = ""
    hint: str = ""

    @property
    def mode(self) -> str:
        if not self.indexed:
            return "missing"
        return "hybrid" if self.hybrid else "full-text"


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    mode: str            # hybrid | full-text | missing


def find_citations(text: str) -> list[str]:
    """The passage ids cited as `[kb:ID]` in `text`, in order, without repeats."""
    return list(dict.fromkeys(CITATION.findall(text)))


class KnowledgeBase:
    """The index at `index_dir` and, when usable, the embedding model for queries."""

    def __init__(self, directory: Path, embedding: EmbeddingChoice | None = None, *,
                 threads: int = 0) -> None:
        self.index_dir = directory
        self.embedding = embedding
        self.threads = threads
        self._store: Store | None = None
        self._embedder: LlamaEmbedder | None = None
        self._status: KBStatus | None = None
        self._status_key: float | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def from_settings(cls, loaded: LoadedSettings | Settings) -> KnowledgeBase:
        from consilium_cli.llm.embed import resolve_embedding_model

        settings = loaded.settings if isinstance(loaded, LoadedSettings) else loaded
        return cls(index_dir(loaded), resolve_embedding_model(settings.kb),
                   threads=settings.model.threads)

    # -- status (no lancedb) ----------------------------------------------------------

    def status(self) -> KBStatus:
        """Read `meta.json` (and the model's header); cached until the index changes."""
        meta_path = self.index_dir / "meta.json"
        try:
            key = meta_path.stat().st_mtime
        except OSError:
            key = None
        if self._status is None or key != self._status_key:
            self._status = self._compute_status(read_meta(self.index_dir))
            self._status_key = key
        return self._status

    def _compute_status(self, meta: IndexMeta | None) -> KBStatus:
        if meta is None:
            return KBStatus(self.index_dir, False,
                            note=f"no knowledge index at {self.index_dir}: agents answer "
                                 "without citations", hint="consilium kb index")
        base = {"passages": meta.passages, "documents": meta.documents, "roles": meta.roles,
                "vectors_in_index": meta.has_vectors}
        choice = self.embedding
        indexed_with = (meta.embedding or {}).get("name")  # None when there are no vectors
        if choice is None or not choice.available:
            reason = choice.reason if choice else "no embedding model configured"
            return KBStatus(self.index_dir, True, **base, embedding_model=indexed_with,
                            note=f"full-text search only: {reason}",
                            hint=choice.hint if choice else "consilium models pull embedding")
        if not meta.has_vectors:
            return KBStatus(self.index_dir, True, **base,
                            note="full-text search only: the index was built without an "
                                 "embedding model",
                            hint="consilium kb index")
        from consilium_cli.llm.embed import model_identity
        from consilium_cli.llm.gguf_file import read_gguf

        assert choice.path is not None
        identity = model_identity(read_gguf(choice.path, purpose="embedding"))
        if identity != (meta.embedding or {}).get("identity"):
            return KBStatus(self.index_dir, True, **base, embedding_model=indexed_with,
                            note=f"full-text search only: the index's vectors come from "
                                 f"{indexed_with}, not from {choice.name}",
                            hint="consilium kb index")
        return KBStatus(self.index_dir, True, **base, hybrid=True,
                        embedding_model=indexed_with)

    # -- searching --------------------------------------------------------------------

    def _open(self) -> Store:
        if self._store is None:
            self._store = Store(self.index_dir)
        return self._store

    def embed_query(self, query: str) -> np.ndarray | None:
        """The query's vector when hybrid search is possible (cached), else None."""
        if not self.status().hybrid:
            return None
        if query in self._queries:
            self._queries.move_to_end(query)
            return self._queries[query]
        if self._embedder is None:
            from consilium_cli.llm.embed import EmbedConfig, LlamaEmbedder

            path = self.embedding.path if self.embedding else None
            if path is None:
                raise ModelNotFoundError("the embedding model disappeared",
                                         hint="consilium models pull embedding")
            self._embedder = LlamaEmbedder(path, EmbedConfig(n_threads=self.threads))
        vector = self._embedder.embed_queries([query])[0]
        self._queries[query] = vector
        while len(self._queries) > _QUERY_CACHE:
            self._queries.popitem(last=False)
        return vector

    def search(self, query: str, *, role: str | None = None, k: int = 5,
               query_vector: np.ndarray | None = None) -> SearchResult:
        """The top `k` passages for `query` (of one role, or all)."""
        status = self.status()
        if not status.indexed or k <= 0 or not query.strip():
            return SearchResult([], status.mode)
        store = self._open()
        pool = max(k * CANDIDATES, 20)
        text_rows = store.search_text(query, role, pool)
        if query_vector is None and status.hybrid:
            query_vector = self.embed_query(query)
        if query_vector is None or not status.vectors_in_index:
            return SearchResult([_passage(r, float(r["_score"]), "text")
                                 for r in text_rows[:k]], "full-text")
        vector_rows = store.search_vector(query_vector, role, pool)
        return SearchResult(fuse(text_rows, vector_rows, k), "hybrid")

    def close(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None


def fuse(text_rows: list[dict[str, Any]], vector_rows: list[dict[str, Any]],
         k: int) -> list[Passage]:
    """Reciprocal rank fusion of two rankings (best first) into the top `k` passages."""
    scores: dict[str, float] = {}
    rows: dict[str, dict[str, Any]] = {}
    sources: dict[str, list[str]] = {}
    for name, ranking in (("text", text_rows), ("vector", vector_rows)):
        for rank, row in enumerate(ranking, 1):
            pid = row["id"]
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank)
            rows.setdefault(pid, row)
            sources.setdefault(pid, []).append(name)
    best = sorted(scores, key=lambda pid: (-scores[pid], pid))[:k]
    return [_passage(rows[pid], scores[pid], "+".join(sources[pid])) for pid in best]


def _passage(row: dict[str, Any], score: float, matched_by: str) -> Passage:
    return Passage(id=row["id"], role=row["role"], title=row["heading"], text=row["text"],
                   source_file=row["source_file"], language=row["language"], score=score,
                   doc_title=row["doc_title"], doc_version=int(row["doc_version"] or 0),
                   updated=row["updated"], matched_by=matched_by)


# -- the council's entry points --------------------------------------------------------

_bases: dict[tuple[str, str], KnowledgeBase] = {}


def knowledge_base(loaded: LoadedSettings | Settings) -> KnowledgeBase:
    """A KnowledgeBase for these settings, kept for the process (its model stays loaded)."""
    from consilium_cli.llm.embed import resolve_embedding_model

    settings = loaded.settings if isinstance(loaded, LoadedSettings) else loaded
    directory = index_dir(loaded)
    if read_meta(directory) is None:
        # No index: nothing to search, so the embedding model need not be resolved.
        return KnowledgeBase(directory, None)
    choice = resolve_embedding_model(settings.kb)
    key = (str(directory), str(choice.path))
    if key not in _bases:
        _bases[key] = KnowledgeBase(directory, choice, threads=settings.model.threads)
    return _bases[key]


def retrieve_for_role(role: str, query: str, k: int,
                      settings: LoadedSettings | Settings) -> list[Passage]:
    """The top `k` passages of `role` for `query`; [] when there is no index."""
    if k <= 0 or not query.strip():
        return []
    base = knowledge_base(settings)
    if not base.status().indexed:
        return []
    return base.search(query, role=role, k=k).passages


def format_for_prompt(passages: list[Passage], max_chars: int) -> str:
    """The passages as a prompt section within `max_chars`; "" when none fit."""
    if not passages or max_chars <= 0:
        return ""
    header = "Knowledge base (cite a passage you use as [kb:ID]):\n"
    out = header
    for passage in passages:
        separator = "\n" if out != header else ""
        title = f"{passage.citation} {passage.title}"
        if passage.doc_title and passage.doc_title != passage.title:
            title += f" ({passage.doc_title})"
        text = passage.text.strip()
        block = f"{title}\n{text}\n"
        room = max_chars - len(out) - len(separator)
        if len(block) > room:
            cut = _shorten(text, room - len(title) - 2)
            if not cut:
                break
            block = f"{title}\n{cut}\n"
        out += separator + block
    return "" if out == header else out


def _shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a line or word end, with '…'; "" when
    too little would remain to be useful."""
    if limit < 80:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    for sep in ("\n", ". ", " "):
        at = cut.rfind(sep)
        if at >= limit // 2:
            cut = cut[:at + (1 if sep == ". " else 0)]
            break
    return cut.rstrip() + "…"
