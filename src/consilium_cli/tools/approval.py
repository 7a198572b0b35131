"""The approval gate: what a person sees before an action runs, and who said yes.

Policies, from strictest: `ask` (every action is asked), `read-only` (searches, system
facts, git status/diff/log and queries run without asking), `edits` (also file edits
inside the repository), `all` (everything). Some actions only a person may approve, one
at a time, whatever the policy or an earlier "yes to the rest": a path that leads outside
the repository, and an edit that matches only when whitespace is ignored.

Keys at the prompt: y (yes), n (no, the default), a (yes to the rest of this plan),
d (show the full diff or file, then ask again), q (stop here). The gate calls an `ask`
function that the CLI provides (a prompt-toolkit key prompt); the gate itself prints
nothing. Every answer is passed to `record` (the history log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from consilium_cli.errors import UsageError

POLICIES = ("ask", "read-only", "edits", "all")
Category = Literal["read", "edit", "change"]
_RANK = {"ask": 0, "read-only": 1, "edits": 2, "all": 3}
_NEEDS = {"read": 1, "edit": 2, "change": 3}

KEYS = {"y": "yes", "n": "no", "a": "all", "q": "quit"}


@dataclass(frozen=True)
class Preview:
    """An action as shown before approval; plain data for the renderer."""

    index: int
    total: int
    kind: str
    title: str
    category: Category
    why: str = ""
    undoable: bool = True
    irreversible: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    diff: tuple[str, ...] = ()
    full_diff: tuple[str, ...] = ()
    body: str = ""
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    danger: tuple[str, ...] = ()
    personal: str = ""
    error: str = ""


@dataclass(frozen=True)
class Decision:
    approved: bool
    answer: str
    by: Literal["person", "policy", "gate"]
    stop: bool = False
    reason: str = ""


AskFn = Callable[[Preview], str]
RecordFn = Callable[[Preview, str], None]


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise UsageError(f"unknown approval policy {policy!r}",
                         hint="--approve read-only, --approve edits or --approve all")
    return policy


def policy_covers(policy: str, category: Category) -> bool:
    return _RANK[check_policy(policy)] >= _NEEDS[category]


@dataclass
class ApprovalGate:
    """Decides each action: by policy, by a person's key, or refuses."""

    policy: str = "ask"
    ask: AskFn | None = None
    record: RecordFn | None = None
    yes_to_rest: bool = False

    def __post_init__(self) -> None:
        check_policy(self.policy)

    def _log(self, preview: Preview, answer: str) -> None:
        if self.record is not None:
            self.record(preview, answer)

    def decide(self, preview: Preview) -> Decision:
        if preview.personal:
            if self.ask is None:
                reason = f"only a person may approve this: {preview.personal}"
                self._log(preview, "refused: " + preview.personal)
                return Decision(False, "refused", "gate", reason=reason)
            return self._ask(preview)
        if self.yes_to_rest:
            self._log(preview, "yes (yes to the rest)")
            return Decision(True, "yes", "person")
        if policy_covers(self.policy, preview.category):
            self._log(preview, f"yes (policy {self.policy})")
            return Decision(True, "policy", "policy")
        if self.ask is None:
            reason = f"policy {self.policy} does not cover {preview.category} actions"
            self._log(preview, f"refused: {reason}")
            return Decision(False, "refused", "gate", reason=reason)
        return self._ask(preview)

    def _ask(self, preview: Preview) -> Decision:
        try:
            key = self.ask(preview) if self.ask else "n"
        except KeyboardInterrupt:
            self._log(preview, "interrupted")
            raise
        answer = KEYS.get(key, "no")
        if answer == "all" and preview.personal:
            answer = "yes"  # "all" never extends to actions only a person may approve
        self._log(preview, answer)
        if answer == "quit":
            return Decision(False, "quit", "person", stop=True)
        if answer == "all":
            self.yes_to_rest = True
            return Decision(True, "all", "person")
        return Decision(answer == "yes", answer, "person")
