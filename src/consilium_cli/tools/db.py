"""One SQL statement against SQLite (sqlite3) or PostgreSQL (psycopg 3).

A query classified as read-only runs on a connection the database itself keeps read-only
(SQLite `mode=ro` and `query_only`, PostgreSQL `read_only` transactions), so a statement
that only looks like a SELECT still cannot write. One statement per action: sqlite3
refuses several, and PostgreSQL statements are sent as prepared statements, which cannot
hold more than one. For SQLite undo, `backup_sqlite()` copies the database through
SQLite's backup API before the first write.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from consilium_cli.errors import ConsiliumError, UsageError
from consilium_cli.tools.files import Target, resolve_target

MAX_ROWS = 500
CONNECT_TIMEOUT_S = 10

_READ_WORDS = {"select", "with", "explain", "values", "show", "table"}
# Inside a statement that starts like a query, these make it write (data-modifying CTEs,
# SELECT INTO, row locks).
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|merge|create|drop|alter|truncate|into)\b"
                          r"|\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b",
                          re.IGNORECASE)
_READ_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info",
                 "index_xinfo", "foreign_key_list", "integrity_check", "quick_check",
                 "database_list", "compile_options", "function_list"}


class DbError(UsageError):
    """The database refused or failed the statement; the message has its words."""


@dataclass(frozen=True)
class DbTarget:
    engine: str
    url: str
    display: str
    file: Target | None = None


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    rowcount: int
    truncated: bool = False


_QUERY_PASSWORD = re.compile(r"(?i)((?:^|&)password=)[^&]*")


def mask_url(url: str) -> str:
    """The URL with its password (in the user part or a `password=` parameter) as ***."""
    parts = urlsplit(url)
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    if parts.password is None and query == parts.query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        if parts.port:
            host = f"{host}:{parts.port}"
        netloc = f"{quote(user, safe='')}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def parse_db_url(url: str, root: Path) -> DbTarget:
    """sqlite:///relative.db, sqlite:////absolute.db or postgresql://... (postgres://)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            raise UsageError(f"SQLite URLs look like sqlite:///path/to.db, got {url!r}")
        given = unquote(url[len("sqlite:///"):].split("?", 1)[0])
        if not given:
            raise UsageError(f"the SQLite URL {url!r} names no file")
        target = resolve_target(root, given)
        return DbTarget("sqlite", url, f"sqlite:///{target.display}", target)
    if scheme in ("postgresql", "postgres"):
        return DbTarget("postgresql", url, mask_url(url))
    raise UsageError(f"unsupported database URL {mask_url(url)!r}",
                     hint="use sqlite:///path.db or postgresql://user@host/dbname")


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", " ", sql)


def sql_writes(sql: str) -> bool:
    """Whether the statement may change anything (conservative: unknown means yes)."""
    text = _strip_comments(sql).strip()
    words = text.split(None, 1)
    if not words:
        return True
    first = words[0].lower().rstrip(";(")
    if first == "pragma":
        match = re.match(r"pragma\s+(?:\w+\.)?(\w+)\s*(\(|=|;|$)", text, re.IGNORECASE)
        if match is None or match.group(2) == "=":
            return True
        return match.group(2) == "(" and match.group(1).lower() not in _READ_PRAGMAS
    if first not in _READ_WORDS:
        return True
    if first == "explain" and re.search(r"\banalyze\b", text, re.IGNORECASE):
        return True
    body = re.sub(r"'(?:[^']|'')*'", "''", text)
    body = re.sub(r'"(?:[^"]|"")*"', '""', body)
    return bool(_WRITE_WORDS.search(body))


@contextmanager
def map_db_errors(what: str) -> Iterator[None]:
    """Translate sqlite3 and psycopg exceptions into DbError."""
    try:
        yield
    except ConsiliumError:
        raise
    except sqlite3.Error as exc:
        raise DbError(f"SQLite failed while {what}: {exc}") from exc
    except Exception as exc:
        try:
            import psycopg
        except ImportError:
            raise exc from None
        if isinstance(exc, psycopg.Error):
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DbError(f"PostgreSQL failed while {what}: {detail}") from exc
        raise


def _rows(cursor: Any) -> QueryResult:
    if cursor.description is None:
        return QueryResult((), (), max(cursor.rowcount, 0))
    columns = tuple(str(d[0]) for d in cursor.description)
    rows = cursor.fetchmany(MAX_ROWS + 1)
    return QueryResult(columns, tuple(tuple(r) for r in rows[:MAX_ROWS]), len(rows[:MAX_ROWS]),
                       len(rows) > MAX_ROWS)


def _sqlite_ro(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise DbError(f"no SQLite database at {path}")
    uri = "file:" + quote(str(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT_S)
    conn.execute("PRAGMA query_only = ON")
    return conn


def run_query(target: DbTarget, sql: str, params: Sequence[Any], *,
              read_only: bool) -> QueryResult:
    """Run one statement; a read-only run cannot change the database."""
    what = "running the query" if read_only else "running the statement"
    with map_db_errors(what):
        if target.engine == "sqlite":
            assert target.file is not None
            path = target.file.path
            conn = _sqlite_ro(path) if read_only else sqlite3.connect(
                path, timeout=CONNECT_TIMEOUT_S, isolation_level="DEFERRED")
            try:
                cursor = conn.execute(sql, tuple(params))
                result = _rows(cursor)
                if read_only:
                    conn.rollback()
                else:
                    conn.commit()
                return result
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(target.url, connect_timeout=CONNECT_TIMEOUT_S,
                             autocommit=False) as conn:
            conn.read_only = read_only
            with conn.cursor() as cursor:
                cursor.execute(sql, tuple(params), prepare=True)
                result = _rows(cursor)
            if read_only:
                conn.rollback()
            else:
                conn.commit()
            return result


def _copy_database(source: Path, dest: Path) -> None:
    """Copy one database's content into another through SQLite's backup API."""
    src = sqlite3.connect(source, timeout=CONNECT_TIMEOUT_S)
    dst = sqlite3.connect(dest, timeout=CONNECT_TIMEOUT_S)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup_sqlite(path: Path) -> bytes:
    """A consistent copy of the database file, made with SQLite's backup API."""
    with map_db_errors("backing up the database"), tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "backup.sqlite3"
        _copy_database(path, copy)
        return copy.read_bytes()


def restore_sqlite(path: Path, backup: bytes) -> None:
    """Put the backed-up content back through the backup API (safe with WAL)."""
    with map_db_errors("restoring the database"), tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "backup.sqlite3"
        copy.write_bytes(backup)
        _copy_database(copy, path)


def sqlite_digest(path: Path) -> str:
    """A hash of the database's content (schema and rows), not of its file pages."""
    if not path.exists():
        return ""
    with map_db_errors("reading the database"):
        conn = _sqlite_ro(path)
        try:
            digest = hashlib.sha256()
            for line in conn.iterdump():
                digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
            return digest.hexdigest()
        finally:
            conn.close()
