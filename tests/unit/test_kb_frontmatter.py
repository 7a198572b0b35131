"""The strict front matter parser: the documented subset, and errors with line numbers."""

from __future__ import annotations

import pytest

from consilium_cli.kb.frontmatter import FrontMatterSyntaxError, parse_front_matter


def parse(text: str) -> dict[str, object]:
    front = parse_front_matter(text.split("\n"))
    return {key: field.value for key, field in front.fields.items()}


def error(text: str) -> FrontMatterSyntaxError:
    with pytest.raises(FrontMatterSyntaxError) as info:
        parse_front_matter(text.split("\n"))
    return info.value


def test_scalars_lists_quotes_and_comments() -> None:
    text = ("---\n"
            "# a comment\n"
            "title: Storing passwords - the rules\n"
            "source: 'OWASP ASVS: 4.0.3'\n"
            'tags: [a, "b, c", пароли]\n'
            "\n"
            "version: 2\n"
            "---\n"
            "body")
    assert parse(text) == {"title": "Storing passwords - the rules",
                           "source": "OWASP ASVS: 4.0.3", "tags": ("a", "b, c", "пароли"),
                           "version": "2"}


def test_block_list_and_body_start() -> None:
    lines = ["---", "tags:", "  - passwords", "  - пароли", "id: x/y", "---", "# Title"]
    front = parse_front_matter(lines)
    assert front.fields["tags"].value == ("passwords", "пароли")
    assert front.fields["tags"].line == 2
    assert front.fields["id"].line == 5
    assert front.close_line == 6
    assert lines[front.body_start] == "# Title"


def test_values_are_never_retyped() -> None:
    assert parse("---\nflag: no\nupdated: 2026-01-01\n---") == {"flag": "no",
                                                                  "updated": "2026-01-01"}


@pytest.mark.parametrize(("text", "line", "words"), [
    ("title: x\n---", 1, "must start with a line '---'"),
    ("---\ntitle: x\n", 1, "not closed"),
    ("---\ntitle x\n---", 2, "expected 'key: value'"),
    ("---\nid: a\nid: b\n---", 3, "duplicate key 'id' (first on line 2)"),
    ("---\ntitle: 'unterminated\n---", 2, "unterminated quoted string"),
    ("---\ntags: [a, b\n---", 2, "must end with ']'"),
    ("---\ntags: [a, , b]\n---", 2, "empty item"),
    ("---\ntitle: x\n  nested: y\n---", 3, "unexpected indentation"),
    ("---\ntags:\n\t- a\n---", 3, "tabs"),
    ("---\ntitle: &anchor x\n---", 2, "unsupported YAML syntax"),
    ("---\ntitle: {a: b}\n---", 2, "unsupported YAML syntax"),
    ("---\nsource: see: here\n---", 2, "must be quoted"),
    ("---\ntags: [[a]]\n---", 2, "nested lists"),
])
def test_syntax_errors_name_their_line(text: str, line: int, words: str) -> None:
    problem = error(text)
    assert problem.line == line
    assert words in problem.message


def test_byte_order_mark_is_accepted() -> None:
    assert parse("\ufeff---\nid: a/b\n---") == {"id": "a/b"}
