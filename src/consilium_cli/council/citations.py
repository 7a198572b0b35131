"""Knowledge passages for each agent, and checking what the agents cite.

Each agent gets its own role's top passages in its part of the prompt and cites them as
`[kb:ID]`. A citation of a passage the agent was not given is kept in the text but
flagged, never shown as a real source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Room for each agent's passages in its own part of the prompt.
PASSAGE_CHARS_PER_AGENT = 900


@dataclass(frozen=True)
class Citation:
    id: str
    valid: bool
    title: str = ""
    source_file: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "valid": self.valid, "title": self.title,
                "source": self.source_file}


def check_citations(text: str, given: Sequence[Any]) -> tuple[Citation, ...]:
    """Every `[kb:ID]` in `text`, marked valid only when that passage was given."""
    from consilium_cli.kb.retrieve import find_citations

    by_id = {p.id: p for p in given}
    out = []
    for cited in find_citations(text):
        passage = by_id.get(cited)
        out.append(Citation(cited, passage is not None,
                            passage.title if passage else "",
                            passage.source_file if passage else ""))
    return tuple(out)


def passages_for_roles(roles: Sequence[str], query: str, loaded: Any) -> dict[str, list[Any]]:
    """Each role's top passages for the task ({} for every role when there is no index)."""
    from consilium_cli.kb.retrieve import knowledge_base, retrieve_for_role

    k = loaded.settings.kb.top_k
    try:
        return {role: retrieve_for_role(role, query, k, loaded) for role in roles}
    finally:
        # The embedding model is only needed for the query; free it before the chat model
        # loads, so a council does not hold both.
        knowledge_base(loaded).close()


def prompt_sections(passages: Mapping[str, Sequence[Any]]) -> dict[str, str]:
    from consilium_cli.kb.retrieve import format_for_prompt

    return {role: format_for_prompt(list(items), PASSAGE_CHARS_PER_AGENT)
            for role, items in passages.items() if items}
