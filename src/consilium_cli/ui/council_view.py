"""How a council session looks: live panels on a TTY, plain text in a pipe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from consilium_cli.council.roles import get_role
from consilium_cli.council.transcript import (
    AgentDelta,
    AgentDone,
    CouncilEvent,
    Decision,
    DirectorDelta,
    DirectorDone,
    DirectorOutcome,
    DirectorStarted,
    RoundDone,
    RoundStarted,
)
from consilium_cli.ui.safe_text import clean, safe

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

TAIL_LINES = 10


def decision_renderable(outcome: DirectorOutcome) -> RenderableType:
    """The Director's panel: decision, reasons, dissents, confidence, follow-up."""
    from rich.console import Group
    from rich.panel import Panel

    # The label can carry a remote failure reason, which quotes the server.
    title = safe(f"Director: {outcome.label}", "role.director")
    parts: list[Any] = []
    if outcome.decision is None:
        parts.append(safe(f"No decision: {outcome.error}", "error"))
        if outcome.raw:
            parts.append(safe(outcome.raw, "muted"))
    else:
        parts.extend(_decision_parts(outcome.decision))
    tokens = (f"{outcome.prompt_tokens} in / {outcome.completion_tokens} out"
              if outcome.prompt_tokens else f"{outcome.completion_tokens} tokens")
    subtitle = f"{tokens} · {outcome.seconds:.1f} s"
    return Panel(Group(*parts), title=title, title_align="left", subtitle=subtitle,
                 subtitle_align="right", border_style="role.director")


def _decision_parts(decision: Decision) -> list[Any]:
    from rich.text import Text

    parts: list[Any] = [safe(decision.decision, "title")]

    def section(name: str, items: list[Text]) -> None:
        if items:
            parts.append(Text(""))
            parts.append(Text(name, style="title"))
            parts.extend(items)

    section("Reasons", [safe(f"• {r}") for r in decision.reasons])
    section("Disagreements", [
        Text.assemble(safe(f"• {d.role}: ", f"role.{d.role}"), safe(d.point),
                      safe(f"\n  → {d.resolution}", "muted"))
        for d in decision.dissents])
    section("Follow-up", [safe(f"• {f}") for f in decision.follow_up])
    parts.append(Text(""))
    parts.append(safe(f"Confidence: {decision.confidence}", "muted"))
    return parts


def citation_notes(citations: tuple[Any, ...]) -> list[Any]:
    """Footnotes for an answer's `[kb:ID]` citations; a passage the agent was not given is
    flagged, never shown as a source."""
    notes = []
    for cited in citations:
        if cited.valid:
            notes.append(safe(f"[kb:{cited.id}] {cited.title} — {cited.source_file}", "muted"))
        else:
            notes.append(safe(f"[kb:{cited.id}] not a passage this agent was given "
                              "(unverified citation)", "warn"))
    return notes


@dataclass
class _AgentState:
    text: str = ""
    tokens: int = 0
    started: float = field(default_factory=time.perf_counter)
    done: bool = False
    reason: str = ""
    citations: tuple[Any, ...] = ()


class LiveCouncilView:
    """One panel per agent streaming side by side; finished rounds stay on screen."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.round = 0
        self.agents: dict[str, _AgentState] = {}
        self.director_label = ""
        self.director_text = ""
        self._live: Live | None = None

    def __enter__(self) -> LiveCouncilView:
        from rich.live import Live

        self._live = Live(get_renderable=self._renderable, console=self.console,
                          refresh_per_second=8, transient=True, redirect_stdout=False,
                          redirect_stderr=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    @contextmanager
    def suspend(self) -> Iterator[None]:
        """Stop redrawing while the user answers a question."""
        if self._live is None:
            yield
            return
        self._live.stop()
        try:
            yield
        finally:
            self._live.start()

    def handle(self, event: CouncilEvent) -> None:
        if isinstance(event, RoundStarted):
            self.round = event.round
            self.agents = {role: _AgentState() for role in event.roles}
        elif isinstance(event, AgentDelta):
            state = self.agents[event.role]
            state.text += event.text
            state.tokens += 1
        elif isinstance(event, AgentDone):
            state = self.agents[event.answer.role]
            state.text = event.answer.text
            state.tokens = event.answer.completion_tokens
            state.done = True
            state.reason = event.answer.finish_reason
            state.citations = event.answer.citations
        elif isinstance(event, RoundDone):
            self._print(self._round_renderable(full=True))
            self.agents = {}
        elif isinstance(event, DirectorStarted):
            self.director_label = event.label
            self.director_text = ""
        elif isinstance(event, DirectorDelta):
            self.director_text += event.text
        elif isinstance(event, DirectorDone):
            self.director_label = ""
            self._print(decision_renderable(event.outcome))

    def _print(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    def _renderable(self) -> RenderableType:
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        parts: list[Any] = []
        if self.agents:
            parts.append(self._round_renderable(full=False))
        if self.director_label:
            tail = "\n".join(clean(self.director_text).splitlines()[-TAIL_LINES:])
            parts.append(Panel(Text(tail, style="muted"),
                               title=safe(f"Director: {self.director_label} (deciding…)",
                                          "role.director"), title_align="left"))
        return Group(*parts)

    def _round_renderable(self, *, full: bool) -> RenderableType:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        width = self.console.size.width
        columns = max(1, min(3, width // 42, len(self.agents)))
        grid = Table.grid(expand=True, padding=(0, 1))
        for _ in range(columns):
            grid.add_column(ratio=1)
        panels = []
        for role, state in self.agents.items():
            text = clean(state.text)
            if not full:
                text = "\n".join(text.splitlines()[-TAIL_LINES:])
            elapsed = max(time.perf_counter() - state.started, 1e-6)
            status = (f"{state.tokens} tok" + (f" · {state.reason}" if state.done else
                                               f" · {state.tokens / elapsed:.1f} tok/s"))
            body: Any = Text(text or "…")
            if full and state.citations:
                body = Group(body, Text(""), *citation_notes(state.citations))
            panels.append(Panel(body, title=Text(
                f"{role} · {get_role(role).title}", style=f"role.{role}"),
                title_align="left", subtitle=status, subtitle_align="right",
                border_style=f"role.{role}"))
        for start in range(0, len(panels), columns):
            row = panels[start:start + columns]
            grid.add_row(*row, *[""] * (columns - len(row)))
        return Group(Text(f"Round {self.round}", style="title"), grid)


class PlainCouncilView:
    """For pipes: each round's answers in role order once the round is done, then the
    decision; no colours or boxes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.pending: dict[str, Any] = {}
        self.order: tuple[str, ...] = ()

    def __enter__(self) -> PlainCouncilView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def handle(self, event: CouncilEvent) -> None:
        if isinstance(event, RoundStarted):
            self.order = event.roles
            self.pending = {}
        elif isinstance(event, AgentDone):
            self.pending[event.answer.role] = event.answer
        elif isinstance(event, RoundDone):
            self.console.print(safe(f"== Round {event.round} =="))
            for role in self.order:
                if role in self.pending:
                    answer = self.pending[role]
                    self.console.print(safe(f"\n[{role} · {get_role(role).title}]"))
                    self.console.print(safe(answer.text.strip()))
                    for note in citation_notes(answer.citations):
                        self.console.print(note)
            self.console.print()
        elif isinstance(event, DirectorDone):
            self._decision(event.outcome)

    def _decision(self, outcome: DirectorOutcome) -> None:
        print_ = self.console.print
        print_(safe(f"== Director: {outcome.label} =="))
        decision = outcome.decision
        if decision is None:
            print_(safe(f"No decision: {outcome.error}"))
            return
        print_(safe(decision.decision))
        for title, items in (("Reasons", decision.reasons), ("Follow-up", decision.follow_up)):
            if items:
                print_(safe(f"\n{title}:"))
                for item in items:
                    print_(safe(f"- {item}"))
        if decision.dissents:
            print_(safe("\nDisagreements:"))
            for d in decision.dissents:
                print_(safe(f"- {d.role}: {d.point} -> {d.resolution}"))
        print_(safe(f"\nConfidence: {decision.confidence}"))
