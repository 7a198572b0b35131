"""The Redactor: one payload's placeholders, numbered per kind, and their restoration.

It runs every detector (`detect.py`), the user's `redact.extra_patterns` (kind `custom`) and
the path rule (`paths.py`), drops `redact.allow` values, and hides every other occurrence of
a value found by its context (8+ characters, not only letters) anywhere in the payload, so
a password found in `.env` is also hidden in a log line. Overlaps are resolved by priority
(`resolve.py`). Placeholders written in the input are kept and never restored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from consilium_cli.council.redaction.detect import find_secrets
from consilium_cli.council.redaction.paths import PathRule
from consilium_cli.council.redaction.resolve import resolve
from consilium_cli.council.redaction.spans import (
    P_KNOWN,
    P_RESERVED,
    P_TOKEN,
    PLACEHOLDER,
    PROPAGATED_KINDS,
    Span,
)
from consilium_cli.council.redaction.values import propagates
from consilium_cli.errors import ConfigError

if TYPE_CHECKING:
    from consilium_cli.config import RedactSettings

# Propagating a found value costs one scan of the text, so the work is bounded for very
# large texts (a Director payload is far below the bound).
_PROPAGATION_BUDGET = 150_000_000


@dataclass(frozen=True)
class RedactionRules:
    """What the user's settings add: extra patterns (kind `custom`) and allowed values."""

    extra_patterns: tuple[re.Pattern[str], ...] = ()
    allow: frozenset[str] = frozenset()
    mask_paths: bool = True
    # Top-level directories that make a path a filesystem path; None: well-known roots
    # and the top-level directories of this machine.
    path_roots: frozenset[str] | None = None

    @classmethod
    def build(cls, extra_patterns: Iterable[str] = (), allow: Iterable[str] = (), *,
              mask_paths: bool = True,
              path_roots: Iterable[str] | None = None) -> RedactionRules:
        compiled = []
        for pattern in extra_patterns:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise ConfigError(
                    f"redact.extra_patterns: {pattern!r} is not a valid regular expression "
                    f"({exc})", hint="fix or remove it: consilium config path") from exc
        return cls(tuple(compiled), frozenset(v for v in allow if v), mask_paths,
                   None if path_roots is None else frozenset(path_roots))

    @classmethod
    def from_settings(cls, settings: RedactSettings) -> RedactionRules:
        return cls.build(settings.extra_patterns, settings.allow)


@dataclass(frozen=True)
class Redacted:
    """Redacted text, how many values of each kind were replaced, and (in memory only)
    the placeholder -> original value map for this text."""

    text: str
    replaced: dict[str, int]
    mapping: dict[str, str] = field(repr=False)

    @property
    def total(self) -> int:
        return sum(self.replaced.values())


class Redactor:
    """Redacts the texts of one payload with consistent placeholders, and restores them."""

    def __init__(self, rules: RedactionRules | None = None, *, repo_root: Path | None = None,
                 home: Path | None = None) -> None:
        self.rules = rules or RedactionRules()
        self._paths = PathRule(repo_root, home, self.rules.path_roots)
        self._by_value: dict[str, str] = {}
        self._values: dict[str, str] = {}
        self._kind_of: dict[str, str] = {}
        self._counters: Counter[str] = Counter()
        self._foreign: set[str] = set()
        self._ambiguous: set[str] = set()
        self.summary: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} placeholders)"

    # -- public ---------------------------------------------------------------------

    def redact(self, text: str) -> Redacted:
        """Redact one text of the payload."""
        candidates = self._detect(text)
        self._learn(text, candidates)
        return self._apply(text, candidates)

    def redact_all(self, texts: Sequence[str]) -> list[Redacted]:
        """Redact several texts: a value found in any of them is hidden in all of them."""
        detected = [self._detect(text) for text in texts]
        for text, candidates in zip(texts, detected):
            self._learn(text, candidates)
            self._note_foreign(text)
        return [self._apply(text, cands) for text, cands in zip(texts, detected)]

    @property
    def mapping(self) -> dict[str, str]:
        """Placeholder -> original value for everything redacted so far (memory only)."""
        return dict(self._values)

    def restore(self, text: str) -> str:
        """Put the original values back in place of this payload's placeholders."""
        def put_back(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in self._ambiguous:
                return token
            return self._values.get(token, token)

        return PLACEHOLDER.sub(put_back, text)

    def unrestorable(self, text: str) -> list[str]:
        """Placeholders in `text` that `restore()` cannot turn back into a value."""
        seen: dict[str, None] = {}
        for match in PLACEHOLDER.finditer(text):
            token = match.group(0)
            if token not in self._values or token in self._ambiguous:
                seen[token] = None
        return list(seen)

    # -- detection --------------------------------------------------------------------

    def _detect(self, text: str) -> list[Span]:
        spans = find_secrets(text)
        if "[REDACTED:" in text:  # placeholders already there are kept as they are
            spans += [Span(m.start(), m.end(), "", P_RESERVED) for m in PLACEHOLDER.finditer(text)]
        spans += self._custom(text)
        if self.rules.mask_paths:
            spans += self._paths.find(text)
        allow = self.rules.allow
        if allow:
            spans = [s for s in spans if not s.kind or text[s.start:s.end] not in allow]
        return spans

    def _custom(self, text: str) -> list[Span]:
        spans = []
        for pattern in self.rules.extra_patterns:
            group: int | str = 0
            if "secret" in pattern.groupindex:
                group = "secret"
            elif pattern.groups:
                group = 1
            for match in pattern.finditer(text):
                start, end = match.span(group)
                if end > start >= 0:
                    spans.append(Span(start, end, "custom", P_TOKEN))
        return spans

    # -- placeholders -----------------------------------------------------------------

    def _learn(self, text: str, candidates: list[Span]) -> None:
        """Remember found values so that other occurrences in the payload are hidden."""
        for span in candidates:
            if span.kind in PROPAGATED_KINDS:
                value = text[span.start:span.end]
                if propagates(value):
                    self._kind_of.setdefault(value, span.kind)

    def _known_spans(self, text: str) -> list[Span]:
        spans: list[Span] = []
        budget = _PROPAGATION_BUDGET
        allow = self.rules.allow
        for value, kind in self._kind_of.items():
            budget -= len(text)
            if budget < 0:
                break
            if value in allow:
                continue
            pos = text.find(value)
            while pos >= 0:
                spans.append(Span(pos, pos + len(value), kind, P_KNOWN))
                pos = text.find(value, pos + len(value))
        return spans

    def _placeholder(self, kind: str, value: str) -> str:
        token = self._by_value.get(value)
        if token is None:
            while True:
                self._counters[kind] += 1
                token = f"[REDACTED:{kind}#{self._counters[kind]}]"
                if token not in self._foreign:
                    break
            self._by_value[value] = token
            self._values[token] = value
        return token

    def _note_foreign(self, text: str) -> None:
        """Placeholders written in the input: never assigned, never restored."""
        for match in PLACEHOLDER.finditer(text) if "[REDACTED:" in text else ():
            token = match.group(0)
            self._foreign.add(token)
            if token in self._values:
                self._ambiguous.add(token)

    def _apply(self, text: str, candidates: list[Span]) -> Redacted:
        self._note_foreign(text)
        spans = resolve(text, candidates + self._known_spans(text))
        pieces: list[str] = []
        replaced: Counter[str] = Counter()
        mapping: dict[str, str] = {}
        pos = 0
        for span in spans:
            if not span.kind:
                continue
            pieces.append(text[pos:span.start])
            if span.literal is not None:
                pieces.append(span.literal)
            else:
                token = self._placeholder(span.kind, text[span.start:span.end])
                mapping[token] = self._values[token]
                pieces.append(token)
            replaced[span.kind] += 1
            pos = span.end
        pieces.append(text[pos:])
        self.summary.update(replaced)
        return Redacted("".join(pieces), dict(sorted(replaced.items())), mapping)


def redact(text: str, *, rules: RedactionRules | None = None, repo_root: Path | None = None,
           home: Path | None = None, session: Redactor | None = None) -> Redacted:
    """Redact one text; pass `session` (which has its own rules and roots) to share
    placeholders across a whole payload."""
    redactor = session or Redactor(rules, repo_root=repo_root, home=home)
    return redactor.redact(text)
