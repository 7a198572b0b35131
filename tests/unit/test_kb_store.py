"""The index in a real LanceDB in a temporary folder: full-text search in both languages,
and re-indexing that touches only what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.kb.indexer import IndexReport, collect, index_documents
from consilium_cli.kb.locations import Source
from consilium_cli.kb.retrieve import KnowledgeBase
from consilium_cli.kb.store import KBIndexError, Store, read_meta
from tests.support.kb_docs import FLAKY_QA, PASSWORDS_EN, sample_kb, write


def reindex(files: Path, index: Path, **kwargs: object) -> IndexReport:
    result = collect([Source(files, "kb", "settings")])
    assert result.problems == []
    return index_documents(index, result.documents, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    files, index = sample_kb(tmp_path / "files"), tmp_path / "index"
    report = reindex(files, index)
    assert report.rebuilt and report.rebuild_reason == "new index"
    return files, index


def ids(index: Path, query: str, role: str | None = None, k: int = 5) -> list[str]:
    result = KnowledgeBase(index).search(query, role=role, k=k)
    assert result.mode == "full-text"
    return [p.id for p in result.passages]


def test_first_index_writes_everything_and_its_metadata(indexed: tuple[Path, Path]) -> None:
    _files, index = indexed
    meta = read_meta(index)
    assert meta is not None
    assert (meta.passages, meta.documents) == (5, 3)
    assert meta.roles == {"qa": 2, "security": 3}
    assert meta.languages == {"en": 4, "ru": 1}
    assert meta.embedding is None
    assert meta.history_rows == 5


def test_english_search_uses_the_english_stemmer(indexed: tuple[Path, Path]) -> None:
    assert ids(indexed[1], "storing hashed passwords")[0] == "security/passwords#storage"


def test_russian_inflections_are_found_by_the_russian_stemmer(
        indexed: tuple[Path, Path]) -> None:
    # "паролям" appears nowhere; the text has "паролей" and "паролем".
    assert "security/paroli#storage" in ids(indexed[1], "паролям")
    assert ids(indexed[1], "хранить пароль", role="security")[0] == "security/paroli#storage"


def test_a_russian_query_finds_an_english_passage_through_its_tags(
        indexed: tuple[Path, Path]) -> None:
    found = ids(indexed[1], "хешированием")
    assert found and all(pid.startswith("security/passwords#") for pid in found)


def test_role_filter(indexed: tuple[Path, Path]) -> None:
    assert ids(indexed[1], "flaky tests", role="qa")[0] == "qa/flaky#flaky"
    assert ids(indexed[1], "flaky tests", role="security") == []


def test_passages_carry_what_a_citation_needs(indexed: tuple[Path, Path]) -> None:
    [passage] = KnowledgeBase(indexed[1]).search("quarantine", k=1).passages
    assert passage.id == "qa/flaky#flaky"
    assert passage.citation == "[kb:qa/flaky#flaky]"
    assert (passage.role, passage.title, passage.language) == ("qa", "Flaky tests", "en")
    assert passage.source_file == "kb/qa/flaky.md"
    assert passage.text.startswith("A test that fails intermittently")
    assert passage.score > 0


def test_odd_queries_do_not_break_the_search(indexed: tuple[Path, Path]) -> None:
    base = KnowledgeBase(indexed[1])
    for query in ['"unbalanced', "a:b OR (c", "[kb:x]", "*", "the"]:
        base.search(query, k=3)
    assert base.search("   ", k=3).passages == []


def test_unchanged_files_touch_nothing(indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    report = reindex(files, index)
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert report.unchanged == 5
    assert not report.rebuilt
    assert Store(index).history_count() == 5


def test_an_edit_rewrites_only_the_edited_passage(indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    store = Store(index)
    before = {pid: row["row_hash"] for pid, row in store.existing().items()}
    write(files, "qa", "flaky.md", FLAKY_QA.replace(
        "fix or quarantine it the same day", "quarantine it with an owner")
        .replace("version: 1", "version: 2"))
    report = reindex(files, index)
    assert report.changed == ["qa/flaky#flaky", "qa/flaky#fixtures"]
    assert report.unchanged == 3
    assert report.warnings == []
    after = {pid: row["row_hash"] for pid, row in Store(index).existing().items()}
    assert {pid for pid in before if before[pid] != after[pid]} == {
        "qa/flaky#flaky", "qa/flaky#fixtures"}
    history = Store(index).history("qa/flaky#flaky")
    assert [h["event"] for h in history] == ["added", "changed"]
    assert "fix or quarantine" in history[0]["text"]
    assert "with an owner" in history[1]["text"]
    assert [h["event"] for h in Store(index).history("qa/flaky#fixtures")] == [
        "added", "metadata"]
    assert ids(index, "owner", role="qa") == ["qa/flaky#flaky"]


def test_an_edit_without_a_version_bump_is_warned_about(indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    write(files, "qa", "flaky.md", FLAKY_QA.replace("same day", "same week"))
    report = reindex(files, index)
    assert report.changed == ["qa/flaky#flaky"]
    assert len(report.warnings) == 1
    assert "kb/qa/flaky.md: text changed but version is still 1" in report.warnings[0]


def test_removed_sections_and_files_are_deleted(indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    write(files, "security", "passwords.md", PASSWORDS_EN.split("## Rate limits")[0])
    (files / "qa" / "flaky.md").unlink()
    report = reindex(files, index)
    assert report.removed == ["qa/flaky#fixtures", "qa/flaky#flaky",
                              "security/passwords#rate-limits"]
    assert set(Store(index).existing()) == {"security/passwords#storage",
                                            "security/paroli#storage"}
    assert [h["event"] for h in Store(index).history("qa/flaky#flaky")] == [
        "added", "removed"]
    assert ids(index, "flaky") == []


def test_role_scope_leaves_other_roles_alone(indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    write(files, "qa", "flaky.md", FLAKY_QA.replace("same day", "same hour"))
    write(files, "security", "passwords.md",
          PASSWORDS_EN.replace("per account", "per user"))
    report = reindex(files, index, roles=["security"])
    assert report.changed == ["security/passwords#rate-limits"]
    assert ids(index, "hour", role="qa") == []


def test_rebuild_on_request(indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    report = reindex(files, index, rebuild=True)
    assert report.rebuilt and report.rebuild_reason == "asked for"
    assert (report.added, report.changed, report.unchanged) == ([], [], 5)
    assert ids(index, "flaky tests", role="qa")[0] == "qa/flaky#flaky"


def test_a_damaged_index_is_reported_and_repaired_by_a_rebuild(
        indexed: tuple[Path, Path]) -> None:
    files, index = indexed
    (index / "meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(KBIndexError) as info:
        KnowledgeBase(index).status()
    assert info.value.hint == "consilium kb index --rebuild"
    with pytest.raises(KBIndexError):
        reindex(files, index)
    report = reindex(files, index, rebuild=True)
    assert report.rebuilt and report.passages == 5
    assert ids(index, "flaky tests", role="qa")[0] == "qa/flaky#flaky"
