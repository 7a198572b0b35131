"""SQL: read-only queries cannot write, one statement per action, SQLite backups;
PostgreSQL through a real throwaway server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.tools.db import (
    DbError,
    backup_sqlite,
    mask_url,
    parse_db_url,
    restore_sqlite,
    run_query,
    sql_writes,
    sqlite_digest,
)
from tests.support.postgres import postgres_url  # noqa: F401  (fixture)


@pytest.mark.parametrize(("sql", "writes"), [
    ("SELECT * FROM t WHERE a = ?", False),
    ("  -- comment\n select 1", False),
    ("WITH x AS (SELECT 1) SELECT * FROM x", False),
    ("select 'delete' from t", False),
    ("PRAGMA table_info(users)", False),
    ("UPDATE t SET a = 1", True),
    ("insert into t values (1)", True),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", True),
    ("SELECT * INTO t2 FROM t", True),
    ("SELECT * FROM t FOR UPDATE", True),
    ("PRAGMA journal_mode = WAL", True),
    ("EXPLAIN ANALYZE SELECT 1", True),
    ("VACUUM", True),
])
def test_classification(sql: str, writes: bool) -> None:
    assert sql_writes(sql) is writes


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users VALUES (1, 'ann'), (2, 'bob')")
    conn.commit()
    conn.close()
    return path


def test_sqlite_read_only_cannot_write(tmp_path: Path) -> None:
    path = _db(tmp_path)
    target = parse_db_url("sqlite:///app.db", tmp_path)
    result = run_query(target, "SELECT name FROM users WHERE id = ?", [2], read_only=True)
    assert result.columns == ("name",) and result.rows == (("bob",),)
    before = path.read_bytes()
    with pytest.raises(DbError, match=r"readonly|read-only|attempt to write"):
        run_query(target, "DELETE FROM users", [], read_only=True)
    assert path.read_bytes() == before


def test_sqlite_one_statement_only(tmp_path: Path) -> None:
    _db(tmp_path)
    target = parse_db_url("sqlite:///app.db", tmp_path)
    with pytest.raises(DbError, match="one statement"):
        run_query(target, "UPDATE users SET name = 'x'; DROP TABLE users", [], read_only=False)
    assert run_query(target, "SELECT count(*) FROM users", [], read_only=True).rows == ((2,),)


def test_sqlite_backup_and_restore(tmp_path: Path) -> None:
    path = _db(tmp_path)
    digest = sqlite_digest(path)
    backup = backup_sqlite(path)
    target = parse_db_url("sqlite:///app.db", tmp_path)
    assert run_query(target, "DELETE FROM users WHERE id = ?", [1], read_only=False).rowcount == 1
    assert sqlite_digest(path) != digest
    restore_sqlite(path, backup)
    assert sqlite_digest(path) == digest


def test_urls(tmp_path: Path) -> None:
    assert parse_db_url("sqlite:///../x.db", tmp_path / "repo").file.escape  # type: ignore[union-attr]
    assert mask_url("postgresql://u:secret@h:5/db") == "postgresql://u:***@h:5/db"
    assert mask_url("postgresql://u@h/db?sslmode=require&password=secret") == \
        "postgresql://u@h/db?sslmode=require&password=***"
    assert mask_url("postgresql://u:secret@[::1]:5/db") == "postgresql://u:***@[::1]:5/db"
    pg = parse_db_url("postgresql://u:secret@h/db", tmp_path)
    assert pg.engine == "postgresql" and "secret" not in pg.display
    with pytest.raises(UsageError, match="unsupported database URL"):
        parse_db_url("mysql://u:pw@h/db", tmp_path)


@pytest.mark.postgres
def test_postgres_queries_writes_and_read_only(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    target = parse_db_url(postgres_url, tmp_path)
    run_query(target, "DROP TABLE IF EXISTS consilium_t", [], read_only=False)
    run_query(target, "CREATE TABLE consilium_t (id int, name text)", [], read_only=False)
    assert run_query(target, "INSERT INTO consilium_t VALUES (%s, %s), (%s, %s)",
                     [1, "a", 2, "b"], read_only=False).rowcount == 2
    result = run_query(target, "SELECT name FROM consilium_t WHERE id = %s", [2],
                       read_only=True)
    assert result.rows == (("b",),)
    with pytest.raises(DbError, match="read-only"):
        run_query(target, "WITH d AS (DELETE FROM consilium_t RETURNING 1) SELECT * FROM d",
                  [], read_only=True)
    with pytest.raises(DbError, match="multiple commands"):
        run_query(target, "DELETE FROM consilium_t; DROP TABLE consilium_t", [],
                  read_only=False)
    assert run_query(target, "SELECT count(*) FROM consilium_t", [],
                     read_only=True).rows == ((2,),)


def test_remote_postgres_reads_need_more_than_read_only() -> None:
    from consilium_cli.tools.actions import _remote_database

    assert not _remote_database("postgresql://app@localhost/db")
    assert not _remote_database("postgresql://app@127.0.0.1:5432/db")
    assert not _remote_database("postgresql:///db?host=/var/run/postgresql")
    assert not _remote_database("sqlite:///app.db")
    assert _remote_database("postgresql://app:pw@db.example.com/db")
