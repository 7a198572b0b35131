"""Bring the index up to date with the knowledge files, touching only what changed.

Each passage's hashes are compared with the indexed row: a new or edited passage is
written (and embedded when its text changed), a passage whose file lost it is deleted,
and everything else is left alone. Every write is recorded in the history table. The
index is rebuilt from scratch when asked, when it does not exist, or when the embedding
model changed (vectors of two models cannot be compared).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from consilium_cli.council.roles import ROLES
from consilium_cli.kb.ingest import Chunk, Document, LoadResult, discover, load_files
from consilium_cli.kb.locations import Source
from consilium_cli.kb.store import IndexMeta, KBIndexError, Store, read_meta, write_meta

if TYPE_CHECKING:
    import numpy as np

    from consilium_cli.config import Settings
    from consilium_cli.llm.embed import EmbeddingChoice, LlamaEmbedder

ProgressFn = Callable[[str, int, int], None]
T = TypeVar("T")
EMBED_BATCH = 8  # texts per progress step: embedding is the slow part of indexing
# Above this share of changed rows the full-text indexes are rebuilt instead of merged.
REBUILD_SHARE = 0.2


class PassageEmbedder(Protocol):
    """What indexing needs from an embedding model (`llm.embed.LlamaEmbedder`)."""

    @property
    def identity(self) -> str: ...

    @property
    def name(self) -> str: ...

    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class IndexReport:
    documents: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0
    rebuilt: bool = False
    rebuild_reason: str = ""
    embedding_model: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def touched(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)


def collect(source_list: Iterable[Source], roles: Iterable[str] | None = None) -> LoadResult:
    """Find, parse and validate the knowledge files of every source."""
    files = []
    problems = []
    for source in source_list:
        found, stray = discover(source.folder, source.label, roles)
        files.extend(found)
        problems.extend(stray)
    result = load_files(files)
    result.problems[:0] = problems
    return result


def load_embedder(settings: Settings) -> tuple[LlamaEmbedder | None, EmbeddingChoice]:
    """The embedding model for indexing, or None (full-text only) when the default model
    is not downloaded or vectors are off. A model the user named must exist."""
    from consilium_cli.errors import ModelNotFoundError
    from consilium_cli.llm.embed import EmbedConfig, LlamaEmbedder, resolve_embedding_model

    choice = resolve_embedding_model(settings.kb)
    if choice.path is None:
        if choice.explicit and not choice.disabled:
            raise ModelNotFoundError(choice.reason, hint=choice.hint)
        return None, choice
    return LlamaEmbedder(choice.path, EmbedConfig(n_threads=settings.model.threads)), choice


def embedding_text(meta_title: str, chunk: Chunk, tags: Sequence[str]) -> str:
    """What the embedding model reads for a passage: where it is, its text, its tags."""
    return (f"{meta_title} — {' › '.join(chunk.heading_path)}\n\n{chunk.text}\n\n"
            f"Tags: {', '.join(tags)}")


def _row(document: Document, chunk: Chunk, now: str,
         vector: np.ndarray | None) -> dict[str, Any]:
    meta = document.meta
    body = f"{' › '.join(chunk.heading_path)}\n{chunk.text}"
    tags_en, tags_ru = " ".join(meta.tags_en), " ".join(meta.tags_ru)
    if meta.language == "ru":
        text_en, text_ru, tags_ru = "", body, f"{meta.title}\n{tags_ru}"
    else:
        text_en, text_ru, tags_en = body, "", f"{meta.title}\n{tags_en}"
    row: dict[str, Any] = {
        "id": chunk.id, "doc_id": meta.id, "role": meta.role, "language": meta.language,
        "doc_title": meta.title, "heading": chunk.heading,
        "heading_path": " › ".join(chunk.heading_path), "text": chunk.text,
        "text_en": text_en, "text_ru": text_ru, "tags_en": tags_en, "tags_ru": tags_ru,
        "tags": list(meta.tags),
        "source_file": document.display_path, "doc_version": meta.version,
        "updated": meta.updated, "row_hash": chunk.row_hash,
        "content_hash": chunk.content_hash, "indexed_at": now,
    }
    if vector is not None:
        row["vector"] = vector.tolist()
    return row


def _history_row(event: str, passage_id: str, doc_id: str, now: str,
                 document: Document | None = None, chunk: Chunk | None = None,
                 version: int = 0) -> dict[str, Any]:
    return {
        "id": passage_id, "doc_id": doc_id, "event": event,
        "doc_version": document.meta.version if document else version,
        "updated": document.meta.updated if document else "",
        "content_hash": chunk.content_hash if chunk else "",
        "heading": chunk.heading if chunk else "", "text": chunk.text if chunk else "",
        "at": now,
    }


def index_documents(index_dir: Path, documents: Sequence[Document], *,
                    roles: Iterable[str] | None = None,
                    embedder: PassageEmbedder | None = None, rebuild: bool = False,
                    progress: ProgressFn | None = None) -> IndexReport:
    """Write `documents` (all the knowledge there is) into the index at `index_dir`.

    `roles` limits the update to those roles' passages, unless the index must be rebuilt.
    """
    started = time.perf_counter()
    report = IndexReport(embedding_model=embedder.name if embedder else None)
    scope = set(roles or ROLES)
    store = Store(index_dir)
    meta = _readable(lambda: read_meta(index_dir), None, rebuild)
    dim = embedder.dim if embedder else None
    identity = embedder.identity if embedder else None
    indexed_identity = (meta.embedding or {}).get("identity") if meta else None

    reason = ""
    if rebuild:
        reason = "asked for"
    elif meta is None or store.passages() is None:
        reason = "new index"
    elif store.vector_dim() != dim or indexed_identity != identity:
        reason = (f"the embedding model changed ({(meta.embedding or {}).get('name') or 'none'}"
                  f" -> {embedder.name if embedder else 'none'})")
    if reason:
        scope = set(ROLES)
    report.rebuilt, report.rebuild_reason = bool(reason), reason

    existing = _readable(store.existing, {}, bool(reason))
    in_scope = {pid: row for pid, row in existing.items() if row["role"] in scope}
    wanted: dict[str, tuple[Document, Chunk]] = {}
    for document in documents:
        if document.meta.role in scope:
            for chunk in document.chunks:
                wanted[chunk.id] = (document, chunk)

    for pid, (_document, chunk) in wanted.items():
        old = in_scope.get(pid)
        if old is None:
            report.added.append(pid)
        elif old["row_hash"] != chunk.row_hash:
            report.changed.append(pid)
        else:
            report.unchanged += 1
    report.removed = sorted(pid for pid in in_scope if pid not in wanted)
    report.warnings.extend(_version_warnings(wanted, in_scope, report.changed))

    write_ids = list(wanted) if reason else report.added + report.changed
    vectors = _vectors(store, embedder, wanted, write_ids, in_scope, bool(reason),
                       progress, report)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    rows = [_row(wanted[pid][0], wanted[pid][1], now, vectors.get(pid)) for pid in write_ids]
    if progress:
        progress("writing", 0, 1)
    if reason:
        store.create_passages(dim)
        store.add(rows)
    else:
        store.delete(report.removed)
        store.upsert(rows)
    if reason or report.touched:
        share = report.touched / max(len(existing), 1)
        store.refresh_text_indexes(rebuild=bool(reason) or share > REBUILD_SHARE)
        store.append_history(_history(report, wanted, in_scope, now))
    if progress:
        progress("writing", 1, 1)

    final = list(store.existing().values())
    report.passages = len(final)
    report.documents = len({row["doc_id"] for row in final})
    write_meta(index_dir, IndexMeta(
        updated_at=now, passages=report.passages, documents=report.documents,
        roles=dict(sorted(Counter(row["role"] for row in final).items())),
        languages=dict(sorted(Counter(row["language"] for row in final).items())),
        embedding=None if embedder is None else {
            "name": embedder.name, "identity": embedder.identity, "dim": embedder.dim},
        history_rows=store.history_count(),
    ))
    report.seconds = time.perf_counter() - started
    return report


def _readable(read: Callable[[], T], fallback: T, rebuilding: bool) -> T:
    """`read()`, except that a damaged index does not stop the rebuild that repairs it."""
    try:
        return read()
    except KBIndexError:
        if not rebuilding:
            raise
        return fallback


def _version_warnings(wanted: dict[str, tuple[Document, Chunk]],
                      in_scope: dict[str, dict[str, Any]], changed: list[str]) -> list[str]:
    """Documents whose text changed while their version number did not."""
    warned: dict[str, str] = {}
    for pid in changed:
        document, chunk = wanted[pid]
        old = in_scope[pid]
        if old["content_hash"] != chunk.content_hash and \
                document.meta.version <= int(old["doc_version"] or 0) and \
                document.meta.id not in warned:
            warned[document.meta.id] = (
                f"{document.display_path}: text changed but version is still "
                f"{document.meta.version}; bump 'version' and 'updated' (kb/STANDARDS.md)")
    return list(warned.values())


def _vectors(store: Store, embedder: PassageEmbedder | None,
             wanted: dict[str, tuple[Document, Chunk]], write_ids: list[str],
             in_scope: dict[str, dict[str, Any]], rebuilding: bool,
             progress: ProgressFn | None, report: IndexReport) -> dict[str, np.ndarray]:
    """Vectors for the rows to write: reused when only metadata changed, else embedded."""
    if embedder is None:
        return {}
    reuse: list[str] = []
    fresh: list[str] = []
    for pid in write_ids:
        old = in_scope.get(pid)
        if not rebuilding and old is not None and \
                old["content_hash"] == wanted[pid][1].content_hash:
            reuse.append(pid)
        else:
            fresh.append(pid)
    vectors = store.vectors(reuse)
    fresh.extend(pid for pid in reuse if pid not in vectors)
    for lo in range(0, len(fresh), EMBED_BATCH):
        if progress:
            progress("embedding", lo, len(fresh))
        part = fresh[lo:lo + EMBED_BATCH]
        texts = [embedding_text(wanted[p][0].meta.title, wanted[p][1], wanted[p][0].meta.tags)
                 for p in part]
        for pid, vector in zip(part, embedder.embed_passages(texts)):
            vectors[pid] = vector
    if progress:
        progress("embedding", len(fresh), len(fresh))
    report.embedded = len(fresh)
    return vectors


def _history(report: IndexReport, wanted: dict[str, tuple[Document, Chunk]],
             in_scope: dict[str, dict[str, Any]], now: str) -> list[dict[str, Any]]:
    rows = []
    for pid in report.added:
        document, chunk = wanted[pid]
        rows.append(_history_row("added", pid, document.meta.id, now, document, chunk))
    for pid in report.changed:
        document, chunk = wanted[pid]
        event = ("changed" if in_scope[pid]["content_hash"] != chunk.content_hash
                 else "metadata")
        rows.append(_history_row(event, pid, document.meta.id, now, document, chunk))
    for pid in report.removed:
        old = in_scope[pid]
        rows.append(_history_row("removed", pid, old["doc_id"], now,
                                 version=int(old["doc_version"] or 0)))
    return rows
