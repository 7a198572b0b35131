"""The shape of undo journal records.

A journal is a folder in the repository, so a session in it may have been shipped with the
repository, crafted or damaged. Each record is checked here, field by field, against what
`consilium apply` writes and undo reads, before anything reads it: a session that fails is
reported as damaged instead of crashing the command that met it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BadRecord(ValueError):
    """A journal record that is not what consilium writes; the message names the field."""


def when(value: Any) -> float:
    """A record's time stamp as seconds, 0.0 when it is not a finite number."""
    try:
        stamp = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return stamp if math.isfinite(stamp) else 0.0


def is_digest(value: Any) -> bool:
    """A sha256 in hex, as the journal names its objects."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def check_begin(rec: dict[str, Any]) -> None:
    """Raise BadRecord unless `rec` has the shape of a step's begin record."""
    _need(rec, "step", _is_int)
    _need(rec, "action", _is_int)
    _need(rec, "kind", _is_str)
    _may(rec, "label", _is_str)
    _may(rec, "files", _list_of(lambda item: _file_state(item, backup=True)))
    _may(rec, "intended", _list_of(lambda item: _file_state(item, backup=False)))
    _may(rec, "new_dirs", _list_of(_is_path))
    _may(rec, "git", _git_state)
    _may(rec, "db", _db_before)


def check_end(rec: dict[str, Any]) -> None:
    """Raise BadRecord unless `rec` has the shape of a step's end record."""
    _need(rec, "step", _is_int)
    _may(rec, "files", _list_of(lambda item: _file_state(item, backup=False)))
    _may(rec, "created_dirs", _list_of(_is_path))
    _may(rec, "git", _git_state)
    _may(rec, "db", lambda db: isinstance(db, dict))


def _need(rec: dict[str, Any], key: str, test: Callable[[Any], bool]) -> None:
    if key not in rec or not test(rec[key]):
        raise BadRecord(f"a {rec.get('t')} record with no valid {key!r}")


def _may(rec: dict[str, Any], key: str, test: Callable[[Any], bool]) -> None:
    if key in rec:
        _need(rec, key, test)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value


def _is_name(value: Any) -> bool:
    """A git ref or branch name that git cannot take for an option."""
    return _is_path(value) and not value.startswith("-")


def _list_of(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(test(item) for item in value)


def _file_state(item: Any, *, backup: bool) -> bool:
    """One path's state; a prior state (`backup`) of a file that existed names its copy."""
    if not isinstance(item, dict) or not _is_path(item.get("path")):
        return False
    mode = item.get("mode")
    if mode is not None and not (_is_int(mode) and 0 <= mode <= 0o7777):
        return False
    if not isinstance(item.get("sha256", ""), str):
        return False
    if backup and item.get("exists"):
        return is_digest(item.get("object"))
    return "object" not in item or is_digest(item["object"])


def _git_state(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    head, refs = value.get("head"), value.get("refs")
    return (isinstance(head, dict) and all(v is None or _is_name(v) for v in
                                           (head.get("branch"), head.get("sha")))
            and "sha" in head
            and isinstance(refs, dict)
            and all(_is_name(k) and (v is None or _is_name(v)) for k, v in refs.items())
            and (value.get("index_object") is None or is_digest(value["index_object"]))
            and isinstance(value.get("index_digest"), str))


def _db_before(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if value.get("engine") != "sqlite":
        return True  # only SQLite steps are undone; others are listed, never read further
    backup = value.get("backup", "")
    return _is_path(value.get("path")) and (backup == "" or is_digest(backup))
