"""The knowledge index: LanceDB, embedded, in one folder.

Tables:
- `passages`: the current passages. English text goes to `text_en` and Russian text to
  `text_ru`, each with a full-text (BM25) index using its language's stemmer (LanceDB
  keeps one stemmer per index and one full-text index per column). The document's title
  and tags go to `tags_en` / `tags_ru` by script, so a Russian query finds an English
  passage through its Russian tags; a match there counts half as much as one in the
  text, and the scores of all four columns add up.
  When an embedding model is used, `vector` holds its normalised vectors.
- `history`: one row per passage added, changed or removed, with its text and document
  version, so earlier versions of the knowledge are kept.

`meta.json` beside them says what the index holds (counts, the embedding model): status
checks read it without importing LanceDB. lancedb is imported only inside this module's
functions, and its exceptions become `KBIndexError` in `map_lance_errors()`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consilium_cli.errors import ConsiliumError, UsageError

if TYPE_CHECKING:
    import numpy as np

PASSAGES = "passages"
HISTORY = "history"
META_FILE = "meta.json"
SCHEMA_VERSION = 1
# Full-text columns: a passage's own text, and its document's title and tags (which every
# passage of the document shares, so they weigh less). One stemmer per index.
TEXT_COLUMNS = ("text_en", "text_ru", "tags_en", "tags_ru")
_FTS_LANGUAGE = {"text_en": "English", "text_ru": "Russian", "tags_en": "English",
                 "tags_ru": "Russian"}
_BOOST = {"text_en": 1.0, "text_ru": 1.0, "tags_en": 0.5, "tags_ru": 0.5}
# Columns a search returns (the texts used for matching and the vector stay behind).
RESULT_COLUMNS = ("id", "doc_id", "role", "language", "doc_title", "heading", "text",
                  "source_file", "doc_version", "updated")
_ROLE = re.compile(r"^[a-z]+$")
_DELETE_CHUNK = 400


class KBIndexError(UsageError):
    """The index is unreadable or was written by another version."""


@contextmanager
def map_lance_errors(what: str, where: Path) -> Iterator[None]:
    """Translate lancedb's and pyarrow's exceptions into consilium errors."""
    try:
        yield
    except ConsiliumError:
        raise
    except ImportError as exc:
        raise KBIndexError(f"lancedb is not installed ({exc})",
                           hint="pip install lancedb") from exc
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise KBIndexError(f"the knowledge index at {where} failed while {what}: {exc}",
                           hint="consilium kb index --rebuild") from exc


@dataclass(frozen=True)
class IndexMeta:
    """What `meta.json` records about the index."""

    schema: int = SCHEMA_VERSION
    updated_at: str = ""
    passages: int = 0
    documents: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    embedding: dict[str, Any] | None = None   # name, identity, dim, family
    history_rows: int = 0

    @property
    def has_vectors(self) -> bool:
        return self.embedding is not None


def read_meta(index_dir: Path) -> IndexMeta | None:
    """The index's metadata, or None when there is no index (never imports lancedb)."""
    path = index_dir / META_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise KBIndexError(f"cannot read {path}: {exc}",
                           hint="consilium kb index --rebuild") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        raise KBIndexError(f"{path} was written by another version of consilium",
                           hint="consilium kb index --rebuild")
    known = {k: v for k, v in data.items() if k in IndexMeta.__dataclass_fields__}
    return IndexMeta(**known)


def write_meta(index_dir: Path, meta: IndexMeta) -> None:
    from consilium_cli.tools.atomic import atomic_write_text

    atomic_write_text(index_dir / META_FILE,
                      json.dumps(asdict(meta), ensure_ascii=False, indent=2) + "\n")


def role_filter(role: str | None) -> str | None:
    if role is None:
        return None
    if not _ROLE.match(role):
        raise UsageError(f"invalid role {role!r}")
    return f"role = '{role}'"


def _quoted(ids: Sequence[str]) -> str:
    return ", ".join("'" + i.replace("'", "''") + "'" for i in ids)


def _lancedb() -> Any:
    # Lance logs warnings from Rust straight to stderr; the CLI owns the terminal.
    os.environ.setdefault("LANCEDB_LOG", "error")
    import lancedb

    return lancedb


class Store:
    """The LanceDB tables in `index_dir`; opened lazily."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._db: Any = None
        self._passages: Any = None

    # -- tables -----------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._db is None:
            with map_lance_errors("opening", self.index_dir):
                self.index_dir.mkdir(parents=True, exist_ok=True)
                self._db = _lancedb().connect(str(self.index_dir / "lance"))
        return self._db

    def _table_names(self) -> set[str]:
        listing = self._connect().list_tables()
        return set(getattr(listing, "tables", listing))

    def passages(self) -> Any | None:
        """The passages table, or None if it does not exist yet."""
        if self._passages is None:
            with map_lance_errors("opening the passages table", self.index_dir):
                if PASSAGES in self._table_names():
                    self._passages = self._connect().open_table(PASSAGES)
        return self._passages

    def vector_dim(self) -> int | None:
        table = self.passages()
        if table is None:
            return None
        with map_lance_errors("reading the schema", self.index_dir):
            schema = table.schema
            if "vector" not in schema.names:
                return None
            return int(schema.field("vector").type.list_size)

    def create_passages(self, dim: int | None) -> Any:
        """Drop and recreate the passages table (with a `dim`-wide vector column or none)."""
        import pyarrow as pa

        columns = [
            ("id", pa.string()), ("doc_id", pa.string()), ("role", pa.string()),
            ("language", pa.string()), ("doc_title", pa.string()), ("heading", pa.string()),
            ("heading_path", pa.string()), ("text", pa.string()), ("text_en", pa.string()),
            ("text_ru", pa.string()), ("tags_en", pa.string()), ("tags_ru", pa.string()),
            ("tags", pa.list_(pa.string())),
            ("source_file", pa.string()), ("doc_version", pa.int32()),
            ("updated", pa.string()), ("row_hash", pa.string()),
            ("content_hash", pa.string()), ("indexed_at", pa.string()),
        ]
        if dim:
            columns.append(("vector", pa.list_(pa.float32(), dim)))
        with map_lance_errors("creating the passages table", self.index_dir):
            db = self._connect()
            if PASSAGES in self._table_names():
                db.drop_table(PASSAGES)
            self._passages = db.create_table(PASSAGES, schema=pa.schema(columns), mode="create")
        return self._passages

    # -- reading ----------------------------------------------------------------------

    def existing(self) -> dict[str, dict[str, Any]]:
        """id -> {row_hash, content_hash, role, language, doc_id, doc_version} per row."""
        table = self.passages()
        if table is None:
            return {}
        with map_lance_errors("reading the passages", self.index_dir):
            data = table.to_arrow().select(
                ["id", "row_hash", "content_hash", "role", "language", "doc_id",
                 "doc_version"]).to_pylist()
        return {row["id"]: row for row in data}

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these passages (to reuse when only metadata changed)."""
        import numpy as np

        table = self.passages()
        if table is None or not ids or self.vector_dim() is None:
            return {}
        found: dict[str, np.ndarray] = {}
        with map_lance_errors("reading vectors", self.index_dir):
            for lo in range(0, len(ids), _DELETE_CHUNK):
                part = ids[lo:lo + _DELETE_CHUNK]
                rows = (table.search().where(f"id IN ({_quoted(part)})")
                        .select(["id", "vector"]).limit(len(part)).to_list())
                for row in rows:
                    found[row["id"]] = np.asarray(row["vector"], dtype=np.float32)
        return found

    # -- writing ----------------------------------------------------------------------

    def upsert(self, rows: list[dict[str, Any]]) -> None:
        table = self.passages()
        if table is None or not rows:
            return
        import pyarrow as pa

        with map_lance_errors("writing passages", self.index_dir):
            data = pa.Table.from_pylist(rows, schema=table.schema)
            (table.merge_insert("id").when_matched_update_all()
             .when_not_matched_insert_all().execute(data))

    def add(self, rows: list[dict[str, Any]]) -> None:
        table = self.passages()
        if table is None or not rows:
            return
        import pyarrow as pa

        with map_lance_errors("writing passages", self.index_dir):
            table.add(pa.Table.from_pylist(rows, schema=table.schema))

    def delete(self, ids: Sequence[str]) -> None:
        table = self.passages()
        if table is None or not ids:
            return
        with map_lance_errors("deleting passages", self.index_dir):
            for lo in range(0, len(ids), _DELETE_CHUNK):
                table.delete(f"id IN ({_quoted(ids[lo:lo + _DELETE_CHUNK])})")

    def refresh_text_indexes(self, *, rebuild: bool) -> None:
        """Build the full-text indexes (rebuild), or fold new rows into them."""
        table = self.passages()
        if table is None:
            return
        from lancedb.index import FTS

        with map_lance_errors("building the full-text indexes", self.index_dir):
            if table.count_rows() == 0:
                return
            present = {ix.name for ix in table.list_indices()}
            missing = [c for c in TEXT_COLUMNS if f"{c}_idx" not in present]
            for column in (TEXT_COLUMNS if rebuild else missing):
                table.create_index(column, config=FTS(language=_FTS_LANGUAGE[column],
                                                      stem=True, remove_stop_words=True),
                                   replace=True)
            if not rebuild and not missing:
                table.optimize()

    def append_history(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        import pyarrow as pa

        schema = pa.schema([
            ("id", pa.string()), ("doc_id", pa.string()), ("event", pa.string()),
            ("doc_version", pa.int32()), ("updated", pa.string()),
            ("content_hash", pa.string()), ("heading", pa.string()), ("text", pa.string()),
            ("at", pa.string()),
        ])
        with map_lance_errors("writing the history", self.index_dir):
            db = self._connect()
            data = pa.Table.from_pylist(rows, schema=schema)
            if HISTORY in self._table_names():
                db.open_table(HISTORY).add(data)
            else:
                db.create_table(HISTORY, data=data, mode="create")

    def history_count(self) -> int:
        with map_lance_errors("reading the history", self.index_dir):
            if HISTORY not in self._table_names():
                return 0
            return int(self._connect().open_table(HISTORY).count_rows())

    def history(self, passage_id: str) -> list[dict[str, Any]]:
        """Every recorded version of one passage, oldest first."""
        with map_lance_errors("reading the history", self.index_dir):
            if HISTORY not in self._table_names():
                return []
            rows = (self._connect().open_table(HISTORY).search()
                    .where(f"id = {_quoted([passage_id])}").limit(10_000).to_list())
        return sorted(rows, key=lambda r: r["at"])

    # -- searching --------------------------------------------------------------------

    def search_text(self, query: str, role: str | None, limit: int) -> list[dict[str, Any]]:
        """BM25 summed over the four text columns; rows carry `_score`."""
        table = self.passages()
        if table is None or not query.strip():
            return []
        from lancedb.query import BooleanQuery, MatchQuery, Occur

        clauses = [(Occur.SHOULD, MatchQuery(query, column, boost=_BOOST[column]))
                   for column in TEXT_COLUMNS]
        with map_lance_errors("searching the text", self.index_dir):
            search = table.search(BooleanQuery(clauses), query_type="fts")
            where = role_filter(role)
            if where:
                search = search.where(where, prefilter=True)
            return search.select([*RESULT_COLUMNS, "_score"]).limit(limit).to_list()

    def search_vector(self, vector: np.ndarray, role: str | None,
                      limit: int) -> list[dict[str, Any]]:
        """Exact cosine search over the stored vectors; rows carry `_distance`."""
        table = self.passages()
        if table is None:
            return []
        import numpy as np

        with map_lance_errors("searching the vectors", self.index_dir):
            search = (table.search(np.asarray(vector, dtype=np.float32),
                                   vector_column_name="vector", query_type="vector")
                      .distance_type("cosine"))
            where = role_filter(role)
            if where:
                search = search.where(where, prefilter=True)
            return search.select([*RESULT_COLUMNS, "_distance"]).limit(limit).to_list()
