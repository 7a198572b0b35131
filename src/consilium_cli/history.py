"""SQLite log of sessions: tasks, every message, decisions, approvals, Director requests.

The schema grows through an ordered list of migrations (as simonw/llm does); the
database's `user_version` records how many have run.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.errors import UsageError
from consilium_cli.paths import history_db_path

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        task TEXT NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL DEFAULT 'running',
        model TEXT NOT NULL DEFAULT '',
        model_sha256 TEXT NOT NULL DEFAULT '',
        roles TEXT NOT NULL DEFAULT '[]',
        cwd TEXT NOT NULL DEFAULT '',
        decision TEXT,
        director TEXT NOT NULL DEFAULT '',
        timings TEXT NOT NULL DEFAULT '{}',
        tokens TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        round INTEGER NOT NULL,
        role TEXT NOT NULL,
        text TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        finish_reason TEXT NOT NULL DEFAULT '',
        seconds REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_session ON messages(session_id);
    CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        action_index INTEGER NOT NULL,
        kind TEXT NOT NULL,
        summary TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE director_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        endpoint TEXT NOT NULL,
        model TEXT NOT NULL,
        payload TEXT NOT NULL,
        outcome TEXT NOT NULL,
        usage TEXT NOT NULL DEFAULT '{}',
        latency_s REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    """,
)


@dataclass(frozen=True)
class SessionSummary:
    id: str
    kind: str
    task: str
    created_at: float
    status: str
    roles: list[str]
    director: str


@dataclass(frozen=True)
class SessionRecord:
    summary: SessionSummary
    model: str
    model_sha256: str
    cwd: str
    finished_at: float | None
    decision: Any
    timings: dict[str, Any]
    tokens: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    director_requests: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        s = self.summary
        return {
            "id": s.id, "kind": s.kind, "task": s.task, "status": s.status,
            "created_at": s.created_at, "finished_at": self.finished_at, "roles": s.roles,
            "model": self.model, "model_sha256": self.model_sha256, "cwd": self.cwd,
            "director": s.director, "decision": self.decision, "timings": self.timings,
            "tokens": self.tokens, "messages": self.messages, "approvals": self.approvals,
            "director_requests": self.director_requests,
        }


class History:
    """One SQLite database; every write is its own transaction, so a crash loses nothing
    that was already recorded."""

    def __init__(self, path: Path | None = None, *,
                 env: Mapping[str, str] | None = None) -> None:
        self.path = path or history_db_path(env)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise self._open_error(exc) from exc
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise self._open_error(exc) from exc

    def _open_error(self, exc: Exception) -> UsageError:
        return UsageError(f"cannot open the history database {self.path}: {exc}",
                          hint=f"move {self.path} aside (a new one is created) or fix "
                               "its folder's permissions")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        done = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[done:], start=done + 1):
            with self._db:
                self._db.executescript(script)
                self._db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    # -- writing ----------------------------------------------------------------------

    def start_session(self, kind: str, task: str, *, model: str = "", model_sha256: str = "",
                      roles: Sequence[str] = (), cwd: str = "") -> str:
        session_id = uuid.uuid4().hex[:12]
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions (id, kind, task, created_at, model, model_sha256, roles,"
                " cwd) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, kind, task, time.time(), model, model_sha256,
                 json.dumps(list(roles)), cwd),
            )
        return session_id

    def add_message(self, session_id: str, round_no: int, role: str, text: str, *,
                    prompt_tokens: int = 0, completion_tokens: int = 0,
                    finish_reason: str = "", seconds: float = 0.0) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO messages (session_id, round, role, text, prompt_tokens,"
                " completion_tokens, finish_reason, seconds, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, round_no, role, text, prompt_tokens, completion_tokens,
                 finish_reason, seconds, time.time()),
            )

    def finish_session(self, session_id: str, *, status: str, decision: Any = None,
                       director: str = "", timings: dict[str, Any] | None = None,
                       tokens: dict[str, Any] | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE sessions SET finished_at = ?, status = ?, decision = ?, director = ?,"
                " timings = ?, tokens = ? WHERE id = ?",
                (time.time(), status, json.dumps(decision, ensure_ascii=False)
                 if decision is not None else None, director, json.dumps(timings or {}),
                 json.dumps(tokens or {}), session_id),
            )

    def record_approval(self, session_id: str, action_index: int, kind: str, summary: str,
                        answer: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO approvals (session_id, action_index, kind, summary, answer,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, action_index, kind, summary, answer, time.time()),
            )

    def record_director_request(self, session_id: str, *, endpoint: str, model: str,
                                payload: str, outcome: str, usage: dict[str, Any] | None = None,
                                latency_s: float = 0.0) -> None:
        """Log a Director request; `payload` must already be the redacted body."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO director_requests (session_id, endpoint, model, payload, outcome,"
                " usage, latency_s, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, endpoint, model, payload, outcome, json.dumps(usage or {}),
                 latency_s, time.time()),
            )

    # -- reading ----------------------------------------------------------------------

    @staticmethod
    def _summary(row: sqlite3.Row) -> SessionSummary:
        return SessionSummary(row["id"], row["kind"], row["task"], row["created_at"],
                              row["status"], json.loads(row["roles"]), row["director"])

    def list_sessions(self, limit: int = 20, kind: str | None = None) -> list[SessionSummary]:
        query = "SELECT * FROM sessions"
        args: list[Any] = []
        if kind:
            query += " WHERE kind = ?"
            args.append(kind)
        query += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [self._summary(row) for row in self._db.execute(query, args)]

    def session_origin(self, session_id: str) -> tuple[str, str] | None:
        """The kind and working folder of the session with exactly this id; None when
        history has no such session."""
        row = self._db.execute("SELECT kind, cwd FROM sessions WHERE id = ?",
                               (session_id,)).fetchone()
        return None if row is None else (str(row["kind"]), str(row["cwd"]))

    def resolve_id(self, prefix: str) -> str:
        """A full session id from a unique prefix (or 'last')."""
        if not prefix.strip():
            raise UsageError("no session id given", hint="consilium history list")
        if prefix == "last":
            row = self._db.execute(
                "SELECT id FROM sessions ORDER BY created_at DESC, rowid DESC LIMIT 1").fetchone()
            if row is None:
                raise UsageError("history is empty", hint='consilium ask "..." starts a session')
            return str(row["id"])
        # Not LIKE: `_` and `%` in a prefix would be wildcards.
        rows = self._db.execute(
            "SELECT id FROM sessions WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
            (prefix,)).fetchall()
        if not rows:
            raise UsageError(f"no session {prefix!r} in history",
                             hint="consilium history list")
        if len(rows) > 1:
            raise UsageError(f"session id {prefix!r} is ambiguous", hint="give more characters")
        return str(rows[0]["id"])

    def get_session(self, prefix: str) -> SessionRecord:
        session_id = self.resolve_id(prefix)
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()

        def rows(table: str) -> list[dict[str, Any]]:
            found = self._db.execute(
                f"SELECT * FROM {table} WHERE session_id = ? ORDER BY id", (session_id,))
            return [{k: r[k] for k in r.keys() if k not in ("id", "session_id")}  # noqa: SIM118
                    for r in found]

        requests = rows("director_requests")
        for request in requests:
            request["usage"] = json.loads(request["usage"])
        return SessionRecord(
            summary=self._summary(row), model=row["model"], model_sha256=row["model_sha256"],
            cwd=row["cwd"], finished_at=row["finished_at"],
            decision=json.loads(row["decision"]) if row["decision"] else None,
            timings=json.loads(row["timings"]), tokens=json.loads(row["tokens"]),
            messages=rows("messages"), approvals=rows("approvals"),
            director_requests=requests,
        )
