"""PostgreSQL and push through `apply`: shown as not undoable before approval, left alone
by undo, and reported by it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from consilium_cli.tools.db import parse_db_url, run_query
from tests.support.apply_repo import make_scratch_repo, write_plan
from tests.support.cli import invoke
from tests.support.postgres import postgres_url  # noqa: F401  (fixture)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_scratch_repo(tmp_path / "scratch")
    monkeypatch.chdir(repo.path)
    return repo.path


@pytest.mark.postgres
def test_postgres_write_is_marked_and_not_undone(scratch: Path, tmp_path: Path,
                                                 postgres_url: str) -> None:  # noqa: F811
    target = parse_db_url(postgres_url, scratch)
    run_query(target, "DROP TABLE IF EXISTS apply_t", [], read_only=False)
    run_query(target, "CREATE TABLE apply_t (id int, name text)", [], read_only=False)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "db_query", "url": postgres_url, "sql": "INSERT INTO apply_t VALUES (%s, %s)",
         "params": [1, "a"]},
        {"kind": "db_query", "url": postgres_url, "sql": "SELECT name FROM apply_t"},
        {"kind": "write_file", "path": "x.txt", "content": "x\n"}])
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "NOT UNDOABLE: PostgreSQL changes cannot be undone" in result.stdout
    assert "writes: no (runs read-only)" in result.stdout
    undo = invoke("undo", "--yes")
    assert undo.exit_code == 0
    assert "cannot be undone (not reverted): write to postgresql" in undo.stdout
    assert not (scratch / "x.txt").exists()
    assert run_query(target, "SELECT count(*) FROM apply_t", [], read_only=True).rows == ((1,),)


@pytest.mark.postgres
def test_a_query_that_writes_is_stopped_by_the_server(scratch: Path, tmp_path: Path,
                                                      postgres_url: str) -> None:  # noqa: F811
    target = parse_db_url(postgres_url, scratch)
    run_query(target, "DROP SEQUENCE IF EXISTS apply_seq", [], read_only=False)
    run_query(target, "CREATE SEQUENCE apply_seq", [], read_only=False)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "db_query", "url": postgres_url, "sql": "SELECT nextval('apply_seq')"}])
    result = invoke("apply", "--plan", str(plan), "--approve", "read-only")
    assert result.exit_code == 1, result.stdout
    assert "read-only transaction" in result.stdout
    assert run_query(target, "SELECT is_called FROM apply_seq", [],
                     read_only=True).rows == ((False,),)


@pytest.mark.postgres
def test_two_statements_are_a_write_and_refused_by_the_server(
        scratch: Path, tmp_path: Path, postgres_url: str) -> None:  # noqa: F811
    target = parse_db_url(postgres_url, scratch)
    run_query(target, "DROP TABLE IF EXISTS apply_ro", [], read_only=False)
    run_query(target, "CREATE TABLE apply_ro (id int)", [], read_only=False)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "db_query", "url": postgres_url,
         "sql": "SELECT * FROM apply_ro; DROP TABLE apply_ro"}])
    declined = invoke("apply", "--plan", str(plan), "--approve", "read-only")
    assert declined.exit_code == 5 and "writes: yes" in declined.stdout
    failed = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert failed.exit_code == 1 and "multiple commands" in failed.stdout
    assert run_query(target, "SELECT count(*) FROM apply_ro", [], read_only=True).rows == ((0,),)


def test_push_is_marked_not_undoable(scratch: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=scratch, check=True)
    plan = write_plan(tmp_path / "plan.json", [
        {"kind": "git", "op": "push", "args": {"remote": "origin", "branch": "main"}}])
    result = invoke("apply", "--plan", str(plan), "--approve", "all")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "NOT UNDOABLE: a push cannot be undone" in result.stdout
    pushed = subprocess.run(["git", "rev-parse", "main"], cwd=remote, capture_output=True,
                            text=True, check=True).stdout.strip()
    assert pushed == subprocess.run(["git", "rev-parse", "HEAD"], cwd=scratch,
                                    capture_output=True, text=True, check=True).stdout.strip()
    assert invoke("journal", "list").exit_code == 0
