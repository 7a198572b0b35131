"""The undo journal: what every applied change replaced, written before the change.

Layout, under the repository root (`.consilium/` carries a `.gitignore` of `*`, so none
of it is committed by accident; `git add -f` still can, so a journal found in a repository
may have come with it, and undo trusts a session only when the user's history knows it):

    .consilium/journal/objects/ab/cdef...      file contents and backups, by sha256
    .consilium/journal/sessions/<id>/log.jsonl one JSON record per line

A session's id is the id of the apply session in the user's history database.

Each step of a session is a `begin` record (the prior state of everything the action
will touch, the new file contents where they are known in advance, and the folders it
will make, `new_dirs`) written and fsynced before the action runs, and an `end` record
(the state it left, and the folders it did make, `created_dirs`) after. Objects
are written, fsynced and renamed into place before any record names them. A kill at any
point therefore leaves records that describe the tree: a step with no `end` is known to
have left each path either as it was or as intended. A torn last line (a kill in the
middle of a write) is ignored when reading.

What the journal folder holds may have come with the repository, so nothing in it is taken
on trust: each record is checked against what consilium writes (`journal_records`) and a
session that fails is skipped as damaged; an object is read back only when its bytes hash to
its name, and one already there under the name of a new copy is replaced unless it does.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.errors import ConsiliumError, UsageError
from consilium_cli.tools.atomic import atomic_write_bytes
from consilium_cli.tools.files import STATE_DIR_NAME, sha256_bytes
from consilium_cli.tools.journal_records import BadRecord, check_begin, check_end, is_digest, when

JOURNAL_DIR = "journal"
FORMAT = 1


def _plain_folder(folder: Path) -> Path:
    """Make `folder` if missing; refuse one that is a link or not a folder (a repository
    could ship a link there, and the journal and its copies must stay inside it)."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UsageError(f"{folder} is not a plain folder; consilium keeps its undo journal "
                         "there and will not follow a link", hint=f"remove {folder}")
    folder.mkdir(exist_ok=True)
    return folder


def state_dir(root: Path) -> Path:
    """`.consilium/` in the repository, created git-ignored."""
    folder = _plain_folder(root / STATE_DIR_NAME)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        atomic_write_bytes(ignore, b"# consilium's local state (undo journal): never commit\n*\n",
                           keep_mode=True)
    return folder


@dataclass
class Step:
    """One applied (or attempted) action as the journal recorded it."""

    step: int
    action: int
    kind: str
    label: str
    undoable: bool
    begin: dict[str, Any]
    end: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.end is not None


@dataclass
class SessionLog:
    id: str
    header: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    closed: dict[str, Any] | None = None
    undone: dict[str, Any] | None = None

    @property
    def created_at(self) -> float:
        return when(self.header.get("created_at", 0.0))

    @property
    def task(self) -> str:
        return str(self.header.get("task", ""))

    @property
    def status(self) -> str:
        if self.undone:
            return "undone"
        if any(not s.finished for s in self.steps):
            return "interrupted"
        if self.closed is None:
            return "open"
        return str(self.closed.get("status", "done"))

    @property
    def changes(self) -> int:
        return sum(1 for s in self.steps if s.undoable)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": self.created_at, "task": self.task,
                "status": self.status, "steps": [
                    {"step": s.step, "action": s.action, "kind": s.kind, "label": s.label,
                     "undoable": s.undoable, "finished": s.finished,
                     "ok": bool(s.end and s.end.get("ok")), "begin": s.begin, "end": s.end}
                    for s in self.steps]}


class Journal:
    """The journal of one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.dir = self.root / STATE_DIR_NAME / JOURNAL_DIR
        self.damaged: dict[str, str] = {}
        """Sessions the last `sessions()` skipped, by id, with the reason."""

    def _folder(self, folder: Path) -> Path:
        """Make `folder` (inside the repository), each part a plain folder: the repository
        could ship a link in the place of one, leading out of it."""
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = _plain_folder(current / part)
        return folder

    # -- objects -------------------------------------------------------------------

    def object_path(self, digest: str) -> Path:
        return self.dir / "objects" / digest[:2] / digest[2:]

    def put_object(self, data: bytes) -> str:
        """Store bytes once (by sha256) durably; return the hash.

        An object already there is kept only when it is a plain file holding these bytes:
        one shipped with the repository under this name must not stand in for the copy."""
        digest = sha256_bytes(data)
        path = self._folder(self.object_path(digest).parent) / digest[2:]
        if path.is_dir() and not path.is_symlink():
            raise UsageError(f"{path} is a folder where the journal keeps a copy of a file",
                             hint=f"remove {path}")
        if not _holds(path, digest):
            atomic_write_bytes(path, data)
        return digest

    def get_object(self, digest: str) -> bytes:
        if not is_digest(digest):
            raise UsageError(f"the journal names an object by a bad hash: {str(digest)[:64]!r}",
                             hint="consilium journal show SESSION")
        path = self.object_path(digest)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"the journal lost an object ({digest[:12]}): {exc}",
                             hint="consilium journal show SESSION") from exc
        if sha256_bytes(data) != digest:
            raise UsageError(f"the journal object {digest[:12]} is damaged")
        return data

    # -- sessions -------------------------------------------------------------------

    def session_dir(self, session_id: str) -> Path:
        return self.dir / "sessions" / session_id

    def start(self, session_id: str, *, task: str, source: str) -> SessionWriter:
        """Open a new session; `session_id` is apply's history session id (undo checks
        the journal against history by it)."""
        state_dir(self.root)
        folder = self._folder(self.session_dir(session_id).parent) / session_id
        folder.mkdir(exist_ok=False)
        writer = SessionWriter(self, session_id, folder / "log.jsonl")
        writer.append({"t": "session", "format": FORMAT, "id": session_id,
                       "created_at": time.time(), "task": task, "source": source,
                       "root": str(self.root)})
        return writer

    def writer(self, session_id: str) -> SessionWriter:
        """Append to an existing session (undo records)."""
        return SessionWriter(self, session_id, self.session_dir(session_id) / "log.jsonl")

    def session_ids(self) -> list[str]:
        folder = self.dir / "sessions"
        if not folder.is_dir():
            return []
        return [p.name for p in folder.iterdir() if (p / "log.jsonl").is_file()]

    def load(self, session_id: str) -> SessionLog:
        """One session; UsageError when its log is empty or not what consilium writes."""
        path = self.session_dir(session_id) / "log.jsonl"
        records = list(_read_records(path))
        if not records or records[0].get("t") != "session":
            raise UsageError(f"journal session {session_id} is empty or damaged",
                             hint="consilium journal list")
        try:
            return _assemble(session_id, records)
        except BadRecord as exc:
            raise UsageError(f"journal session {session_id} is damaged: {exc}",
                             hint="consilium journal list") from exc

    def sessions(self) -> list[SessionLog]:
        """Every session, newest first; damaged ones are skipped (and kept in `damaged`)."""
        logs = []
        self.damaged = {}
        for session_id in self.session_ids():
            try:
                logs.append(self.load(session_id))
            except UsageError as exc:
                self.damaged[session_id] = exc.message
        return sorted(logs, key=lambda s: (s.created_at, s.id), reverse=True)

    def resolve(self, prefix: str | None, *,
                vouched: Callable[[SessionLog], bool] | None = None) -> SessionLog:
        """A session by id prefix, or the newest one with changes left to undo (among
        those `vouched` accepts, when given: a session shipped with the repository must
        not stand in the way of the user's own)."""
        sessions = self.sessions()
        if prefix is not None and prefix != "last":
            return self._by_prefix(sessions, prefix, vouched)
        damaged = (f" ({len(self.damaged)} damaged session(s) skipped)"
                   if self.damaged else "")
        if not sessions:
            raise UsageError(f"the journal of this repository is empty: nothing to undo"
                             f"{damaged}", hint="consilium journal list")
        skipped = 0
        for log in sessions:
            if log.changes and not log.undone:
                if vouched is None or vouched(log):
                    return log
                skipped += 1
        also = (f" ({skipped} session(s) your history does not record as made here "
                "were passed over)") if skipped else ""
        raise UsageError(f"no session in the journal has changes left to undo{also}{damaged}",
                         hint="consilium journal list")

    def _by_prefix(self, sessions: list[SessionLog], prefix: str,
                   vouched: Callable[[SessionLog], bool] | None) -> SessionLog:
        """The session named exactly, or the one whose id starts with `prefix`; with
        `vouched`, sessions it does not accept (shipped ones) cannot make a prefix ambiguous."""
        found = [s for s in sessions if s.id.startswith(prefix)]
        for log in found:
            if log.id == prefix:
                return log
        if prefix in self.damaged:  # named exactly, but it cannot be read
            raise UsageError(self.damaged[prefix], hint="consilium journal list")
        if not found:
            raise UsageError(f"no session {prefix!r} in the journal of {self.root}",
                             hint="consilium journal list")
        if len(found) > 1 and vouched is not None:
            found = [s for s in found if vouched(s)] or found
        if len(found) > 1:
            raise UsageError(f"session id {prefix!r} is ambiguous ({len(found)} sessions)",
                             hint="give more characters")
        return found[0]


class SessionWriter:
    """Appends records to one session's log; each record is fsynced before returning."""

    def __init__(self, journal: Journal, session_id: str, path: Path) -> None:
        self.journal = journal
        self.id = session_id
        self.path = path
        self._next_step = self._count_steps()

    def _count_steps(self) -> int:
        if not self.path.exists():
            return 0
        return sum(1 for rec in _read_records(self.path) if rec.get("t") == "begin")

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        # A log shipped as a link must not make a record land in the file it points to.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise UsageError(f"cannot write the journal log {self.path}: "
                             f"{exc.strerror or exc} (is it a link?)",
                             hint="remove it; the journal keeps plain files only") from exc
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def begin(self, action: int, kind: str, label: str, *, undoable: bool,
              **state: Any) -> int:
        step = self._next_step
        self._next_step += 1
        self.append({"t": "begin", "step": step, "action": action, "kind": kind,
                     "label": label, "undoable": undoable, "at": time.time(), **state})
        return step

    def end(self, step: int, *, ok: bool, error: str = "", **state: Any) -> None:
        self.append({"t": "end", "step": step, "ok": ok, "error": error, "at": time.time(),
                     **state})

    @contextmanager
    def step(self, action: int, kind: str, label: str, *, undoable: bool,
             left: Callable[[], dict[str, Any]] | None = None,
             **state: Any) -> Iterator[dict[str, Any]]:
        """Journal the block as one step: `begin` now, `end` when it leaves, also when it
        raises. The block may put fields of the end record (`ok`, `error`, ...) into the
        dict it gets. `left()` gives the state the step left; when that cannot be read,
        the end record goes without it and undo treats the step's state as uncertain."""
        number = self.begin(action, kind, label, undoable=undoable, **state)
        record: dict[str, Any] = {}
        try:
            yield record
        except BaseException as exc:
            self.end(number, ok=False, error=str(exc) or type(exc).__name__,
                     **_state_left(left))
            raise
        self.end(number, **{"ok": True, **record, **_state_left(left)})

    def close(self, status: str) -> None:
        self.append({"t": "close", "status": status, "at": time.time()})


def _state_left(left: Callable[[], dict[str, Any]] | None) -> dict[str, Any]:
    if left is None:
        return {}
    try:
        return left()
    except (OSError, ConsiliumError):
        return {}


def _assemble(session_id: str, records: list[dict[str, Any]]) -> SessionLog:
    """A session from its records (the first is its header); BadRecord if one is malformed."""
    log = SessionLog(session_id, records[0])
    by_step: dict[int, Step] = {}
    for rec in records[1:]:
        kind = rec.get("t")
        if kind == "begin":
            check_begin(rec)
            step = Step(rec["step"], rec["action"], rec["kind"], rec.get("label", ""),
                        bool(rec.get("undoable", True)), rec)
            by_step[step.step] = step
            log.steps.append(step)
        elif kind == "end":
            check_end(rec)
            if rec["step"] in by_step:
                by_step[rec["step"]].end = rec
        elif kind == "close":
            log.closed = rec
        elif kind == "undone":
            log.undone = rec
    return log


def _holds(path: Path, digest: str) -> bool:
    """Whether `path` is a plain file (not a link) whose bytes hash to `digest`."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        return sha256_bytes(path.read_bytes()) == digest
    except OSError:
        return False


def _read_records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the journal {path}: {exc.strerror or exc}") from exc
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a record torn by a kill in the middle of its write
        except RecursionError as exc:  # nesting no record of consilium's has
            raise UsageError(f"the journal {path} is damaged: a record nested too deep",
                             hint="consilium journal list") from exc
        if isinstance(record, dict):
            yield record
