"""What the remote Director receives: redacted before it is trimmed."""

from __future__ import annotations

from consilium_cli.council.remote_director import ANSWER_CHARS, build_payload
from consilium_cli.council.transcript import AgentAnswer, Transcript

TOKEN = "ghp_q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8"


def transcript_with(text: str) -> Transcript:
    transcript = Transcript("store passwords", ("dev",))
    transcript.answers.append(AgentAnswer(1, "dev", text, "eos", 10, 10, 1.0))
    return transcript


def test_a_secret_across_the_answer_cut_never_leaks_in_part() -> None:
    # one long line: the cut must fall inside the token if trimming came first
    text = "x" * (ANSWER_CHARS - 20) + f" {TOKEN} " + "y" * 400
    payload = build_payload(transcript_with(text), "", "gpt-5.2", max_tokens=60000,
                            repo_root=None)
    body = payload.as_json()
    assert TOKEN[:8] not in body
    assert payload.replaced == {"github-token": 1}


def test_placeholders_are_shared_between_task_and_answers() -> None:
    transcript = transcript_with(f"rotate {TOKEN} now")
    transcript.task = f"we leaked {TOKEN}"
    payload = build_payload(transcript, "", "gpt-5.2", max_tokens=60000, repo_root=None)
    user = payload.body["messages"][1]["content"]
    assert user.count("[REDACTED:github-token#1]") == 2
    assert TOKEN not in user
