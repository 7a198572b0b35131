"""Undo one journal session: put back what it changed, and nothing else.

For every file, git ref, HEAD, the index and every SQLite database the session changed,
the target is its state before the session's first change and the expected current state
is what the session's last change left (for a step a kill interrupted: its prior state or
its intended one). Anything that differs from both was changed by someone else since: undo
lists it and refuses, unless forced. Something already back in its prior state is skipped,
so an undo that was itself interrupted can be run again.

Folders a file write made are removed last, deepest first, and only while empty: one that
holds anything else (or is no longer a plain folder) is kept and reported. A step's begin
record names the folders it was about to make, so those of a step a kill interrupted are
known too.

The journal is a folder in the repository, so its records are not trusted further than
apply itself: a path that apply would refuse (inside `.git/`, consilium's own files) is
refused here too. A repository can also ship a whole crafted session (`git add -f` gets past
the folder's `.gitignore`), so `check_provenance` accepts only a session the user's own
history records as an apply session made in this repository, and the plan lists everything
outside the repository (`UndoPlan.outside`) for the caller to have a person approve.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consilium_cli.errors import UsageError
from consilium_cli.tools.files import (
    PathRefused,
    Target,
    read_state,
    remove_file,
    resolve_target,
    write_bytes,
)
from consilium_cli.tools.journal import Journal, SessionLog, Step

if TYPE_CHECKING:
    from consilium_cli.history import History


class UndoConflict(UsageError):
    """Something the session changed has been changed again since."""


class UntrustedSession(UsageError):
    """The journal names a session this machine's consilium apply did not make here."""


def provenance_problem(history: History, root: Path, log: SessionLog) -> str:
    """Why history does not vouch for a session as an apply session made in `root` ("" when
    it does).

    apply journals under its history session's id, so a session in the journal that
    history does not know came from elsewhere: most likely with the repository itself."""
    origin = history.session_origin(log.id)
    if origin is None:
        return "the local history has no session with this id"
    if origin[0] != "apply":
        return f"the local history records it as a `consilium {origin[0]}` session"
    if Path(origin[1]).resolve() != root.resolve():
        return f"it was made in {origin[1]}, not in this repository ({root})"
    return ""


def check_provenance(history: History, root: Path, log: SessionLog) -> None:
    """Refuse a session unless history records it as an apply session made in `root`."""
    why = provenance_problem(history, root, log)
    if why:
        raise UntrustedSession(
            f"refusing to undo session {log.id}: this session was not made by consilium "
            f"apply on this machine (its journal came with the repository?): {why}",
            hint=f"check it with `consilium journal show {log.id}`; only if you made it "
                 f"yourself: consilium undo {log.id} --trust-journal")


@dataclass
class Restore:
    kind: str
    name: str
    description: str
    before: dict[str, Any]
    conflict: str = ""


@dataclass
class UndoPlan:
    session: SessionLog
    restores: list[Restore] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    irreversible: list[str] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)
    kept_dirs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    """What undo would write or remove outside the repository: files and databases it
    would restore, folders it would remove."""

    @property
    def conflicts(self) -> list[Restore]:
        return [r for r in self.restores if r.conflict]

    def refuse_conflicts(self) -> None:
        """Raise UndoConflict, naming each conflict, when there is any."""
        if self.conflicts:
            listing = "; ".join(f"{r.name} ({r.conflict})" for r in self.conflicts)
            raise UndoConflict(f"refusing to undo session {self.session.id}: changed since "
                               f"it ran: {listing}",
                               hint=f"consilium undo {self.session.id} --force")

    def to_json(self) -> dict[str, Any]:
        return {"session": self.session.id,
                "restores": [{"kind": r.kind, "name": r.name, "description": r.description,
                              "conflict": r.conflict} for r in self.restores],
                "already": self.already, "irreversible": self.irreversible,
                "remove_dirs": self.created_dirs, "kept_dirs": self.kept_dirs,
                "outside": self.outside}


def _key(state: dict[str, Any] | None) -> tuple[bool, str] | None:
    if state is None:
        return None
    return bool(state.get("exists")), str(state.get("sha256", "")) if state.get("exists") else ""


def _target(root: Path, display: str) -> Target:
    """The file a journal path names; one apply would refuse is refused."""
    try:
        return resolve_target(root, display)
    except PathRefused as exc:
        raise UsageError(f"the journal names a path consilium never writes: {exc.message}",
                         hint="consilium journal show SESSION") from exc


def _path(root: Path, display: str) -> Path:
    return _target(root, display).path


def _by_path(items: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {item["path"]: item for item in items or []}


@dataclass
class _Track:
    """First prior state and the acceptable current states of one thing."""

    first: Any
    accept: list[Any]
    uncertain: bool = False


def _track(tracks: dict[str, _Track], name: str, before: Any, after: list[Any],
           uncertain: bool = False) -> None:
    if name not in tracks:
        tracks[name] = _Track(before, after, uncertain)
    else:
        tracks[name].accept = after
        tracks[name].uncertain = uncertain


def _file_tracks(log: SessionLog) -> dict[str, _Track]:
    tracks: dict[str, _Track] = {}
    for step in log.steps:
        befores = _by_path(step.begin.get("files"))
        if not befores:
            continue
        afters = _by_path(step.end.get("files")) if step.end else {}
        intended = _by_path(step.begin.get("intended"))
        for name, before in befores.items():
            if step.finished and name in afters:
                accept = [_key(afters[name])]
                uncertain = False
            else:
                accept = [_key(before)] + ([_key(intended[name])] if name in intended else [])
                uncertain = name not in intended
            _track(tracks, name, before, accept, uncertain)
    return tracks


def _git_steps(log: SessionLog) -> list[Step]:
    return [s for s in log.steps if s.undoable and "git" in s.begin]


def plan_undo(journal: Journal, log: SessionLog) -> UndoPlan:
    """What undoing the session would restore, and what changed since (conflicts)."""
    if log.undone:
        raise UsageError(f"session {log.id} was already undone",
                         hint="consilium journal list")
    plan = UndoPlan(log)
    root = journal.root
    for step in log.steps:
        if not step.undoable:
            plan.irreversible.append(step.label)
        plan.created_dirs += _made_dirs(step)
    for name, track in _file_tracks(log).items():
        target = _target(root, name)
        now = _key(read_state(target.path, keep_data=False).to_json())
        first = _key(track.first)
        if now == first:
            plan.already.append(name)
            continue
        what = ("restore" if track.first.get("exists") else "remove") + f" {name}"
        if target.escape:
            what += " (outside the repository)"
            plan.outside.append(name)
        conflict = ""
        if target.escape and not Path(name).is_absolute():
            # written inside the repository; a symbolic link made since leads out of it
            conflict = f"it now leads outside the repository ({target.escape})"
        elif now not in track.accept or track.uncertain:
            conflict = ("changed since consilium wrote it" if not track.uncertain else
                        "an interrupted git operation left it in an unknown state")
        plan.restores.append(Restore("file", name, what, track.first, conflict))
    if _git_steps(log):
        _plan_git(journal, log, plan)
    _plan_sqlite(journal, log, plan)
    plan.created_dirs = _dirs_to_remove(root, plan.created_dirs)
    plan.outside += [n for n in plan.created_dirs if _target(root, n).escape]
    return plan


def _made_dirs(step: Step) -> list[str]:
    """The folders a step made: those its end record names, or for a step a kill
    interrupted (or whose end could not tell) those its begin record was about to make."""
    if step.end is not None and "created_dirs" in step.end:
        return list(step.end["created_dirs"])
    return list(step.begin.get("new_dirs", []))


def _dir_path(root: Path, name: str) -> Path:
    """The folder a journal names, as named (links not followed); one apply would refuse
    is refused."""
    _target(root, name)
    return Path(name) if Path(name).is_absolute() else root / name


def _dirs_to_remove(root: Path, names: list[str]) -> list[str]:
    """The named folders that are still there, deepest first."""
    there = [n for n in dict.fromkeys(names) if os.path.lexists(_dir_path(root, n))]
    return sorted(there, key=lambda n: len(_dir_path(root, n).parts), reverse=True)


def _remove_dir(path: Path) -> str:
    """Remove a folder consilium made if it is empty; otherwise say why it stays."""
    try:
        if path.is_symlink() or not path.is_dir() or path.resolve() != path:
            return "it is no longer the folder consilium made"
        if any(path.iterdir()):
            return "it holds files consilium did not write"
        path.rmdir()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"it could not be removed: {exc.strerror or exc}"
    return ""


def _plan_git(journal: Journal, log: SessionLog, plan: UndoPlan) -> None:
    from consilium_cli.tools.git import GitRepo

    repo = GitRepo(journal.root)
    refs: dict[str, _Track] = {}
    heads: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    index: _Track | None = None
    for step in _git_steps(log):
        before = step.begin["git"]
        after = step.end.get("git") if step.end else None
        for ref, sha in before.get("refs", {}).items():
            _track(refs, ref, sha, [after["refs"].get(ref)] if after else [sha],
                   uncertain=after is None)
        heads.append((before["head"], after["head"] if after else None))
        if before.get("index_digest"):
            accept = [after["index_digest"]] if after else [before["index_digest"]]
            if index is None:
                index = _Track(before, accept, after is None)
            else:
                index.accept, index.uncertain = accept, after is None
    for ref, track in refs.items():
        now = repo.rev(ref)
        if now == track.first:
            plan.already.append(ref)
            continue
        conflict = "" if now in track.accept and not track.uncertain else \
            f"now at {(now or 'nothing')[:12]}, not where consilium left it"
        if ref == "refs/stash":
            plan.restores.append(Restore("stash", ref, "drop the stash consilium made",
                                         {"sha": track.accept[0]}, conflict))
        else:
            what = f"move {ref} back to {track.first[:12]}" if track.first else \
                f"delete {ref} (consilium created it)"
            plan.restores.append(Restore("ref", ref, what, {"sha": track.first, "now": now},
                                         conflict))
    first_head, last_head = heads[0][0], heads[-1][1]
    now_head = repo.head()
    if now_head.branch != first_head.get("branch") or (
            not first_head.get("branch") and now_head.sha != first_head.get("sha")):
        expected = last_head or first_head
        conflict = "" if last_head is not None and now_head.branch == expected.get("branch") \
            else "HEAD has moved since"
        plan.restores.append(Restore(
            "head", "HEAD", f"put HEAD back on {first_head.get('branch') or first_head['sha']}",
            first_head, conflict))
    if index is not None:
        now_digest = repo.index_digest()
        if now_digest == index.first["index_digest"]:
            plan.already.append("index")
        else:
            conflict = "" if now_digest in index.accept and not index.uncertain else \
                "the staging area changed since"
            plan.restores.append(Restore("index", "index", "restore the staging area (index)",
                                         index.first, conflict))


def _plan_sqlite(journal: Journal, log: SessionLog, plan: UndoPlan) -> None:
    from consilium_cli.tools.db import sqlite_digest

    dbs: dict[str, _Track] = {}
    for step in log.steps:
        db = step.begin.get("db") or {}
        if not step.undoable or db.get("engine") != "sqlite" or step.begin.get("files"):
            continue  # a database journaled as a whole file is restored as a file
        after = (step.end or {}).get("db", {}).get("digest_after")
        accept = [after] if after is not None else [db.get("digest_before", ""), None]
        _track(dbs, db["path"], db, accept, uncertain=after is None)
    for name, track in dbs.items():
        now = sqlite_digest(_path(journal.root, name))
        if now == track.first.get("digest_before"):
            plan.already.append(name)
            continue
        conflict = "" if now in track.accept and not track.uncertain else \
            "the database changed since consilium wrote to it"
        what = f"restore the database {name} from its backup" if track.first.get("existed") \
            else f"remove the database {name} (consilium created it)"
        if _target(journal.root, name).escape:
            what += " (outside the repository)"
            plan.outside.append(name)
        plan.restores.append(Restore("sqlite", name, what, track.first, conflict))


def run_undo(journal: Journal, plan: UndoPlan, *, force: bool = False) -> list[str]:
    """Carry out the undo plan; refuse on conflicts unless forced. Returns what was done."""
    if not force:
        plan.refuse_conflicts()
    writer = journal.writer(plan.session.id)
    writer.append({"t": "undo-begin", "force": force, "restores": len(plan.restores)})
    done: list[str] = []
    root = journal.root
    order = {"stash": 0, "ref": 1, "head": 2, "index": 3, "file": 4, "sqlite": 5}
    repo = None
    for item in sorted(plan.restores, key=lambda r: order[r.kind]):
        if item.kind in ("stash", "ref", "head", "index") and repo is None:
            from consilium_cli.tools.git import GitRepo

            repo = GitRepo(root)
        try:
            _restore(journal, item, repo)
        except OSError as exc:
            raise UsageError(f"could not {item.description}: {exc.strerror or exc}",
                             hint=f"consilium undo {plan.session.id}") from exc
        done.append(item.description)
    for name in plan.created_dirs:
        reason = _remove_dir(_dir_path(root, name))
        if reason:
            plan.kept_dirs.append(f"{name} ({reason})")
        else:
            done.append(f"remove the folder {name} (consilium made it)")
    writer.append({"t": "undone", "force": force, "done": done})
    return done


def _restore(journal: Journal, item: Restore, repo: Any) -> None:
    root = journal.root
    if item.kind == "file":
        path = _path(root, item.name)
        before = item.before
        if before.get("exists"):
            write_bytes(path, journal.get_object(before["object"]), before.get("mode"))
        elif path.exists():
            remove_file(path)
    elif item.kind == "stash":
        repo.drop_stash(item.before["sha"])
    elif item.kind == "ref":
        repo.set_ref(item.name, item.before["sha"], repo.rev(item.name))
    elif item.kind == "head":
        from consilium_cli.tools.git import HeadState

        repo.set_head(HeadState(item.before.get("branch"), item.before.get("sha")))
    elif item.kind == "index":
        index = repo.index_path()
        obj = item.before.get("index_object")
        if obj:
            write_bytes(index, journal.get_object(obj))
        elif index.exists():
            remove_file(index)
    elif item.kind == "sqlite":
        from consilium_cli.tools.db import restore_sqlite

        path = _path(root, item.name)
        if item.before.get("existed") and item.before.get("backup"):
            restore_sqlite(path, journal.get_object(item.before["backup"]))
        elif path.exists():
            remove_file(path)
