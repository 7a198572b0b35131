"""One error hierarchy for consilium; the CLI maps each error to its exit code.

    ConsiliumError                 (message, hint, exit_code)
    ├── UsageError                 2   bad input or usage
    │   ├── ConfigError            2   a settings file or value is wrong
    │   └── NoTTYError             2   an approval is needed but there is no terminal
    ├── ModelError                 3   model missing or failed to load
    │   ├── ModelNotFoundError     3
    │   ├── ModelInvalidError      3   not GGUF, truncated, unsupported architecture
    │   └── EngineError            3   llama.cpp failed while running
    ├── RemoteError                4   the remote Director failed and no fallback is allowed
    ├── DeclinedError              5   the user declined every proposed action
    └── InterruptedByUser          130 Ctrl-C

Dependencies' exceptions are translated into these at one boundary per dependency
(for example `llm.llamacpp` for llama_cpp), always with `raise ... from exc`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    MODEL = 3
    REMOTE = 4
    DECLINED = 5
    INTERRUPTED = 130


class ConsiliumError(Exception):
    """Base error: a user-facing message, a hint that fixes it, and an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ConsiliumError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A settings file or value is wrong; the message names the file and key."""


class NoTTYError(UsageError):
    """An approval is needed but nobody can answer it."""


class ModelError(ConsiliumError):
    exit_code = ExitCode.MODEL


class ModelNotFoundError(ModelError):
    pass


class ModelInvalidError(ModelError):
    pass


class EngineError(ModelError):
    """llama.cpp failed to create a context, decode or sample."""


class RemoteError(ConsiliumError):
    exit_code = ExitCode.REMOTE


class DeclinedError(ConsiliumError):
    exit_code = ExitCode.DECLINED


class InterruptedByUser(ConsiliumError):
    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str = "interrupted", hint: str = "") -> None:
        super().__init__(message, hint)
