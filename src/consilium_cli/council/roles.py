"""The council's roles and prompts, loaded from package data (`council/prompts/*.toml`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from consilium_cli.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROLES: tuple[str, ...] = ("dev", "security", "qa", "architect", "ux", "seo")


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    focus: str
    debate: str
    review: str


@dataclass(frozen=True)
class CouncilPrompts:
    system: str
    round1: str
    round2: str
    round2_role: str
    transcript_header: str
    director: str


def _load(name: str) -> dict[str, Any]:
    from importlib import resources

    text = resources.files("consilium_cli.council").joinpath(f"prompts/{name}.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


@cache
def get_role(name: str) -> Role:
    if name not in ROLES:
        raise UsageError(f"unknown role {name!r}", hint=f"valid roles: {', '.join(ROLES)}")
    data = _load(name)
    return Role(name=name, title=data["title"], focus=data["focus"],
                debate=data["debate"].strip(), review=data["review"].strip())


@cache
def council_prompts() -> CouncilPrompts:
    data = _load("council")
    return CouncilPrompts(**{key: str(data[key]).strip() for key in
                             ("system", "round1", "round2", "round2_role", "transcript_header",
                              "director")})


def parse_roles(value: str | None) -> list[str] | None:
    """`--agents dev,security` -> ["dev", "security"]; unknown names are a usage error."""
    if value is None:
        return None
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in ROLES]
    if unknown or not names:
        raise UsageError(f"unknown role(s) in --agents: {', '.join(unknown) or '(none given)'}",
                         hint=f"valid roles: {', '.join(ROLES)}")
    return list(dict.fromkeys(names))
