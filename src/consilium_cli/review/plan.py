"""Which agents review which hunks, in groups that fit the context.

1. Files that cannot or need not be read are set aside and listed (binary, generated,
   lock files, a diff over the per-file limit): nothing is dropped silently.
2. Every hunk is routed by the council's router (its path and its changed text); dev
   reviews everything; qa joins code changed without tests; architect joins when a
   change spans modules.
3. Hunks are widened with surrounding lines from the working tree (only when the file
   there still matches the hunk) and packed, in file order, into groups whose text fits
   the context next to every agent's own prompt and answer. A hunk larger than a group
   is cut into pieces.

Each group's text is what every agent of that group sees first, so the engine evaluates
it once for all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol

from consilium_cli.review.diff import Diff, DiffLine, FileDiff, Hunk
from consilium_cli.ui.safe_text import clean

TokenCounter = Callable[[str], int]
# A group smaller than this is not worth a call: fewer agents share the call instead.
MIN_GROUP_TOKENS = 512
Reasons = dict[str, tuple[str, ...]]

LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock", "cargo.lock", "go.sum",
    "composer.lock", "gemfile.lock", "podfile.lock", "packages.lock.json", "flake.lock",
    "mix.lock", "pubspec.lock", "gradle.lockfile", "conda-lock.yml",
})
_GENERATED_PATH = re.compile(
    r"(\.min\.(js|css)$|\.map$|_pb2(_grpc)?\.pyi?$|\.pb\.(go|cc|h)$|\.generated\.|"
    r"(^|/)(dist|vendor|node_modules|__generated__|third_party)/)", re.IGNORECASE)
_GENERATED_MARK = re.compile(r"(@generated|code generated .* do not edit|"
                             r"auto-?generated|do not edit(?: this file)?[.!]?$)",
                             re.IGNORECASE)


class Router(Protocol):
    """The council router's interface used here (council/router.py)."""

    def roles_for_path(self, path: str) -> Mapping[str, Any]: ...

    def roles_for_paths(self, paths: Sequence[str]) -> Mapping[str, Any]: ...

    def roles_for_text(self, text: str) -> Mapping[str, Any]: ...


def default_router() -> Router:
    from consilium_cli.council import router

    return router  # the module provides the three functions


@dataclass(frozen=True)
class PlanConfig:
    n_ctx: int
    # Tokens every agent adds to the shared text: its own instruction and its answer.
    per_agent_tokens: int
    # Agents decoded together in one engine call (engine.config.n_seq_max - 1).
    batch_width: int = 6
    context_lines: int = 8
    max_file_bytes: int = 256_000
    # Template, preamble and format rules around the group text, plus a safety margin.
    overhead_tokens: int = 400

    def room(self, agents: int) -> int:
        """Tokens left for a group's text next to `agents` agents in one call."""
        return self.n_ctx - self.overhead_tokens - agents * self.per_agent_tokens

    def width(self, agents: int) -> int:
        """Agents per call for a group that `agents` review: at most a batch, and fewer
        when the context is too small for a whole batch next to a useful group."""
        fitting = max(1, (self.n_ctx - self.overhead_tokens - MIN_GROUP_TOKENS)
                      // max(1, self.per_agent_tokens))
        return max(1, min(agents, self.batch_width, fitting))

    def budget(self, agents: int) -> int:
        """Largest group text for a group reviewed by `agents` agents."""
        return self.room(self.width(agents))

    def agents_per_call(self, group_tokens: int) -> int:
        """Agents one engine call can take next to a group of `group_tokens`."""
        fit = (self.n_ctx - self.overhead_tokens - group_tokens) // max(1, self.per_agent_tokens)
        return max(1, min(self.batch_width, fit))


@dataclass(frozen=True)
class ReviewItem:
    """One hunk (or a piece of one) of one file, as shown to the agents."""

    path: str
    text: str
    tokens: int
    roles: Reasons
    hunk: Hunk | None = None


@dataclass(frozen=True)
class Group:
    index: int
    items: tuple[ReviewItem, ...]
    text: str
    tokens: int
    roles: Reasons

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.path for item in self.items))

    def new_lines(self, path: str) -> frozenset[int]:
        """New-side line numbers of `path` that this group shows."""
        return frozenset(n for item in self.items if item.path == path and item.hunk
                         for n in item.hunk.new_line_numbers())

    def code_at(self, path: str) -> dict[int, str]:
        """New-side text by line number, for showing the code around a finding."""
        return {line.new_no: line.text for item in self.items if item.path == path and item.hunk
                for line in item.hunk.lines if line.new_no is not None}


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class DiffSummary:
    """The facts about a diff that a summary needs (no code)."""

    files: int
    reviewed_files: int
    added: int
    removed: int
    groups: int
    roles: tuple[str, ...]
    skipped: tuple[Skipped, ...]

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "reviewed_files": self.reviewed_files,
                "added": self.added, "removed": self.removed, "groups": self.groups,
                "roles": list(self.roles),
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped]}


@dataclass(frozen=True)
class ReviewPlan:
    diff: Diff
    groups: tuple[Group, ...]
    skipped: tuple[Skipped, ...]
    config: PlanConfig
    roles: Reasons = field(default_factory=dict)

    def summary(self) -> DiffSummary:
        reviewed = {path for g in self.groups for path in g.files}
        return DiffSummary(files=len(self.diff.files), reviewed_files=len(reviewed),
                           added=self.diff.added, removed=self.diff.removed,
                           groups=len(self.groups), roles=tuple(self.roles),
                           skipped=self.skipped)


def _reasons(mapping: Mapping[str, Any]) -> Reasons:
    """Normalise the router's `role -> reasons` (a string or an iterable of them)."""
    out: Reasons = {}
    for role, why in mapping.items():
        items = (why,) if isinstance(why, str) else tuple(str(w) for w in (why or ()))
        out[str(role)] = items
    return out


def _merge(into: Reasons, more: Mapping[str, Iterable[str]]) -> None:
    for role, why in more.items():
        into[role] = tuple(dict.fromkeys((*into.get(role, ()), *why)))


def skip_reason(file: FileDiff, max_file_bytes: int) -> str | None:
    """Why a file is not given to the agents, or None."""
    name = PurePosixPath(file.path).name.lower()
    if file.binary:
        return "binary file"
    if name in LOCK_FILES:
        return "lock file (generated by a package manager)"
    if _GENERATED_PATH.search(file.path):
        return "generated or vendored file"
    head = [ln.text for h in file.hunks[:1] for ln in h.lines[:5]]
    if any(_GENERATED_MARK.search(text) for text in head):
        return "generated file (marked as generated in its first lines)"
    size = sum(len(ln.text) + 2 for h in file.hunks for ln in h.lines)
    if size > max_file_bytes:
        return (f"its diff is {size // 1000} kB, over the {max_file_bytes // 1000} kB "
                "per-file limit (review.max_file_kb)")
    return None


def widen(hunk: Hunk, lines: Sequence[str] | None, before: int, after: int) -> Hunk:
    """Add up to `before`/`after` context lines from the working-tree file `lines`, but
    only when the file there still has the hunk's new side at the same place."""
    if lines is None or hunk.parents != 1 or (before <= 0 and after <= 0) or hunk.new_len == 0:
        return hunk
    for line in hunk.lines:
        if line.new_no is not None and (line.new_no > len(lines) or
                                        lines[line.new_no - 1] != line.text):
            return hunk
    start = max(1, hunk.new_start - before)
    end = min(len(lines), hunk.new_end + after)
    # An empty old side names the line before it ("@@ -3,0 +4,2 @@").
    old_first = hunk.old_start if hunk.old_len else hunk.old_start + 1
    head = [DiffLine("context", lines[n - 1], old_first - (hunk.new_start - n), n)
            for n in range(start, hunk.new_start)]
    shift = old_first + hunk.old_len - (hunk.new_end + 1)
    tail = [DiffLine("context", lines[n - 1], n + shift, n)
            for n in range(hunk.new_end + 1, end + 1)]
    if hunk.lines and hunk.lines[-1].no_newline:
        tail = []
    extra = len(head) + len(tail)
    return Hunk(old_first - len(head), hunk.old_len + extra, start, hunk.new_len + extra,
                hunk.section, (*head, *hunk.lines, *tail), hunk.parents)


def _gaps(hunks: Sequence[Hunk], index: int, context: int) -> tuple[int, int]:
    """Context lines hunk `index` may take before and after without overlapping others."""
    hunk = hunks[index]
    before = after = context
    if index > 0:
        before = min(context, max(0, (hunk.new_start - hunks[index - 1].new_end - 1) // 2))
    if index + 1 < len(hunks):
        after = min(context, max(0, (hunks[index + 1].new_start - hunk.new_end - 1) // 2))
    return before, after


def render_file_header(file: FileDiff) -> str:
    return f"### {clean(file.describe(), show=True)}\n"


def render_hunk(hunk: Hunk) -> str:
    """A hunk as agents see it: added lines carry their new-side number (what findings
    cite); unchanged lines are unnumbered context, as numbers cost tokens on every line."""
    out = [clean(f"{hunk.header()} {hunk.section}".rstrip(), show=True)]
    for line in hunk.lines:
        text = clean(line.text, show=True)
        if line.kind == "added":
            out.append(f"{line.new_no:>5} + {text}")
        elif line.kind == "removed":
            out.append(f"      - {text}")
        else:
            out.append(f"        {text}")
    return "\n".join(out) + "\n"


def split_hunk(hunk: Hunk, max_lines: int) -> list[Hunk]:
    """Cut a hunk into consecutive pieces of at most `max_lines` lines."""
    if len(hunk.lines) <= max_lines:
        return [hunk]
    pieces: list[Hunk] = []
    for lo in range(0, len(hunk.lines), max_lines):
        chunk = hunk.lines[lo:lo + max_lines]
        new_nos = [ln.new_no for ln in chunk if ln.new_no is not None]
        old_nos = [ln.old_no for ln in chunk if ln.old_no is not None]
        new_start = new_nos[0] if new_nos else _next_new(hunk, lo)
        old_start = old_nos[0] if old_nos else hunk.old_start
        pieces.append(Hunk(old_start, len(old_nos), new_start, len(new_nos),
                           hunk.section, tuple(chunk), hunk.parents))
    return pieces


def _next_new(hunk: Hunk, index: int) -> int:
    for line in hunk.lines[index:]:
        if line.new_no is not None:
            return line.new_no
    return hunk.new_start + hunk.new_len


def _file_items(file: FileDiff, router: Router, count: TokenCounter, *,
                worktree: Callable[[str], Sequence[str] | None], config: PlanConfig,
                max_item_tokens: int) -> list[ReviewItem]:
    path = file.path
    path_roles = _reasons(router.roles_for_path(path))
    header = render_file_header(file)
    if not file.hunks or file.status == "deleted":
        # Nothing on the new side to cite: the agents see what happened to the file.
        note = f"  ({file.removed} lines removed)\n" if file.status == "deleted" else ""
        text = header + note
        roles = dict(path_roles)
        if file.status == "deleted":
            _merge(roles, _reasons(router.roles_for_text(
                "\n".join(ln.text for h in file.hunks for ln in h.lines))))
        return [ReviewItem(path, text, count(text), roles)]
    lines = worktree(path) if config.context_lines > 0 else None
    items: list[ReviewItem] = []
    for index, raw in enumerate(file.hunks):
        before, after = _gaps(file.hunks, index, config.context_lines)
        hunk = widen(raw, lines, before, after)
        roles = dict(path_roles)
        _merge(roles, _reasons(router.roles_for_text(raw.changed_text())))
        for piece in _fit(hunk, count, max_item_tokens - count(header)):
            text = (header if not items else "") + render_hunk(piece)
            tokens = count(text)
            if tokens > max_item_tokens:
                raise _TooLong(f"a line of it alone is larger than a group ({tokens} tokens "
                               f"for {max_item_tokens}); raise --ctx to review it")
            items.append(ReviewItem(path, text, tokens, roles, piece))
    return items


class _TooLong(Exception):
    pass


def _fit(hunk: Hunk, count: TokenCounter, budget: int) -> list[Hunk]:
    """Split a hunk until every piece's rendering fits `budget` tokens."""
    if count(render_hunk(hunk)) <= budget or len(hunk.lines) <= 1:
        return [hunk]
    half = max(1, len(hunk.lines) // 2)
    return [p for piece in split_hunk(hunk, half) for p in _fit(piece, count, budget)]


def _diff_level_roles(files: Sequence[FileDiff], router: Router) -> Reasons:
    """Roles the diff as a whole calls for: qa when code changes and no test does;
    architect when the router finds the changed code spread over several modules."""
    per_path = {f.path: _reasons(router.roles_for_path(f.path)) for f in files}
    out: Reasons = {}
    changes_code = any("dev" in roles for roles in per_path.values())
    touches_tests = any("qa" in roles for roles in per_path.values())
    if changes_code and not touches_tests:
        out["qa"] = ("code changed without a change to its tests",)
    own = {why for roles in per_path.values() for why in roles.get("architect", ())}
    spread = [why for why in _reasons(router.roles_for_paths(list(per_path))).get("architect", ())
              if why not in own]
    if spread:
        out["architect"] = tuple(spread)
    return out


def build_plan(diff: Diff, *, count: TokenCounter, config: PlanConfig,
               router: Router | None = None,
               worktree: Callable[[str], Sequence[str] | None] = lambda _p: None,
               agents: Sequence[str] | None = None) -> ReviewPlan:
    """Route every hunk, set aside what is not reviewed, and pack groups to the budget.

    `agents` fixes the roles (each reviews every group); otherwise the router decides."""
    from consilium_cli.errors import UsageError

    router = router or default_router()
    skipped: list[Skipped] = []
    reviewed: list[FileDiff] = []
    for file in diff.files:
        reason = skip_reason(file, config.max_file_bytes)
        if reason:
            skipped.append(Skipped(file.path, reason))
        else:
            reviewed.append(file)

    from consilium_cli.council.roles import ROLES

    if config.room(1) < 256:
        raise UsageError(
            f"the context ({config.n_ctx} tokens) leaves {max(0, config.room(1))} tokens for "
            "the diff next to an agent's prompt and answer",
            hint="raise --ctx (e.g. --ctx 8192), or lower review.max_tokens")
    # Any piece must fit any group, even one that every agent reviews.
    budget = config.budget(len(agents) if agents else len(ROLES))
    items: list[ReviewItem] = []
    for file in list(reviewed):
        try:
            items.extend(_file_items(file, router, count, worktree=worktree, config=config,
                                     max_item_tokens=budget))
        except _TooLong as exc:
            skipped.append(Skipped(file.path, str(exc)))
            reviewed.remove(file)

    diff_level = _diff_level_roles(reviewed, router)
    groups = _pack(items, config, diff_level, agents, count)
    roles: Reasons = {}
    for group in groups:
        _merge(roles, group.roles)
    return ReviewPlan(diff, tuple(groups), tuple(skipped), config, roles)


def _group_roles(items: Sequence[ReviewItem], diff_level: Reasons,
                 agents: Sequence[str] | None) -> Reasons:
    if agents:
        return {role: ("chosen with --agents",) for role in agents}
    roles: Reasons = {"dev": ("dev reviews every change",)}
    for item in items:
        _merge(roles, item.roles)
        if "dev" in item.roles:  # the router marks code files for dev
            _merge(roles, diff_level)
    return roles


def _pack(items: Sequence[ReviewItem], config: PlanConfig, diff_level: Reasons,
          agents: Sequence[str] | None, count: TokenCounter) -> list[Group]:
    """Fill groups in order; a group closes when the next item would not fit next to the
    agents that the group (with that item) calls for."""
    groups: list[Group] = []
    current: list[ReviewItem] = []
    used = 0

    def close() -> None:
        if current:
            text = "".join(item.text for item in current)
            groups.append(Group(len(groups), tuple(current), text, used,
                                _ordered(_group_roles(current, diff_level, agents))))

    for item in items:
        if current:
            roles = _group_roles([*current, item], diff_level, agents)
            if used + item.tokens > config.budget(len(roles)):
                close()
                current, used = [], 0
        if not current and not item.text.startswith("### "):
            # A group that starts in the middle of a file repeats the file's header.
            header = f"### {clean(item.path, show=True)} (continued)\n"
            item = ReviewItem(item.path, header + item.text, item.tokens + count(header),
                              item.roles, item.hunk)
        current.append(item)
        used += item.tokens
    close()
    return groups


def _ordered(roles: Reasons) -> Reasons:
    from consilium_cli.council.roles import ROLES

    rank = {name: i for i, name in enumerate(ROLES)}
    return dict(sorted(roles.items(), key=lambda kv: rank.get(kv[0], len(rank))))
