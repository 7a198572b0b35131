"""Each agent gets its own passages; citations of passages it was not given are flagged."""

from __future__ import annotations

import io

from rich.console import Console

from consilium_cli.council.debate import DebateConfig, run_debate
from consilium_cli.council.transcript import Transcript
from consilium_cli.kb.retrieve import Passage
from consilium_cli.llm.engine import GenerationRequest
from consilium_cli.ui.council_view import PlainCouncilView
from tests.support.scripted_engine import ScriptedEngine

GIVEN = Passage(id="security/security_checklist#passwords", role="security",
                title="Passwords", text="Hash passwords with argon2id or bcrypt.",
                source_file="kb/security/security_checklist.md", language="en", score=1.0)


def answer(request: GenerationRequest) -> str:
    user = request.messages[-1].content
    if "security engineer" in user:
        return ("Use argon2id [kb:security/security_checklist#passwords] and rotate keys "
                "[kb:security/made_up#nothing].")
    return "Write the code [kb:security/security_checklist#passwords]."


def run() -> tuple[ScriptedEngine, Transcript, str]:
    engine = ScriptedEngine(answer)
    transcript = Transcript("t", ("security", "dev"))
    console = Console(file=io.StringIO(), width=120)
    view = PlainCouncilView(console)
    for event in run_debate(engine, "## Task\nstore passwords", ["security", "dev"],
                            DebateConfig(rounds=1), transcript,
                            given={"security": [GIVEN], "dev": []}):
        view.handle(event)
    return engine, transcript, console.file.getvalue()


def test_only_the_role_that_owns_a_passage_gets_it() -> None:
    engine, _, _ = run()
    security, dev = engine.batches[0]
    assert "[kb:security/security_checklist#passwords]" in security.messages[-1].content
    assert "argon2id or bcrypt" in security.messages[-1].content
    assert "[kb:" not in dev.messages[-1].content
    # the shared part stays identical, so it is still evaluated once
    assert security.messages[0] == dev.messages[0]


def test_citations_are_checked_against_what_each_agent_was_given() -> None:
    _, transcript, _ = run()
    security, dev = transcript.round_answers(1)
    assert [(c.id, c.valid) for c in security.citations] == [
        ("security/security_checklist#passwords", True), ("security/made_up#nothing", False)]
    # dev cites a real passage it was never given: flagged, not shown as a source
    assert [(c.id, c.valid) for c in dev.citations] == [
        ("security/security_checklist#passwords", False)]


def test_panels_show_sources_and_flag_the_rest() -> None:
    _, transcript, out = run()
    assert "Passwords — kb/security/security_checklist.md" in out
    assert "[kb:security/made_up#nothing] not a passage this agent was given" in out
    data = transcript.to_json()
    assert data["rounds"][0]["messages"][0]["citations"][0]["source"] == \
        "kb/security/security_checklist.md"
