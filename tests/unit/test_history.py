"""The history database: id prefixes and a database that cannot be opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.history import History
from tests.support.cli import invoke


def test_a_prefix_is_matched_literally(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        session = history.start_session("ask", "task")
        assert history.resolve_id(session[:4]) == session
        for wildcard in ("_", "%", "_" * 12):
            with pytest.raises(UsageError, match="no session"):
                history.resolve_id(wildcard)


def test_the_history_lives_where_the_given_environment_says(tmp_path: Path,
                                                             isolated_home: Path) -> None:
    with History(env={"CONSILIUM_HOME": str(tmp_path / "elsewhere")}) as history:
        history.start_session("ask", "task")
    assert (tmp_path / "elsewhere" / "history.sqlite3").is_file()
    assert not (isolated_home / "data" / "consilium" / "history.sqlite3").exists()


def test_a_damaged_database_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="cannot open the history database") as err:
        History(path)
    assert str(path) in err.value.hint


def test_history_list_reports_a_damaged_database(isolated_home: Path) -> None:
    path = isolated_home / "data" / "consilium" / "history.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all" * 100)
    result = invoke("history", "list")
    assert result.exit_code == 2
    assert "cannot open the history database" in result.stderr
