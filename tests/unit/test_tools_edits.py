"""The search/replace engine: exactly once, all or nothing, whitespace matches offered."""

from __future__ import annotations

from consilium_cli.tools.edits import apply_blocks, count_occurrences
from consilium_cli.tools.plan import EditBlock

SOURCE = "def f():\n    return 1\n\ndef g():\n    return 2\n"


def test_one_exact_match_applies() -> None:
    out = apply_blocks(SOURCE, [EditBlock("return 1", "return 10")])
    assert out.ok and out.text == SOURCE.replace("return 1", "return 10")
    assert out.matches[0].status == "exact" and out.matches[0].line == 2


def test_blocks_apply_in_order_to_the_running_text() -> None:
    out = apply_blocks(SOURCE, [EditBlock("return 1", "return 3"),
                                EditBlock("return 3\n", "return 4\n")])
    assert out.ok and "return 4" in (out.text or "") and "return 3" not in (out.text or "")


def test_missing_block_applies_nothing_even_when_others_match() -> None:
    out = apply_blocks(SOURCE, [EditBlock("return 1", "return 10"),
                                EditBlock("return 99", "x")])
    assert out.text is None and not out.ok
    assert [m.status for m in out.matches] == ["exact", "missing"]
    assert "does not occur" in out.failures[0].describe()


def test_ambiguous_block_is_refused() -> None:
    out = apply_blocks(SOURCE, [EditBlock("    return", "    yield")])
    assert out.text is None
    assert out.matches[0].status == "ambiguous" and out.matches[0].count == 2
    assert "occurs 2 times" in out.matches[0].describe()


def test_overlapping_occurrences_count() -> None:
    assert count_occurrences("aaa", "aa") == [0, 1]
    assert apply_blocks("aaa", [EditBlock("aa", "b")]).text is None


def test_whitespace_match_is_offered_not_taken_silently() -> None:
    text = "class A:\n    def f(self):\n        return  1\n"
    out = apply_blocks(text, [EditBlock("def f(self):\n    return 1\n",
                                        "def f(self):\n    return 2\n")])
    assert not out.ok and out.needs_offer
    match = out.matches[0]
    assert match.status == "whitespace" and (match.line, match.end_line) == (2, 3)
    assert "only when whitespace is ignored" in match.describe()
    # the offered text keeps the file's indentation
    assert out.text == "class A:\n    def f(self):\n        return 2\n"


def test_whitespace_match_must_be_unique() -> None:
    text = "x = 1\nx  =  1\n"
    out = apply_blocks(text, [EditBlock("x   = 1", "x = 2")])
    assert out.text is None and out.matches[0].status == "missing"


def test_exact_match_wins_over_whitespace() -> None:
    out = apply_blocks("a b\na  b\n", [EditBlock("a b\n", "c\n")])
    assert out.ok and out.text == "c\na  b\n"
