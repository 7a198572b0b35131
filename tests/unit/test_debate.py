"""Orchestration of the debate and the local Director, with a scripted engine."""

from __future__ import annotations

import json

import pytest

from consilium_cli.council.context import Context, ContextFile, fit_to_budget
from consilium_cli.council.debate import DebateConfig, compactor, run_debate
from consilium_cli.council.director import (
    DecisionFormatError,
    LocalDirector,
    decision_schema,
    parse_decision,
)
from consilium_cli.council.roles import ROLES, get_role, parse_roles
from consilium_cli.council.session import run_council
from consilium_cli.council.transcript import AgentDone, DirectorDone, RoundDone, Transcript
from consilium_cli.errors import UsageError
from consilium_cli.llm.engine import CancelToken, GenerationRequest
from tests.support.scripted_engine import ScriptedEngine

DECISION = {"decision": "Hash passwords with argon2id.", "reasons": ["slow hashes resist"],
            "dissents": [{"role": "qa", "point": "tests", "resolution": "add them"}],
            "confidence": "high", "follow_up": ["add a migration"]}


def answer(request: GenerationRequest) -> str:
    if request.params.json_schema is not None:
        return json.dumps(DECISION)
    user = request.messages[-1].content
    for role in ROLES:
        if get_role(role).debate.splitlines()[0] in user.splitlines()[-3] + user:
            last = user.rsplit(get_role(role).debate.splitlines()[0], 1)
            if len(last) == 2:
                return f"{role} says: round answer [{len(user)}]"
    return "unknown"


def test_every_role_has_a_prompt_in_package_data() -> None:
    for role in ROLES:
        spec = get_role(role)
        assert spec.title and spec.focus and spec.debate and spec.review


def test_parse_roles() -> None:
    assert parse_roles("dev, Security,dev") == ["dev", "security"]
    with pytest.raises(UsageError) as err:
        parse_roles("dev,hacker")
    assert "seo" in err.value.hint


def test_round_two_sees_round_one_in_fixed_order_and_shares_its_prefix() -> None:
    engine = ScriptedEngine(answer)
    transcript = Transcript("task", ("security", "dev", "qa"))
    events = list(run_debate(engine, "## Task\nstore passwords", ["security", "dev", "qa"],
                             DebateConfig(rounds=2), transcript))
    assert len(engine.batches) == 2
    round1, round2 = engine.batches
    # the shared part is identical for everyone
    assert len({r.messages[0].content for r in round1 + round2}) == 1
    users = [r.messages[1].content for r in round2]
    transcript_part = users[0].split("\n\nYou are the council's")[0]
    assert all(u.startswith(transcript_part) for u in users)
    assert transcript_part.index("[security") < transcript_part.index("[dev") \
        < transcript_part.index("[qa")
    assert [e.round for e in events if isinstance(e, RoundDone)] == [1, 2]
    assert len(transcript.answers) == 6


def test_each_agent_has_its_own_seed() -> None:
    engine = ScriptedEngine(answer)
    list(run_debate(engine, "x", ["dev", "qa"], DebateConfig(rounds=1, seed=5),
                    Transcript("t", ("dev", "qa"))))
    seeds = [r.params.seed for r in engine.batches[0]]
    assert len(set(seeds)) == 2


def test_cancel_stops_after_the_round() -> None:
    engine = ScriptedEngine(answer)
    engine.cancel_after_deltas = 2
    transcript = Transcript("t", ("dev", "qa"))
    cancel = CancelToken()
    list(run_council(engine, Context("t"), ["dev", "qa"], DebateConfig(rounds=2),
                     LocalDirector(engine, str), transcript, cancel=cancel))
    assert transcript.cancelled
    assert len(engine.batches) == 1
    assert transcript.director is None


def test_director_receives_every_round_and_parses() -> None:
    engine = ScriptedEngine(answer)
    transcript = Transcript("t", ("dev", "security"))
    events = list(run_council(engine, Context("store passwords"), ["dev", "security"],
                              DebateConfig(rounds=2), LocalDirector(engine, str), transcript))
    director_request = engine.batches[-1][0]
    assert director_request.params.json_schema == decision_schema(("dev", "security"))
    assert "round 1" in director_request.messages[1].content
    assert "round 2" in director_request.messages[1].content
    done = next(e for e in events if isinstance(e, DirectorDone))
    assert done.outcome.decision is not None
    assert done.outcome.decision.confidence == "high"
    assert transcript.to_json()["decision"]["follow_up"] == ["add a migration"]


@pytest.mark.parametrize("raw,message", [
    ("<html>proxy error</html>", "not JSON"),
    ("[]", "not a JSON object"),
    ('{"decision": "x"}', "missing fields"),
    ('{"decision": "", "reasons": [], "confidence": "high"}', "non-empty"),
    ('{"decision": "x", "reasons": [1], "confidence": "high"}', "list of strings"),
    ('{"decision": "x", "reasons": [], "confidence": "sure"}', "confidence"),
    ('{"decision": "x", "reasons": [], "confidence": "low", "dissents": [{"role": "qa"}]}',
     "dissent"),
])
def test_malformed_decisions_are_errors_not_decisions(raw: str, message: str) -> None:
    with pytest.raises(DecisionFormatError, match=message):
        parse_decision(raw)


def test_malformed_local_decision_is_reported_with_the_raw_text() -> None:
    engine = ScriptedEngine(lambda r: "not json" if r.params.json_schema else "answer")
    transcript = Transcript("t", ("dev",))
    list(run_council(engine, Context("t"), ["dev"], DebateConfig(rounds=1),
                     LocalDirector(engine, str), transcript))
    assert transcript.director is not None
    assert transcript.director.decision is None
    assert "malformed" in transcript.director.error
    assert transcript.director.raw == "not json"


def test_compactor_cuts_long_answers_at_a_boundary() -> None:
    engine = ScriptedEngine(answer)
    text = "First sentence here. " * 40
    out = compactor(engine, 30)(text)
    assert out.endswith("[…]")
    assert engine.count_tokens(out) <= 32


def test_fit_to_budget_cuts_files_and_reports_it() -> None:
    engine = ScriptedEngine(answer)
    big = "\n".join(f"line {i} " + "x" * 40 for i in range(200))
    context = Context("task", [ContextFile("a.py", "print(1)", 1), ContextFile("b.py", big, 200)])
    fitted = fit_to_budget(context, 600, engine.count_tokens)
    assert engine.count_tokens(fitted.render()) <= 600
    assert fitted.files[0].text == "print(1)"
    assert fitted.notes and "b.py: lines" in fitted.notes[0]
    assert "(cut after line" in fitted.render()


def test_fit_to_budget_drops_whole_files_when_needed() -> None:
    engine = ScriptedEngine(answer)
    context = Context("task " * 50, [ContextFile("a.py", "y" * 4000, 1)])
    fitted = fit_to_budget(context, 80, engine.count_tokens)
    assert not fitted.files
    assert "left out entirely" in fitted.notes[0]


def test_task_alone_too_big_is_a_usage_error() -> None:
    engine = ScriptedEngine(answer)
    with pytest.raises(UsageError, match="task and piped input alone"):
        fit_to_budget(Context("word " * 1000), 50, engine.count_tokens)


def test_agent_done_events_carry_token_counts() -> None:
    engine = ScriptedEngine(answer)
    events = list(run_debate(engine, "x", ["ux"], DebateConfig(rounds=1),
                             Transcript("t", ("ux",))))
    done = [e for e in events if isinstance(e, AgentDone)]
    assert done[0].answer.completion_tokens > 0
