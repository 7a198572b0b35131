"""`consilium kb ...` end to end: the real LanceDB under an isolated home, the shipped
knowledge, and the tiny random-weight GGUF as the embedding model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.kb_docs import knowledge, write


@pytest.fixture(autouse=True)
def outside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No project config from the checkout; embeddings on one thread (shared cores)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONSILIUM_MODEL_THREADS", "1")


def run_json(*args: str) -> dict[str, object]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_validate_the_shipped_knowledge() -> None:
    result = invoke("kb", "validate")
    assert result.exit_code == 0, result.stdout
    assert "valid: 7 documents" in result.stdout


def test_validate_lists_each_problem_with_file_and_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "team-kb"
    bad = write(extra, "qa", "bad.md", knowledge(updated="2026-13-40", language="fr"))
    write(extra, "qa", "good.md", knowledge(id="qa/good"))
    monkeypatch.setenv("CONSILIUM_KB_PATHS", str(extra))
    result = invoke("kb", "validate")
    assert result.exit_code == 2
    assert f"{bad}:6: updated '2026-13-40' is not a real calendar date" in result.stdout
    assert f"{bad}:7: language 'fr' is not supported" in result.stdout
    assert "2 problem(s) in 1 file(s)" in result.stdout
    data = json.loads(invoke("kb", "validate", "--json").stdout)
    assert data["ok"] is False
    assert [(p["line"], p["file"]) for p in data["problems"]] == [(6, str(bad)),
                                                                  (7, str(bad))]
    indexed = invoke("kb", "index")
    assert indexed.exit_code == 2
    assert "nothing was indexed" in indexed.stderr


def test_index_then_search_in_both_languages() -> None:
    report = run_json("kb", "index")
    assert len(report["added"]) == report["passages"]  # type: ignore[arg-type]
    assert report["passages"] > 50  # type: ignore[operator]
    assert report["search"] == "full-text"
    assert "not downloaded" in str(report["embedding_note"])

    russian = run_json("kb", "search", "хранение паролей", "--role", "security")
    assert russian["mode"] == "full-text"
    ids = [p["id"] for p in russian["passages"]]  # type: ignore[index]
    assert ids and all(i.startswith("security/") for i in ids)
    assert "security/password_storage_ru#overview" in ids

    english = run_json("kb", "search", "password storage", "--role", "security", "-k", "2")
    first = english["passages"][0]  # type: ignore[index]
    assert first["id"] == "security/security_checklist#passwords"
    assert first["source_file"] == "kb/security/security_checklist.md"

    plain = invoke("kb", "search", "flaky tests", "-k", "1")
    assert plain.exit_code == 0
    assert "1. [kb:qa/testing_strategy#flaky]  Flaky tests" in plain.stdout
    assert "full-text search only" in plain.stderr

    again = run_json("kb", "index", "--role", "qa")
    assert (again["added"], again["changed"], again["removed"]) == ([], [], [])


def test_search_without_an_index_says_how_to_build_it() -> None:
    result = invoke("kb", "search", "anything")
    assert result.exit_code == 2
    assert "no knowledge index" in result.stderr
    assert "consilium kb index" in result.stderr


def test_unknown_role_is_a_usage_error() -> None:
    result = invoke("kb", "index", "--role", "devops")
    assert result.exit_code == 2
    assert "unknown role 'devops'" in result.stderr


def test_stats_and_doctor_say_full_text_only() -> None:
    missing = run_json("kb", "stats")
    assert (missing["indexed"], missing["search"]) == (False, "missing")
    invoke("kb", "index")
    stats = run_json("kb", "stats")
    assert stats["search"] == "full-text"
    assert stats["passages"] > 50  # type: ignore[operator]
    assert str(stats["note"]).startswith("full-text search only: the embedding model")
    assert stats["hint"] == "consilium models pull embedding"
    plain = invoke("kb", "stats")
    assert "full-text search only" in plain.stdout
    doctor = json.loads(invoke("doctor", "--json").stdout)
    [knowledge_check] = [c for c in doctor if c["name"] == "knowledge"]
    assert knowledge_check["status"] == "warn"
    assert "full-text search only" in knowledge_check["detail"]


def test_add_validates_copies_and_indexes(tmp_path: Path, isolated_home: Path) -> None:
    good = tmp_path / "retries.md"
    good.write_text(knowledge("## Retries {#retries}\n\nRetry idempotent calls with "
                              "jittered backoff.\n", id="dev/retries", role="dev",
                              tags="[retries, повторы]"), encoding="utf-8")
    added = run_json("kb", "add", str(good), "--role", "dev")
    target = isolated_home / "data" / "consilium" / "knowledge" / "dev" / "retries.md"
    assert added["added_file"] == str(target)
    assert target.read_text(encoding="utf-8") == good.read_text(encoding="utf-8")
    found = run_json("kb", "search", "jittered backoff", "--role", "dev", "-k", "1")
    assert found["passages"][0]["id"] == "dev/retries#retries"  # type: ignore[index]
    assert found["passages"][0]["source_file"] == str(target)  # type: ignore[index]

    wrong_role = invoke("kb", "add", str(good), "--role", "qa")
    assert wrong_role.exit_code == 2
    assert "does not match the folder 'qa'" in wrong_role.stderr

    clash = tmp_path / "clash.md"
    clash.write_text(knowledge(id="security/security_checklist", role="security"),
                     encoding="utf-8")
    refused = invoke("kb", "add", str(clash), "--role", "security")
    assert refused.exit_code == 2
    assert "already used by" in refused.stderr
    assert not (target.parent.parent / "security" / "clash.md").exists()


def test_an_embedding_model_makes_search_hybrid(tiny_gguf: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSILIUM_KB_EMBEDDING_MODEL", str(tiny_gguf))
    report = run_json("kb", "index")
    assert report["search"] == "hybrid"
    assert report["embedding_model"] == "random-qwen2"
    assert report["embedded"] == report["passages"]
    result = run_json("kb", "search", "хранение паролей", "--role", "security")
    assert result["mode"] == "hybrid"
    assert all(p["role"] == "security" for p in result["passages"])  # type: ignore[union-attr]
    stats = run_json("kb", "stats")
    assert (stats["search"], stats["embedding_model"]) == ("hybrid", "random-qwen2")


def test_a_named_embedding_model_that_is_missing_exits_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSILIUM_KB_EMBEDDING_MODEL", str(tmp_path / "missing.gguf"))
    result = invoke("kb", "index")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr
