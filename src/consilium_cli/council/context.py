"""What the council knows besides the task: named files, piped text, repository facts.

Everything is fitted into a token budget; what does not fit is cut at line boundaries and
reported, never dropped silently.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from consilium_cli.errors import ConsiliumError, UsageError
from consilium_cli.gitsafe import git_read, repo_root, split_z

MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ContextFile:
    path: str
    text: str
    lines: int
    cut_from_line: int | None = None


@dataclass(frozen=True)
class RepoFacts:
    root: str
    branch: str
    changed: tuple[str, ...]
    recent_commits: tuple[str, ...]

    def render(self) -> str:
        lines = [f"Repository: {Path(self.root).name} (branch {self.branch or 'detached'})"]
        if self.changed:
            shown = ", ".join(self.changed[:20])
            more = f" and {len(self.changed) - 20} more" if len(self.changed) > 20 else ""
            lines.append(f"Changed files: {shown}{more}")
        if self.recent_commits:
            lines.append("Recent commits: " + "; ".join(self.recent_commits))
        return "\n".join(lines)


@dataclass
class Context:
    task: str
    files: list[ContextFile] = field(default_factory=list)
    stdin_text: str = ""
    repo: RepoFacts | None = None
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The shared part of every agent's prompt (task first)."""
        parts = [f"## Task\n{self.task.strip()}"]
        if self.repo:
            parts.append("## Repository\n" + self.repo.render())
        if self.stdin_text:
            parts.append("## Input\n" + self.stdin_text)
        for item in self.files:
            note = (f" (cut after line {item.cut_from_line - 1} of {item.lines})"
                    if item.cut_from_line else "")
            parts.append(f"## File {item.path}{note}\n```\n{item.text}\n```")
        return "\n\n".join(parts)

    def summary_text(self, stdin_chars: int = 2000) -> str:
        """What the remote Director gets about the context: facts and names, not files."""
        lines = []
        if self.repo:
            lines.append(self.repo.render())
        for item in self.files:
            lines.append(f"File given to the council: {item.path} ({item.lines} lines)")
        if self.stdin_text:
            excerpt = self.stdin_text[:stdin_chars]
            more = (f"\n[… {len(self.stdin_text) - stdin_chars} more characters]"
                    if len(self.stdin_text) > stdin_chars else "")
            lines.append(f"Piped input:\n{excerpt}{more}")
        lines.extend(self.notes)
        return "\n".join(lines)

    def summary(self) -> dict[str, object]:
        return {
            "files": [f.path for f in self.files],
            "stdin_chars": len(self.stdin_text),
            "repository": self.repo.render() if self.repo else None,
            "cut": list(self.notes),
        }


def expand_file_args(patterns: Sequence[str], cwd: Path) -> list[Path]:
    """`-f` values: paths or globs (recursive `**`), each must match something."""
    found: list[Path] = []
    for pattern in patterns:
        base = Path(pattern).expanduser()
        if not base.is_absolute():
            base = cwd / base
        if any(ch in pattern for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(str(base), recursive=True))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                raise UsageError(f"--file {pattern!r} matches no file")
            found.extend(matches)
        else:
            if base.is_dir():
                raise UsageError(f"--file {pattern!r} is a directory",
                                 hint=f"use a glob: --file '{pattern}/**/*.py'")
            if not base.exists():
                raise UsageError(f"--file {pattern!r} does not exist")
            found.append(base)
    return list(dict.fromkeys(found))


def read_text_file(path: Path) -> str:
    """A file's text; binary or oversized files are a usage error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"{path} is {size:,} bytes; the limit for --file is "
                             f"{MAX_FILE_BYTES:,}", hint="pass a smaller file or a part of it")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if b"\0" in data[:8192]:
        raise UsageError(f"{path} is a binary file", hint="pass text files with --file")
    return data.decode("utf-8", errors="replace")


def repo_facts(cwd: Path) -> RepoFacts | None:
    """Branch, changed files and recent commit subjects; None outside a repository."""
    root = repo_root(cwd)
    if root is None:
        return None
    try:
        branch = git_read(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    except ConsiliumError:
        branch = ""  # a repository without commits
    try:
        status = git_read(root, "status", "--porcelain=v1", "-z", "--untracked-files=normal")
        changed = tuple(entry[3:] for entry in split_z(status) if len(entry) > 3)
        log = git_read(root, "log", "-n", "5", "--format=%s") if branch else ""
    except ConsiliumError:
        return RepoFacts(str(root), branch, (), ())
    commits = tuple(line for line in log.splitlines() if line.strip())
    return RepoFacts(str(root), branch if branch != "HEAD" else "", changed, commits)


def fit_to_budget(context: Context, budget_tokens: int,
                  count_tokens: Callable[[str], int]) -> Context:
    """Cut files (last first, at line boundaries) until the rendered context fits."""
    if count_tokens(context.render()) <= budget_tokens:
        return context
    files = list(context.files)
    notes = list(context.notes)
    for index in range(len(files) - 1, -1, -1):
        item = files[index]
        lines = item.text.splitlines()
        lo, hi = 0, len(lines)
        while lo < hi:  # the most lines of this file that still fit
            mid = (lo + hi + 1) // 2
            files[index] = ContextFile(item.path, "\n".join(lines[:mid]), item.lines, mid + 1)
            trial = Context(context.task, files, context.stdin_text, context.repo, notes)
            if count_tokens(trial.render()) <= budget_tokens:
                lo = mid
            else:
                hi = mid - 1
        if lo == len(lines):
            files[index] = item
            break
        if lo == 0:
            notes.append(f"{item.path}: left out entirely (did not fit in the context)")
            files.pop(index)
        else:
            files[index] = ContextFile(item.path, "\n".join(lines[:lo]), item.lines, lo + 1)
            notes.append(f"{item.path}: lines {lo + 1}-{len(lines)} cut (did not fit)")
        trial = Context(context.task, files, context.stdin_text, context.repo, notes)
        if count_tokens(trial.render()) <= budget_tokens:
            return trial
    result = Context(context.task, files, context.stdin_text, context.repo, notes)
    if count_tokens(result.render()) > budget_tokens:
        raise UsageError(
            f"the task and piped input alone need more than the {budget_tokens} tokens "
            "available for context",
            hint="raise --ctx, lower --max-tokens or --agents, or shorten the input")
    return result


def build_context(task: str, *, files: Sequence[str] = (), stdin_text: str = "",
                  cwd: Path, with_repo: bool = True) -> Context:
    if not task.strip():
        raise UsageError("the task is empty", hint='consilium ask "what should I do about …"')
    paths = expand_file_args(files, cwd)
    items = []
    for path in paths:
        text = read_text_file(path)
        try:
            shown = str(path.relative_to(cwd))
        except ValueError:
            shown = str(path)
        items.append(ContextFile(shown, text, len(text.splitlines())))
    return Context(task=task, files=items, stdin_text=stdin_text,
                   repo=repo_facts(cwd) if with_repo else None)
