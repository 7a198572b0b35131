"""Where consilium keeps its files (platformdirs: XDG on Linux, AppData on Windows)."""

from __future__ import annotations

import os
from pathlib import Path


def user_data_dir() -> Path:
    """History, the user model registry and the default knowledge index."""
    override = os.environ.get("CONSILIUM_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("consilium", appauthor=False))


def history_db_path() -> Path:
    return user_data_dir() / "history.sqlite3"
