"""The review's summary verdict by the remote Director, with the local one as fallback.

The Director sees the findings and the facts about the diff (no code), redacted; it may
only order the findings and write the summary, so it cannot change the exit code. When it
fails, the local summarizer writes the verdict and `Verdict.by` says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from consilium_cli.config import Settings
from consilium_cli.review.findings import Finding, by_severity
from consilium_cli.review.plan import DiffSummary
from consilium_cli.review.verdict import (
    MAX_RANKED,
    SUMMARY_CHARS,
    Summarizer,
    Verdict,
    rank_shown,
    summary_messages,
    unranked,
)

RequestLog = Callable[[dict[str, Any], str, Any], None]


def _schema() -> dict[str, Any]:
    return {"type": "object",
            "properties": {"summary": {"type": "string"},
                           "ranking": {"type": "array", "items": {"type": "integer"}}},
            "required": ["summary", "ranking"], "additionalProperties": False}


def _strict_parse(raw: str) -> tuple[str, list[int]]:
    """A verdict or ValueError; a remote answer off the schema is a failure."""
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str) \
            or not isinstance(data.get("ranking"), list):
        raise ValueError("not a {summary, ranking} object")
    return data["summary"].strip(), data["ranking"]


def remote_summarizer(settings: Settings, fallback: Summarizer | None, *,
                      repo_root: Path | None, log: RequestLog | None = None,
                      on_status: Callable[[str], None] | None = None) -> Summarizer:
    """A Summarizer that asks the remote Director, falling back to `fallback`."""
    from consilium_cli.council.redact import RedactionRules, Redactor
    from consilium_cli.errors import RemoteError
    from consilium_cli.llm.openai_compat import (
        OpenAICompatClient,
        RemoteConfig,
        RemoteFailure,
        chat_body,
    )
    from consilium_cli.ui.safe_text import clean

    config = RemoteConfig.from_settings(settings.director)

    def fall_back(reason: str, findings: Sequence[Finding], diff: DiffSummary) -> Verdict:
        if fallback is None:
            raise RemoteError(f"the remote Director failed: {reason}",
                              hint="drop --no-fallback to let the local model summarise")
        verdict = fallback(findings, diff)
        return replace(verdict, by=f"{verdict.by or 'local'} (remote failed: {reason})")

    def summarize(findings: Sequence[Finding], diff: DiffSummary) -> Verdict:
        if not findings:
            return unranked(findings)
        if not config.api_key:
            return fall_back("no API key", findings, diff)
        ordered = by_severity(findings)
        shown = ordered[:MAX_RANKED]
        redactor = Redactor(RedactionRules.from_settings(settings.redact), repo_root=repo_root)
        messages = summary_messages(shown, diff)
        redacted = redactor.redact_all([m.content for m in messages])
        body = chat_body(config.model, [{"role": m.role, "content": r.text}
                                        for m, r in zip(messages, redacted)],
                         _schema(), schema_name="review_verdict")
        try:
            with OpenAICompatClient(config) as client:
                result = client.stream_chat(body, on_delta=lambda _t: None, on_retry=on_status)
        except RemoteFailure as failure:
            if log is not None:
                log(body, f"failed: {failure.reason}", None)
            return fall_back(failure.reason, findings, diff)
        try:
            summary, ranking = _strict_parse(result.text)
        except ValueError as exc:
            if log is not None:
                log(body, f"failed: malformed answer: {exc}", result)
            return fall_back(f"malformed answer: {exc}", findings, diff)
        if log is not None:
            log(body, "ok", result)
        return Verdict(rank_shown(ordered, ranking), clean(summary)[:SUMMARY_CHARS],
                       f"director {config.model}")

    return summarize
