"""Knowledge files: validation with file and line, splitting into citable passages,
hashes, and the knowledge shipped in kb/."""

from __future__ import annotations

from pathlib import Path

import pytest

from consilium_cli.council.roles import ROLES
from consilium_cli.kb.indexer import collect
from consilium_cli.kb.ingest import (
    MAX_PASSAGE_CHARS,
    Document,
    Problem,
    load_document,
    slugify,
    split_text,
)
from consilium_cli.kb.locations import Source, shipped_kb_dir
from tests.support.kb_docs import knowledge, write


def load(tmp_path: Path, text: str, role: str = "qa",
         name: str = "doc.md") -> tuple[Document | None, list[Problem]]:
    path = write(tmp_path, role, name, text)
    return load_document(path, f"kb/{role}/{name}", folder_role=role)


def only_problem(tmp_path: Path, text: str, role: str = "qa") -> tuple[int, str]:
    document, problems = load(tmp_path, text, role)
    assert document is None
    assert len(problems) == 1, problems
    assert problems[0].file == tmp_path / role / "doc.md"
    return problems[0].line, problems[0].message


# -- bad front matter: each problem names its file and line --------------------------------


def test_missing_field_points_at_the_closing_line(tmp_path: Path) -> None:
    line, message = only_problem(tmp_path, knowledge(drop=("source",)))
    assert (line, message) == (9, "missing required field 'source'")


@pytest.mark.parametrize("value", ["2026-13-01", "2026-02-30", "yesterday", "26-1-1",
                                   "2999-01-01"])
def test_bad_date(tmp_path: Path, value: str) -> None:
    line, message = only_problem(tmp_path, knowledge(updated=value))
    assert line == 6
    assert value in message


def test_role_outside_the_list(tmp_path: Path) -> None:
    line, message = only_problem(tmp_path, knowledge(role="devops", id="devops/x"))
    assert line == 4
    assert "role 'devops' is not one of: dev, security, qa, architect, ux, seo" in message


def test_role_that_does_not_match_its_folder(tmp_path: Path) -> None:
    line, message = only_problem(tmp_path, knowledge(role="dev", id="dev/x"), role="qa")
    assert line == 4
    assert "does not match the folder 'qa'" in message


def test_unknown_language(tmp_path: Path) -> None:
    line, message = only_problem(tmp_path, knowledge(language="de"))
    assert line == 7
    assert "language 'de' is not supported" in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = knowledge().replace("title: Sample knowledge", "title: [unclosed, list")
    assert only_problem(tmp_path, text)[0] == 3


def test_no_front_matter(tmp_path: Path) -> None:
    assert only_problem(tmp_path, "# Just markdown\n")[0] == 1


@pytest.mark.parametrize(("fields", "line", "words"), [
    ({"id": "qa"}, 2, "must look like 'role/name'"),
    ({"id": "dev/x"}, 2, "must start with its role: 'qa/...'"),
    ({"version": "0"}, 5, "version must be a whole number"),
    ({"version": "1.2"}, 5, "version must be a whole number"),
    ({"version": "²"}, 5, "version must be a whole number"),
    ({"version": "9" * 10}, 5, "version must be a whole number"),
    ({"tags": "[testing, tests]"}, 8, "at least one English and one Russian tag"),
    ({"tags": "testing"}, 8, "tags must be a list"),
    ({"title": "x" * 121}, 3, "at most 120"),
    ({"source": "''"}, 9, "'source' is empty"),
    ({"owner": "me"}, 10, "unknown field 'owner'"),
])
def test_field_rules(tmp_path: Path, fields: dict[str, str], line: int, words: str) -> None:
    found_line, message = only_problem(tmp_path, knowledge(**fields))
    assert found_line == line
    assert words in message


def test_several_problems_are_all_listed(tmp_path: Path) -> None:
    _doc, problems = load(tmp_path, knowledge(language="de", updated="soon"))
    assert sorted(p.line for p in problems) == [6, 7]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "qa", "a.md", knowledge())
    write(tmp_path, "qa", "b.md", knowledge())
    result = collect([Source(tmp_path, "", "settings")])
    assert len(result.documents) == 1
    [problem] = result.problems
    assert problem.file == tmp_path / "qa" / "b.md"
    assert problem.line == 2
    assert f"already used by {tmp_path / 'qa' / 'a.md'}:2" in problem.message


def test_a_folder_that_is_not_a_role_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "devops", "x.md", knowledge())
    result = collect([Source(tmp_path, "", "settings")])
    [problem] = result.problems
    assert "folder 'devops' is not a role" in problem.message


# -- splitting --------------------------------------------------------------------------


BODY = """# Testing guide

Intro paragraph.

## Flaky tests {#flaky}

Quarantine them.

```bash
# not a heading inside a fence
pytest -p randomly
```

### Хранение фикстур

Keep fixtures small.

## Empty section

## Flaky tests again
Text.
"""


def test_sections_become_passages_with_stable_ids(tmp_path: Path) -> None:
    document, problems = load(tmp_path, knowledge(BODY))
    assert problems == []
    assert document is not None
    chunks = {c.id: c for c in document.chunks}
    assert list(chunks) == ["qa/sample#overview", "qa/sample#flaky",
                            "qa/sample#khranenie-fikstur", "qa/sample#flaky-tests-again"]
    assert chunks["qa/sample#overview"].heading == "Testing guide"
    assert chunks["qa/sample#overview"].text == "Intro paragraph."
    assert "# not a heading inside a fence" in chunks["qa/sample#flaky"].text
    assert chunks["qa/sample#khranenie-fikstur"].heading_path == ("Flaky tests",
                                                                  "Хранение фикстур")
    assert chunks["qa/sample#flaky"].line == 15


def test_duplicate_anchors_are_a_problem(tmp_path: Path) -> None:
    text = knowledge("## Retries\n\na\n\n## Retries\n\nb\n")
    _doc, problems = load(tmp_path, text)
    [problem] = problems
    assert problem.line == 15
    assert "two sections get the anchor 'retries' (the other is on line 11)" in problem.message


def test_bad_explicit_anchor(tmp_path: Path) -> None:
    _doc, problems = load(tmp_path, knowledge("## Retries {#Not Valid}\n\ntext\n"))
    assert problems[0].line == 11
    assert "anchor '{#Not Valid}'" in problems[0].message


def test_long_sections_are_cut_into_numbered_parts(tmp_path: Path) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(12))
    document, _ = load(tmp_path, knowledge(f"## Long {{#long}}\n\n{paragraphs}\n"))
    assert document is not None
    ids = [c.id for c in document.chunks]
    assert ids[0] == "qa/sample#long"
    assert ids[1:] == [f"qa/sample#long.{n}" for n in range(2, len(ids) + 1)]
    assert all(len(c.text) <= MAX_PASSAGE_CHARS for c in document.chunks)
    joined = " ".join(c.text for c in document.chunks)
    assert all(f"Paragraph {i}." in joined for i in range(12))


def test_split_text_cuts_an_overlong_line() -> None:
    parts = split_text("x" * 4000, 1500)
    assert [len(p) for p in parts] == [1500, 1500, 1000]


def test_slugify() -> None:
    assert slugify("Хранение паролей") == "khranenie-paroley"
    assert slugify("Input validation & output encoding (XSS)") == \
        "input-validation-output-encoding-xss"
    assert len(slugify("word " * 40)) <= 48


def test_hashes_change_only_where_the_text_changed(tmp_path: Path) -> None:
    before, _ = load(tmp_path, knowledge(BODY))
    after, _ = load(tmp_path, knowledge(BODY.replace("Quarantine them.", "Fix them.")))
    bumped, _ = load(tmp_path, knowledge(BODY, version="2"))
    assert before and after and bumped
    changed = [a.id for a, b in zip(before.chunks, after.chunks)
               if a.content_hash != b.content_hash]
    assert changed == ["qa/sample#flaky"]
    assert all(a.content_hash == b.content_hash and a.row_hash != b.row_hash
               for a, b in zip(before.chunks, bumped.chunks))


# -- the shipped knowledge ------------------------------------------------------------------


def test_shipped_knowledge_is_valid_and_covers_every_role() -> None:
    folder = shipped_kb_dir()
    assert (folder / "STANDARDS.md").is_file()
    result = collect([Source(folder, "kb", "shipped")])
    assert result.problems == []
    ids = {d.meta.id for d in result.documents}
    assert {"security/security_checklist", "architect/architecture_review",
            "qa/testing_strategy"} <= ids
    assert {d.meta.role for d in result.documents} == set(ROLES)
    assert {d.meta.language for d in result.documents} == {"en", "ru"}
    assert all(c.id.startswith(d.meta.id + "#") for d in result.documents for c in d.chunks)
    assert "security/security_checklist#passwords" in {
        c.id for d in result.documents for c in d.chunks}
