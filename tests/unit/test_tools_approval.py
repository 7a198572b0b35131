"""The approval gate: policies, keys, yes-to-the-rest, and what only a person may approve."""

from __future__ import annotations

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.tools.approval import ApprovalGate, Preview, policy_covers


def _p(category: str = "edit", personal: str = "", index: int = 0) -> Preview:
    return Preview(index=index, total=3, kind="edit_file", title="edit a.py",
                   category=category, personal=personal)  # type: ignore[arg-type]


def test_policy_ladder() -> None:
    assert policy_covers("read-only", "read") and not policy_covers("read-only", "edit")
    assert policy_covers("edits", "edit") and not policy_covers("edits", "change")
    assert policy_covers("all", "change") and not policy_covers("ask", "read")
    with pytest.raises(UsageError):
        ApprovalGate("sometimes")


def test_keys_and_default_and_records() -> None:
    answers = iter(["y", "n", "x", "q"])
    recorded: list[str] = []
    gate = ApprovalGate("ask", lambda p: next(answers), lambda p, a: recorded.append(a))
    assert gate.decide(_p()).approved
    assert not gate.decide(_p()).approved
    assert not gate.decide(_p()).approved  # any other key: the default, no
    quit_ = gate.decide(_p())
    assert quit_.stop and not quit_.approved
    assert recorded == ["yes", "no", "no", "quit"]


def test_all_covers_the_rest_but_not_personal_approvals() -> None:
    asked: list[int] = []

    def ask(p: Preview) -> str:
        asked.append(p.index)
        return "a" if p.index == 0 else "n"

    gate = ApprovalGate("ask", ask)
    assert gate.decide(_p(index=0)).answer == "all"
    assert gate.decide(_p("change", index=1)).approved
    assert not gate.decide(_p(personal="outside the repository", index=2)).approved
    assert asked == [0, 2]


def test_policy_without_a_person() -> None:
    recorded: list[str] = []
    gate = ApprovalGate("edits", None, lambda p, a: recorded.append(a))
    assert gate.decide(_p("read")).by == "policy"
    assert gate.decide(_p("edit")).approved
    refused = gate.decide(_p("change"))
    assert not refused.approved and refused.by == "gate"
    assert not gate.decide(_p("edit", personal="a path outside the repository")).approved
    assert recorded[2].startswith("refused: policy edits does not cover change")
    assert recorded[3] == "refused: a path outside the repository"


def test_interrupt_is_recorded_and_raised() -> None:
    recorded: list[str] = []

    def ask(p: Preview) -> str:
        raise KeyboardInterrupt

    gate = ApprovalGate("ask", ask, lambda p, a: recorded.append(a))
    with pytest.raises(KeyboardInterrupt):
        gate.decide(_p())
    assert recorded == ["interrupted"]
