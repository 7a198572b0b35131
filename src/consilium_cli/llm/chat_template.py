"""Render chat messages with the template stored in the GGUF's metadata.

The template comes from the model file, so it runs in Jinja's immutable sandbox.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from consilium_cli.errors import ModelInvalidError

if TYPE_CHECKING:
    from jinja2 import Template

    from consilium_cli.llm.engine import ChatMessage


def _raise(message: str) -> None:
    raise ValueError(message)


def _now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


@lru_cache(maxsize=8)
def _compile(source: str) -> Template:
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals.update(raise_exception=_raise, strftime_now=_now)
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise ModelInvalidError(f"the model's chat template does not compile: {exc}") from exc


def render_chat(template: str, messages: Sequence[ChatMessage], *, bos_token: str = "",
                eos_token: str = "", add_generation_prompt: bool = True) -> str:
    """The prompt text for `messages`, ending with the assistant header."""
    from jinja2 import TemplateError

    payload: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in messages]
    try:
        return _compile(template).render(
            messages=payload, add_generation_prompt=add_generation_prompt,
            bos_token=bos_token, eos_token=eos_token, tools=None,
        )
    except (TemplateError, ValueError, TypeError) as exc:
        raise ModelInvalidError(f"the model's chat template failed: {exc}") from exc
