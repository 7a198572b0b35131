"""Each action kind in two halves: `prepare()` (read the tree, build the preview, find
why it cannot run) and `apply()` (check nothing moved since the preview, journal the prior
state, change, journal the new state).

`apply()` yields `ActionOutput` events while it runs (command output) and returns an
`ActionResult`. It writes the journal's `begin` record before the first change and its
`end` record after the last, also when it fails or is interrupted.
"""

from __future__ import annotations

import difflib
import json
import shlex
from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.errors import ConsiliumError, UsageError
from consilium_cli.tools.approval import Category, Preview
from consilium_cli.tools.edits import apply_blocks
from consilium_cli.tools.files import (
    FileState,
    NotTextError,
    PathRefused,
    Target,
    TextFormat,
    decode_text,
    encode_text,
    is_binary,
    missing_folders,
    normalize_block,
    read_state,
    remove_file,
    resolve_target,
    sha256_bytes,
    write_bytes,
)
from consilium_cli.tools.journal import SessionWriter
from consilium_cli.tools.plan import (
    Action,
    DbQuery,
    DeleteFile,
    EditBlock,
    EditFile,
    GitOp,
    MoveFile,
    RunCommand,
    Search,
    SysInfo,
    WriteFile,
)

DIFF_CONTEXT = 3
NOT_UNDOABLE_RUN = "a command's effects cannot be undone"
NOT_UNDOABLE_PG = "PostgreSQL changes cannot be undone by consilium"
NOT_UNDOABLE_PUSH = "a push cannot be undone by consilium"


class ActionFailed(ConsiliumError):
    """An approved action could not be carried out."""


@dataclass(frozen=True)
class ActionOutput:
    index: int
    stream: str
    text: str


@dataclass(frozen=True)
class ActionResult:
    index: int
    ok: bool
    message: str
    output: str = ""
    data: Any = None
    exit_code: int | None = None


@dataclass
class ApplyEnv:
    """What actions need from their surroundings."""

    root: Path
    env: Mapping[str, str]
    secret_values: tuple[str, ...] = ()
    default_timeout_s: float = 300.0
    allow_pipelines: bool = False
    protected: list[Path] | None = None
    journal_factory: Any = None
    sqlite_backups: dict[str, str] = field(default_factory=dict)
    _writer: SessionWriter | None = None

    @property
    def journal(self) -> SessionWriter:
        if self._writer is None:
            self._writer = self.journal_factory()
        assert self._writer is not None
        return self._writer

    @property
    def has_journal(self) -> bool:
        return self._writer is not None

    def resolve(self, given: str) -> Target:
        return resolve_target(self.root, given, protected=self.protected)


ApplyGen = Generator[ActionOutput, None, ActionResult]


class Prepared(ABC):
    """An action ready to show and, once approved, to apply."""

    preview: Preview

    @abstractmethod
    def apply(self, env: ApplyEnv) -> ApplyGen:
        """Carry the action out (see the module docstring)."""

    def _done(self, message: str, **kw: Any) -> ActionResult:
        return ActionResult(self.preview.index, True, message, **kw)


class Unavailable(Prepared):
    """An action that cannot run as planned; `preview.error` says why."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview

    def apply(self, env: ApplyEnv) -> ApplyGen:
        raise ActionFailed(self.preview.error)
        yield  # pragma: no cover - makes this a generator


def _unified(old: str, new: str, old_name: str, new_name: str, context: int) -> tuple[str, ...]:
    def label(prefix: str, name: str) -> str:
        return name if name == "/dev/null" else f"{prefix}/{name}"

    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 label("a", old_name), label("b", new_name), n=context)
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return tuple("".join(out).splitlines())


def _preview(action: Action, total: int, category: Category, title: str,
             **kw: Any) -> Preview:
    return Preview(index=action.index, total=total, kind=action.kind, title=title,
                   category=category, why=action.why, **kw)


def _failed(action: Action, total: int, title: str, error: str,
            category: Category = "edit") -> Prepared:
    return Unavailable(_preview(action, total, category, title, error=error))


def _state_json(display: str, state: FileState) -> dict[str, Any]:
    return {"path": display, **state.to_json()}


def _store_before(env: ApplyEnv, display: str, state: FileState) -> dict[str, Any]:
    record = _state_json(display, state)
    if state.exists and state.data is not None:
        record["object"] = env.journal.journal.put_object(state.data)
    return record


# -- files ------------------------------------------------------------------------------

@dataclass
class FileChange:
    """One path's change: its state when shown, and the bytes it will hold (None: gone)."""

    target: Target
    shown: FileState
    new: bytes | None
    mode: int | None = None


class FileAction(Prepared):
    def __init__(self, preview: Preview, changes: list[FileChange], verb: str) -> None:
        self.preview = preview
        self.changes = changes
        self.verb = verb

    def apply(self, env: ApplyEnv) -> ApplyGen:
        for change in self.changes:
            now = read_state(change.target.path)
            if (now.exists, now.sha256) != (change.shown.exists, change.shown.sha256):
                raise ActionFailed(
                    f"{change.target.display} changed since it was shown; nothing was written",
                    hint="run the plan again to see the current content")
        journal = env.journal
        befores = [_store_before(env, c.target.display, c.shown) for c in self.changes]
        intended = [{"path": c.target.display, "exists": c.new is not None,
                     "sha256": sha256_bytes(c.new) if c.new is not None else ""}
                    for c in self.changes]
        # The folders a write will make go into the begin record, before any is made: a
        # kill before the end record must not leave folders undo does not know of.
        new_dirs = list(dict.fromkeys(folder for c in self.changes if c.new is not None
                                      for folder in missing_folders(c.target.path)))
        created: list[Path] = []

        def left() -> dict[str, Any]:
            return {"files": _states_left([c.target for c in self.changes]),
                    "created_dirs": [str(f) for f in created]}

        with journal.step(self.preview.index, self.preview.kind, self.preview.title,
                          undoable=True, left=left, files=befores, intended=intended,
                          new_dirs=[str(f) for f in new_dirs]):
            for number, change in enumerate(self.changes):
                try:
                    if change.new is None:
                        remove_file(change.target.path)
                    else:
                        mode = change.mode if change.mode is not None else change.shown.mode
                        write_bytes(change.target.path, change.new, mode, created=created,
                                    allowed=new_dirs)
                except OSError as exc:
                    partial = number > 0 or bool(created)
                    raise ActionFailed(
                        f"could not {'delete' if change.new is None else 'write'} "
                        f"{change.target.display}: {exc.strerror or exc}",
                        hint=f"consilium undo {journal.id}" if partial else "") from exc
        return self._done(f"{self.verb} {self.preview.title.split(' ', 1)[-1]}")
        yield  # pragma: no cover - makes this a generator


def _states_left(targets: list[Target]) -> list[dict[str, Any]]:
    """The state of each path after a step; a path that cannot be read is left out (undo
    then accepts its prior or intended state, as after a kill)."""
    states = []
    for target in targets:
        try:
            states.append(_state_json(target.display, read_state(target.path,
                                                                 keep_data=False)))
        except ConsiliumError:
            continue
    return states


def _escape_notes(targets: list[Target]) -> tuple[tuple[str, ...], str]:
    danger = tuple(f"OUTSIDE THE REPOSITORY: {t.given} -> {t.path} ({t.escape})"
                   for t in targets if t.escape)
    return danger, ("a path outside the repository" if danger else "")


def _check_expected(action: Action, state: FileState) -> str:
    expected = getattr(action, "sha256", "")
    if expected and (not state.exists or state.sha256 != expected):
        return ("the file is not the one the plan was made for (its sha256 differs); "
                "nothing will be written")
    return ""


def _text_of(state: FileState, display: str) -> tuple[str, TextFormat]:
    assert state.data is not None
    return decode_text(state.data, display)


class _CannotApply(Exception):
    """Raised while preparing a file action; `prepare()` turns it into its preview."""


def _target_state(env: ApplyEnv, action: Action, given: str, *,
                  must_exist: bool) -> tuple[Target, FileState]:
    """Resolve a plan path and read it; the plan's sha256 (if any) must match."""
    try:
        target = env.resolve(given)
        state = read_state(target.path)
    except ConsiliumError as exc:
        raise _CannotApply(exc.message) from exc
    if must_exist and not state.exists:
        raise _CannotApply(f"{target.display} does not exist")
    error = _check_expected(action, state)
    if error:
        raise _CannotApply(error)
    return target, state


def prepare_edit(action: EditFile, total: int, env: ApplyEnv) -> Prepared:
    title = action.label()
    target, state = _target_state(env, action, action.path, must_exist=True)
    try:
        text, fmt = _text_of(state, target.display)
    except NotTextError as exc:
        return _failed(action, total, title, exc.message)
    blocks = [EditBlock(normalize_block(b.search, fmt), normalize_block(b.replace, fmt))
              for b in action.edits]
    outcome = apply_blocks(text, blocks)
    if outcome.text is None:
        reasons = "; ".join(m.describe() for m in outcome.failures)
        return _failed(action, total, title,
                       f"the edit does not apply to {target.display} (no block was applied): "
                       f"{reasons}")
    try:
        new = encode_text(outcome.text, fmt, target.display)
    except NotTextError as exc:
        return _failed(action, total, title, exc.message)
    danger, personal = _escape_notes([target])
    notes = [f"{len(blocks)} block(s), all applied together"]
    if fmt.crlf:
        notes.append("the file's CRLF line endings are kept")
    if fmt.encoding != "utf-8" or fmt.bom:
        notes.append(f"encoding kept: {fmt.encoding}{' with BOM' if fmt.bom else ''}")
    warnings = tuple(m.describe() for m in outcome.matches if m.status == "whitespace")
    if warnings and not personal:
        personal = "a match that ignores whitespace"
    preview = _preview(
        action, total, "edit", title,
        fields=(("file", target.display),),
        diff=_unified(text, outcome.text, target.display, target.display, DIFF_CONTEXT),
        full_diff=_unified(text, outcome.text, target.display, target.display, 1_000_000),
        notes=tuple(notes), warnings=warnings, danger=danger, personal=personal)
    return FileAction(preview, [FileChange(target, state, new)], "edited")


def prepare_write(action: WriteFile, total: int, env: ApplyEnv) -> Prepared:
    title = action.label()
    target, state = _target_state(env, action, action.path, must_exist=False)
    old_text = ""
    notes: list[str] = []
    fmt = TextFormat()
    if state.exists:
        try:
            old_text, fmt = _text_of(state, target.display)
        except NotTextError:
            old_text = ""
            notes.append(f"replaces a binary file of {len(state.data or b'')} bytes")
    new_text = normalize_block(action.content, fmt)
    try:
        new = encode_text(new_text, fmt, target.display)
    except NotTextError as exc:
        return _failed(action, total, title, exc.message)
    if fmt.crlf:
        notes.append("written with the file's CRLF line endings")
    notes.append("replaces the whole file" if state.exists else "creates a new file")
    danger, personal = _escape_notes([target])
    old_name = target.display if state.exists else "/dev/null"
    preview = _preview(
        action, total, "edit", title, fields=(("file", target.display),),
        diff=_unified(old_text, new_text, old_name, target.display, DIFF_CONTEXT),
        full_diff=_unified(old_text, new_text, old_name, target.display, 1_000_000),
        body=action.content, notes=tuple(notes), danger=danger, personal=personal)
    return FileAction(preview, [FileChange(target, state, new)], "wrote")


def prepare_delete(action: DeleteFile, total: int, env: ApplyEnv) -> Prepared:
    title = action.label()
    target, state = _target_state(env, action, action.path, must_exist=True)
    data = state.data or b""
    binary = is_binary(data)
    body = "" if binary else data.decode("utf-8", "replace")
    lines = body.count("\n") + (0 if body.endswith("\n") or not body else 1)
    notes = (f"binary file, {len(data)} bytes" if binary else
             f"{lines} line(s) removed; consilium keeps a copy for undo",)
    danger, personal = _escape_notes([target])
    diff = () if binary else _unified(body, "", target.display, "/dev/null", 0)
    preview = _preview(action, total, "edit", title, fields=(("file", target.display),),
                       diff=diff, full_diff=diff, body=body, notes=notes, danger=danger,
                       personal=personal)
    return FileAction(preview, [FileChange(target, state, None)], "deleted")


def prepare_move(action: MoveFile, total: int, env: ApplyEnv) -> Prepared:
    title = action.label()
    source, state = _target_state(env, action, action.path, must_exist=True)
    try:
        dest = env.resolve(action.to)
        dest_state = read_state(dest.path, keep_data=False)
    except ConsiliumError as exc:
        raise _CannotApply(exc.message) from exc
    if dest_state.exists:
        raise _CannotApply(f"{dest.display} already exists; a move never overwrites a file")
    danger, personal = _escape_notes([source, dest])
    preview = _preview(action, total, "edit", title,
                       fields=(("from", source.display), ("to", dest.display)),
                       notes=("the content is unchanged; the file keeps its mode",),
                       danger=danger, personal=personal)
    return FileAction(preview, [FileChange(dest, dest_state, state.data, state.mode),
                                FileChange(source, state, None)], "moved")


# -- commands -----------------------------------------------------------------------------

class RunAction(Prepared):
    def __init__(self, preview: Preview, action: RunCommand, cwd: Path,
                 child_env: dict[str, str], timeout_s: float) -> None:
        self.preview = preview
        self.action = action
        self.cwd = cwd
        self.child_env = child_env
        self.timeout_s = timeout_s

    def apply(self, env: ApplyEnv) -> ApplyGen:
        from consilium_cli.tools.shell import Exited, Output, run_command

        a = self.action
        exited: Exited | None = None
        with env.journal.step(a.index, a.kind, self.preview.title, undoable=False,
                              argv=list(a.argv), command=a.command, pipeline=a.pipeline,
                              cwd=str(self.cwd)) as end:
            for event in run_command(None if a.pipeline else a.argv, cwd=self.cwd,
                                     timeout_s=self.timeout_s, env=self.child_env,
                                     command=a.command if a.pipeline else None):
                if isinstance(event, Output):
                    yield ActionOutput(a.index, event.stream, event.text)
                elif isinstance(event, Exited):
                    exited = event
            assert exited is not None
            ok = exited.code == 0 and not exited.timed_out
            if exited.timed_out:
                message = f"timed out after {self.timeout_s:g} s and was stopped"
            else:
                message = f"exit code {exited.code}"
            if exited.detached:
                message += ("; a background process it started kept the output open, "
                            "so the output may be incomplete")
            end.update(ok=ok, error="" if ok else message, exit_code=exited.code,
                       timed_out=exited.timed_out, detached=exited.detached)
        return ActionResult(a.index, ok or (a.allow_failure and not exited.timed_out),
                            message, exited.output, exit_code=exited.code)


def prepare_run(action: RunCommand, total: int, env: ApplyEnv) -> Prepared:
    from consilium_cli.tools.shell import scrub_env

    shown = action.command if action.pipeline else shlex.join(action.argv)
    title = f"run {shown}"
    try:
        cwd = env.resolve(action.cwd) if action.cwd not in ("", ".") else \
            Target(".", env.root.resolve(), ".")
    except PathRefused as exc:
        return _failed(action, total, title, exc.message, "change")
    if not cwd.path.is_dir():
        return _failed(action, total, title, f"the working directory {cwd.display} does not "
                       "exist", "change")
    if action.pipeline and not env.allow_pipelines:
        return _failed(action, total, title,
                       "this action needs a shell pipeline, and shell pipelines are off",
                       "change")
    child_env, dropped = scrub_env(env.env, secret_values=env.secret_values)
    timeout = float(action.timeout_s or env.default_timeout_s)
    fields = [("argv", json.dumps(list(action.argv), ensure_ascii=False))
              if not action.pipeline else ("shell", action.command),
              ("cwd", str(cwd.path)), ("timeout", f"{timeout:g} s")]
    notes = []
    if dropped:
        notes.append("not passed to the command: " + ", ".join(dropped))
    if action.allow_failure:
        notes.append("a non-zero exit does not stop the plan")
    danger = []
    if action.pipeline:
        danger.append("RUNS THROUGH THE SHELL: pipes, redirections, globbing and variable "
                      "expansion apply")
    escape_danger, personal = _escape_notes([cwd])
    preview = _preview(action, total, "change", title, fields=tuple(fields),
                       undoable=False, irreversible=NOT_UNDOABLE_RUN, notes=tuple(notes),
                       danger=(*danger, *escape_danger), personal=personal)
    return RunAction(preview, action, cwd.path, child_env, timeout)


# -- git ----------------------------------------------------------------------------------

class GitAction(Prepared):
    def __init__(self, preview: Preview, action: GitOp) -> None:
        self.preview = preview
        self.action = action

    def apply(self, env: ApplyEnv) -> ApplyGen:
        from consilium_cli.tools.git import GitRepo

        a = self.action
        repo = GitRepo(env.root)
        if a.read_only:
            output = repo.execute(a.op, a.args)
            return self._done(f"git {a.op}", output=output)
        if a.op == "push":
            with env.journal.step(a.index, a.kind, self.preview.title, undoable=False,
                                  op=a.op, args=a.args):
                output = repo.execute(a.op, a.args)
            return self._done(f"git {a.op}", output=output)
        paths = repo.files_changed_by(a.op, a.args)
        targets = [env.resolve(p) for p in paths]
        befores = [_store_before(env, t.display, read_state(t.path)) for t in targets]
        state = repo.capture(a.op, a.args)
        if repo.index_changed_by(a.op):
            index = repo.index_path()
            state.index_object = env.journal.journal.put_object(index.read_bytes()) \
                if index.exists() else None

        def left() -> dict[str, Any]:
            return {"files": _states_left(targets), "git": repo.capture(a.op, a.args).to_json()}

        with env.journal.step(a.index, a.kind, self.preview.title, undoable=True, left=left,
                              op=a.op, args=a.args, files=befores, git=state.to_json()):
            output = repo.execute(a.op, a.args)
        return self._done(f"git {a.op}", output=output)
        yield  # pragma: no cover - makes this a generator


def prepare_git(action: GitOp, total: int, env: ApplyEnv) -> Prepared:
    from consilium_cli.tools.git import GitRepo

    title = f"git {action.op}"
    category: Category = "read" if action.read_only else "change"
    if not (env.root / ".git").exists():
        return _failed(action, total, title, f"{env.root} is not a git repository", category)
    for given in action.args.get("paths", ()):
        try:
            target = env.resolve(given)
        except PathRefused as exc:
            return _failed(action, total, title, exc.message, category)
        if target.escape:
            return _failed(action, total, title, f"{given}: {target.escape}", category)
    try:
        info = GitRepo(env.root).preview(action.op, action.args)
    except UsageError as exc:
        return _failed(action, total, title, exc.message, category)
    fields = [("op", action.op), ("what", info.summary)]
    if info.touches:
        fields.append(("touches", ", ".join(info.touches)))
    fields += [("", d) for d in info.details]
    danger = ("RUNS THE REPOSITORY'S HOOKS (programs from the repository)",) \
        if info.runs_hooks else ()
    preview = _preview(action, total, category, title, fields=tuple(fields),
                       undoable=info.undoable,
                       irreversible="" if info.undoable else NOT_UNDOABLE_PUSH,
                       warnings=info.warnings, danger=danger, error=info.error)
    return GitAction(preview, action)


# -- databases -------------------------------------------------------------------------------

class DbAction(Prepared):
    def __init__(self, preview: Preview, action: DbQuery, target: Any, writes: bool) -> None:
        self.preview = preview
        self.action = action
        self.target = target
        self.writes = writes

    def apply(self, env: ApplyEnv) -> ApplyGen:
        from consilium_cli.tools.db import backup_sqlite, run_query, sqlite_digest

        a = self.action
        if not self.writes:
            result = run_query(self.target, a.sql, a.params, read_only=True)
            return self._done(f"{len(result.rows)} row(s)", data=result)
        if self.target.engine != "sqlite":
            with env.journal.step(a.index, a.kind, self.preview.title, undoable=False,
                                  db={"engine": "postgresql", "url": self.target.display,
                                      "sql": a.sql, "params": list(a.params)}) as end:
                result = run_query(self.target, a.sql, a.params, read_only=False)
                end["rowcount"] = result.rowcount
            return self._done(f"{result.rowcount} row(s) affected", data=result)
        path = self.target.file.path
        display = self.target.file.display
        key = str(path)
        db: dict[str, Any] = {"engine": "sqlite", "path": display, "sql": a.sql,
                              "params": list(a.params), "existed": path.exists()}
        if key not in env.sqlite_backups:
            env.sqlite_backups[key] = env.journal.journal.put_object(backup_sqlite(path)) \
                if path.exists() else ""
        db["backup"] = env.sqlite_backups[key]
        db["digest_before"] = sqlite_digest(path)
        # With no WAL or hot journal beside it the file alone is the database: journal it
        # as a file too, so undo puts it back byte for byte, in order with file actions.
        whole = not _sqlite_sidecars(path)
        files = [_store_before(env, display, read_state(path))] if whole else []

        def left() -> dict[str, Any]:
            state: dict[str, Any] = {"db": {"digest_after": sqlite_digest(path)}}
            if whole:
                state["files"] = _states_left([self.target.file])
            return state

        with env.journal.step(a.index, a.kind, self.preview.title, undoable=True, left=left,
                              db=db, files=files) as end:
            result = run_query(self.target, a.sql, a.params, read_only=False)
            end["rowcount"] = result.rowcount
        return self._done(f"{result.rowcount} row(s) affected", data=result)
        yield  # pragma: no cover - makes this a generator


def _remote_database(url: str) -> bool:
    """A PostgreSQL URL whose host is not this machine (no host or a socket is local)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return False
    host = (parts.hostname or "").lower()
    return bool(host) and host not in ("localhost", "127.0.0.1", "::1") \
        and not host.startswith("/")


def _sqlite_sidecars(path: Path) -> list[Path]:
    return [p for p in (path.with_name(path.name + "-wal"),
                        path.with_name(path.name + "-journal")) if p.exists()]


def prepare_db(action: DbQuery, total: int, env: ApplyEnv) -> Prepared:
    from consilium_cli.tools.db import mask_url, parse_db_url, sql_writes

    writes = sql_writes(action.sql)
    # A query to another machine sends your database credentials and can send data there:
    # no read-only policy covers it.
    remote = _remote_database(action.url)
    category: Category = "change" if writes or remote else "read"
    title = ("write to " if writes else "query ") + mask_url(action.url)
    try:
        target = parse_db_url(action.url, env.root)
    except ConsiliumError as exc:
        return _failed(action, total, title, exc.message, category)
    if target.engine == "sqlite" and target.file is not None and not writes and \
            not target.file.path.is_file():
        return _failed(action, total, title, f"no SQLite database at {target.file.display}",
                       category)
    fields = [("database", target.display), ("sql", action.sql),
              ("params", json.dumps(list(action.params), ensure_ascii=False)),
              ("writes", "yes" if writes else "no (runs read-only)")]
    notes = []
    if remote:
        notes.append("connects to another machine with your database credentials; only "
                     "--approve all or your yes runs it")
    if writes and target.engine == "sqlite":
        notes.append("a backup of the database is taken before the first write (undo)")
    danger, personal = _escape_notes([target.file] if target.file else [])
    pg_write = writes and target.engine == "postgresql"
    preview = _preview(action, total, category, title, fields=tuple(fields),
                       undoable=not pg_write, irreversible=NOT_UNDOABLE_PG if pg_write else "",
                       notes=tuple(notes), danger=danger, personal=personal)
    return DbAction(preview, action, target, writes)


# -- read-only helpers ------------------------------------------------------------------------

class SearchAction(Prepared):
    def __init__(self, preview: Preview, action: Search) -> None:
        self.preview = preview
        self.action = action

    def apply(self, env: ApplyEnv) -> ApplyGen:
        from consilium_cli.tools.search import search

        a = self.action
        result = search(env.root, a.pattern, regex=a.regex, glob=a.glob,
                        max_results=a.max_results)
        more = " (more not shown)" if result.truncated else ""
        return self._done(f"{len(result.hits)} match(es) in {result.files_searched} file(s)"
                          f"{more}", data=result)
        yield  # pragma: no cover - makes this a generator


class SysInfoAction(Prepared):
    def __init__(self, preview: Preview) -> None:
        self.preview = preview

    def apply(self, env: ApplyEnv) -> ApplyGen:
        from consilium_cli.tools.sysinfo import system_info

        return self._done("system facts", data=system_info(env.root))
        yield  # pragma: no cover - makes this a generator


def prepare_search(action: Search, total: int, env: ApplyEnv) -> Prepared:
    from consilium_cli.tools.search import compile_pattern

    title = f"search {'regex' if action.regex else 'text'} {action.pattern!r}"
    try:
        compile_pattern(action.pattern, action.regex)
    except UsageError as exc:
        return _failed(action, total, title, exc.message, "read")
    fields = [("pattern", action.pattern), ("regex", "yes" if action.regex else "no")]
    if action.glob:
        fields.append(("files", action.glob))
    return SearchAction(_preview(action, total, "read", title, fields=tuple(fields)), action)


def prepare(action: Action, total: int, env: ApplyEnv) -> Prepared:
    """The preview of `action` against the tree as it is now (with `error` when it
    cannot be applied), ready to apply."""
    try:
        if isinstance(action, EditFile):
            return prepare_edit(action, total, env)
        if isinstance(action, WriteFile):
            return prepare_write(action, total, env)
        if isinstance(action, DeleteFile):
            return prepare_delete(action, total, env)
        if isinstance(action, MoveFile):
            return prepare_move(action, total, env)
    except _CannotApply as exc:
        return _failed(action, total, action.label(), str(exc))
    if isinstance(action, RunCommand):
        return prepare_run(action, total, env)
    if isinstance(action, GitOp):
        return prepare_git(action, total, env)
    if isinstance(action, DbQuery):
        return prepare_db(action, total, env)
    if isinstance(action, Search):
        return prepare_search(action, total, env)
    if isinstance(action, SysInfo):
        return SysInfoAction(_preview(action, total, "read", "show system facts"))
    raise UsageError(f"unknown action kind {action.kind!r}")
