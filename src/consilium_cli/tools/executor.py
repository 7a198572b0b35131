"""Run a plan: each action is prepared against the tree as it is now, shown, decided by the
approval gate, and applied with its prior state journaled.

`Executor.run()` yields events for the CLI to render and prints nothing. The plan stops at
the first action that cannot be applied or fails, and at `q`. A Ctrl-C during a file, git
or database action is held until the action is complete (so it completes or, if it had
not started, leaves no trace); during a command it stops the command. Either way the
journal is closed as interrupted and `KeyboardInterrupt` goes on to the caller.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from consilium_cli.errors import ConsiliumError
from consilium_cli.tools.actions import (
    ActionOutput,
    ActionResult,
    ApplyEnv,
    RunAction,
    prepare,
)
from consilium_cli.tools.approval import ApprovalGate, Decision, Preview
from consilium_cli.tools.plan import Plan


@dataclass(frozen=True)
class ActionShown:
    preview: Preview


@dataclass(frozen=True)
class ActionDecided:
    preview: Preview
    decision: Decision


@dataclass(frozen=True)
class ActionFinished:
    preview: Preview
    result: ActionResult


@dataclass(frozen=True)
class PlanFinished:
    status: str
    applied: int
    declined: int
    failed: int
    not_run: int
    session_id: str
    journaled: bool


ExecEvent = ActionShown | ActionDecided | ActionOutput | ActionFinished | PlanFinished


@contextmanager
def held_interrupts() -> Iterator[None]:
    """Hold SIGINT until the block ends, then raise KeyboardInterrupt if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


class Executor:
    def __init__(self, plan: Plan, gate: ApprovalGate, env: ApplyEnv, session_id: str) -> None:
        self.plan = plan
        self.gate = gate
        self.env = env
        self.session_id = session_id
        self.applied = 0
        self.declined = 0
        self.failed = 0

    def _finish(self, status: str, done: int) -> PlanFinished:
        if self.env.has_journal:
            self.env.journal.close(status)
        return PlanFinished(status, self.applied, self.declined, self.failed,
                            len(self.plan.actions) - done, self.session_id,
                            self.env.has_journal)

    def run(self) -> Iterator[ExecEvent]:
        total = len(self.plan.actions)
        done = 0
        try:
            for action in self.plan.actions:
                prepared = prepare(action, total, self.env)
                preview = prepared.preview
                yield ActionShown(preview)
                if preview.error:
                    self.failed += 1
                    if self.gate.record is not None:
                        self.gate.record(preview, f"cannot apply: {preview.error}")
                    yield ActionFinished(preview, ActionResult(action.index, False,
                                                               preview.error))
                    yield self._finish("failed", done + 1)
                    return
                decision = self.gate.decide(preview)
                yield ActionDecided(preview, decision)
                if decision.stop:
                    yield self._finish("stopped" if self.applied else "declined", done)
                    return
                done += 1
                if not decision.approved:
                    self.declined += 1
                    continue
                result = yield from self._apply(prepared)
                yield ActionFinished(preview, result)
                if not result.ok:
                    self.failed += 1
                    yield self._finish("failed", done)
                    return
                self.applied += 1
        except KeyboardInterrupt:
            if self.env.has_journal:
                self.env.journal.close("interrupted")
            raise
        status = "done" if self.applied or not self.declined else "declined"
        yield self._finish(status, done)

    def _apply(self, prepared: Any) -> Iterator[ActionOutput]:
        index = prepared.preview.index
        try:
            if isinstance(prepared, RunAction):
                return (yield from prepared.apply(self.env))
            with held_interrupts():
                gen = prepared.apply(self.env)
                try:
                    while True:
                        yield next(gen)
                except StopIteration as stop:
                    return stop.value
        except ConsiliumError as exc:
            message = exc.message + (f" ({exc.hint})" if exc.hint else "")
            return ActionResult(index, False, message)
