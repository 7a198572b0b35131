"""The review's summary by the remote Director (loopback server), with the local fallback."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from consilium_cli.config import Settings
from consilium_cli.errors import RemoteError
from consilium_cli.review.findings import Finding
from consilium_cli.review.plan import DiffSummary
from consilium_cli.review.remote_verdict import remote_summarizer
from consilium_cli.review.verdict import Verdict
from tests.support.openai_server import serve_openai

SECRET = "ghp_q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8"
FINDINGS = [
    Finding("app/db.py", 12, "medium", ("dev",), "Unclosed cursor", "leaks a cursor"),
    Finding("app/auth.py", 3, "high", ("security",), "Token in code",
            f"the token {SECRET} is committed"),
]
DIFF = DiffSummary(files=2, reviewed_files=2, added=10, removed=2, groups=1,
                   roles=("dev", "security"), skipped=())


def settings(url: str, key: str = "sk-test") -> Settings:
    base = Settings()
    return replace(base, director=replace(base.director, api_key=key, base_url=url,
                                          timeout_s=2.0, deadline_s=6.0))


def local(findings: object, diff: object) -> Verdict:
    return Verdict(tuple(FINDINGS), "local summary", "local model tiny")


def test_remote_ranking_and_summary_without_sending_secrets() -> None:
    answer = json.dumps({"summary": "Fix the committed token first.", "ranking": [1, 2]})
    logged: list[str] = []
    with serve_openai(["ok"], content=answer) as server:
        verdict = remote_summarizer(settings(server.url), local, repo_root=None,
                                    log=lambda body, outcome, result: logged.append(outcome)
                                    )(FINDINGS, DIFF)
    assert verdict.by == "director gpt-5.2"
    assert verdict.summary == "Fix the committed token first."
    assert [f.title for f in verdict.findings][:2] == ["Token in code", "Unclosed cursor"]
    assert SECRET.encode() not in server.bodies[0]
    assert logged == ["ok"]


@pytest.mark.parametrize("behaviour,reason", [("401", "401"), ("malformed", "malformed"),
                                              ("offschema", "malformed")])
def test_failures_fall_back_to_the_local_summary(behaviour: str, reason: str) -> None:
    with serve_openai([behaviour]) as server:
        verdict = remote_summarizer(settings(server.url), local, repo_root=None)(FINDINGS, DIFF)
    assert verdict.summary == "local summary"
    assert verdict.by.startswith("local model tiny (remote failed: ")
    assert reason in verdict.by


def test_no_key_falls_back_and_sends_nothing() -> None:
    with serve_openai(["ok"]) as server:
        verdict = remote_summarizer(settings(server.url, key=""), local,
                                    repo_root=None)(FINDINGS, DIFF)
    assert server.bodies == []
    assert "no API key" in verdict.by


def test_no_fallback_is_a_remote_error() -> None:
    with serve_openai(["401"]) as server, pytest.raises(RemoteError):
        remote_summarizer(settings(server.url), None, repo_root=None)(FINDINGS, DIFF)
