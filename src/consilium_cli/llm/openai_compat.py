"""A client for any OpenAI-compatible chat endpoint (OpenAI, llama-server, vLLM, Ollama).

The `openai` package's defaults (a 600 s timeout, retries even on an exhausted quota) would
hang a command-line tool for many minutes, and a 200 answer with an HTML body is not an
error to it. Here timeouts and retries are explicit: one timeout per request, one deadline
for everything, retries only on 429 rate limits, 5xx answers, timeouts and connection
errors, never on 401/403, other 4xx or an exhausted quota. An answer that is not a complete
chat completion is a failure, not a result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from consilium_cli.config import DirectorSettings
from consilium_cli.errors import ConsiliumError, UsageError
from consilium_cli.llm.engine import CancelToken

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class RemoteConfig:
    model: str
    api_key: str
    base_url: str = ""
    timeout_s: float = 60.0
    deadline_s: float = 180.0
    max_retries: int = 2

    @property
    def endpoint(self) -> str:
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    @classmethod
    def from_settings(cls, director: DirectorSettings) -> RemoteConfig:
        return cls(model=director.model, api_key=director.api_key,
                   base_url=director.base_url, timeout_s=director.timeout_s,
                   deadline_s=director.deadline_s, max_retries=director.max_retries)


@dataclass(frozen=True)
class ChatResult:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int


@dataclass
class RemoteFailure(Exception):
    """Why the remote call failed, in one line, and whether trying again could help."""

    reason: str
    retryable: bool = False
    status: int | None = None
    retry_after_s: float | None = None
    attempts: int = 1
    latency_s: float = 0.0
    partial: str = field(default="", repr=False)

    def __str__(self) -> str:
        return self.reason


def validate_base_url(url: str) -> str:
    """An http(s) URL with a host, or a usage error (exit 2)."""
    if not url:
        return url
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"director.base_url {url!r} is not an http(s) URL",
                         hint="for example https://api.openai.com/v1 or http://127.0.0.1:8080/v1")
    return url


def chat_body(model: str, messages: list[dict[str, str]], schema: dict[str, Any] | None,
              *, schema_name: str = "decision") -> dict[str, Any]:
    """The exact JSON body sent to /chat/completions."""
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": True,
                            "stream_options": {"include_usage": True}}
    if schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": schema_name, "strict": True, "schema": schema}}
    return body


@contextmanager
def map_openai_errors() -> Iterator[None]:
    """Translate the openai package's exceptions into RemoteFailure."""
    try:
        yield
    except (ConsiliumError, RemoteFailure):
        raise
    except Exception as exc:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            raise RemoteFailure("timed out", retryable=True) from exc
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            raise RemoteFailure(f"cannot connect ({type(cause).__name__})",
                                retryable=True) from exc
        if isinstance(exc, openai.APIStatusError):
            raise _status_failure(exc) from exc
        if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError,
                            ValueError)):
            raise RemoteFailure(f"the answer is not a chat completion ({exc})") from exc
        if isinstance(exc, openai.OpenAIError):
            raise RemoteFailure(f"{type(exc).__name__}: {exc}") from exc
        raise


def _status_failure(exc: Any) -> RemoteFailure:
    status = int(exc.status_code)
    code = ""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            code = str(error.get("code") or error.get("type") or "")
    retry_after = None
    try:
        header = exc.response.headers.get("retry-after")
        retry_after = float(header) if header else None
    except (AttributeError, ValueError):
        retry_after = None
    if status == 401:
        return RemoteFailure("401 unauthorized: the API key is invalid", status=status)
    if status == 403:
        return RemoteFailure("403 forbidden: the key may not use this model", status=status)
    if status == 429 and "quota" in code:
        return RemoteFailure("429 quota exhausted (insufficient_quota)", status=status)
    if status == 429:
        return RemoteFailure("429 rate limited", retryable=True, status=status,
                             retry_after_s=retry_after)
    if status >= 500:
        return RemoteFailure(f"{status} server error", retryable=True, status=status,
                             retry_after_s=retry_after)
    return RemoteFailure(f"{status} {code or 'error'}", status=status)


class OpenAICompatClient:
    """Streams one chat completion with explicit timeouts, retries and answer checks."""

    def __init__(self, config: RemoteConfig) -> None:
        validate_base_url(config.base_url)
        self.config = config
        self._client: Any = None

    def _openai(self, timeout: float) -> Any:
        if self._client is None:
            try:
                import openai
            except ImportError as exc:
                raise UsageError(f"the openai package is not installed ({exc})",
                                 hint="pip install openai") from exc
            self._client = openai.OpenAI(api_key=self.config.api_key,
                                         base_url=self.config.endpoint,
                                         timeout=timeout, max_retries=0)
        return self._client.with_options(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool (the client can be used again afterwards)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> OpenAICompatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stream_chat(self, body: dict[str, Any], *, on_delta: Callable[[str], None],
                    on_retry: Callable[[str], None] | None = None,
                    cancel: CancelToken | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> ChatResult:
        """Send `body`, streaming text to `on_delta`; raise RemoteFailure when it fails."""
        cfg = self.config
        started = time.monotonic()
        deadline = started + cfg.deadline_s
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RemoteFailure(f"no answer within the {cfg.deadline_s:g} s deadline",
                                    attempts=attempt - 1, latency_s=time.monotonic() - started)
            try:
                result = self._attempt(body, min(cfg.timeout_s, remaining), deadline,
                                       on_delta, cancel)
            except RemoteFailure as failure:
                failure.attempts = attempt
                failure.latency_s = time.monotonic() - started
                if not failure.retryable or attempt > cfg.max_retries:
                    if failure.retryable and attempt > 1:
                        failure.reason += f" (after {attempt} attempts)"
                    raise
                wait = failure.retry_after_s if failure.retry_after_s is not None else \
                    0.5 * 2 ** (attempt - 1)
                wait = min(wait, max(0.0, deadline - time.monotonic()))
                if on_retry is not None:
                    on_retry(f"{failure.reason}; retrying in {wait:.1f} s")
                sleep(wait)
                continue
            return ChatResult(result[0], result[1], result[2], result[3],
                              time.monotonic() - started, attempt)

    def _attempt(self, body: dict[str, Any], timeout: float, deadline: float,
                 on_delta: Callable[[str], None],
                 cancel: CancelToken | None) -> tuple[str, str, int, int]:
        parts: list[str] = []
        finish = ""
        usage: Any = None
        saw_choice = False
        with map_openai_errors():
            kwargs = {k: v for k, v in body.items() if k not in ("model", "messages")}
            stream = self._openai(timeout).chat.completions.create(
                model=body["model"], messages=body["messages"], **kwargs)
            try:
                for chunk in stream:
                    if cancel is not None and cancel.cancelled:
                        raise RemoteFailure("cancelled")
                    if time.monotonic() > deadline:
                        raise RemoteFailure("the answer did not finish before the deadline",
                                            partial="".join(parts))
                    if getattr(chunk, "usage", None) is not None:
                        usage = chunk.usage
                    for choice in chunk.choices or ():
                        saw_choice = True
                        content = getattr(choice.delta, "content", None)
                        if content:
                            parts.append(content)
                            on_delta(content)
                        if choice.finish_reason:
                            finish = choice.finish_reason
            finally:
                stream.close()
        text = "".join(parts)
        if not saw_choice:
            raise RemoteFailure("the answer had no choices (not a chat completion)")
        if finish == "length":
            raise RemoteFailure("the answer was cut off (finish_reason length)", partial=text)
        if finish and finish != "stop":
            raise RemoteFailure(f"the answer ended with finish_reason {finish}", partial=text)
        if not text.strip():
            raise RemoteFailure("the answer was empty")
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return text, finish or "stop", prompt_tokens, completion_tokens
