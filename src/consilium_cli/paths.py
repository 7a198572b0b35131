"""Where consilium keeps its files (platformdirs: XDG on Linux, AppData on Windows)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """History, the user model registry and the default knowledge index (`env`: the
    environment to read CONSILIUM_HOME from; the process's by default)."""
    override = (os.environ if env is None else env).get("CONSILIUM_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("consilium", appauthor=False))


def history_db_path(env: Mapping[str, str] | None = None) -> Path:
    return user_data_dir(env) / "history.sqlite3"
