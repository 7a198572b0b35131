"""Read a git repository without letting it run its own programs.

A repository is untrusted input: `git status` runs `core.fsmonitor`, hashing a modified
file runs its clean filter, `diff` runs external diff drivers and textconv, `log` can run
`gpg.program`, and output can go through a pager. Every read goes through `git_read()`,
which turns all of those off on the command line (the command line wins over every config
file) and runs git through GitPython.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from consilium_cli.errors import ConsiliumError, UsageError

_ALWAYS_OFF = (
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.untrackedCache=false",
    "diff.external=",
    "log.showSignature=false",
    "status.showStash=false",
    "color.ui=false",
)
# Subcommands that accept the flags that disable diff drivers and textconv.
_DIFF_LIKE = frozenset({"diff", "log", "show", "format-patch"})


def safe_env() -> dict[str, str]:
    """Variables added to git's environment: no pager, no prompts, no optional locks.

    GitPython adds these to the caller's environment (it cannot remove variables); the
    repository's programs are switched off by the command-line options of `git_read()`,
    which win over both configuration and environment (`--no-ext-diff` covers
    GIT_EXTERNAL_DIFF, `--no-pager` covers GIT_PAGER).
    """
    return {"GIT_PAGER": "cat", "PAGER": "cat", "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0"}


@contextmanager
def map_git_errors(what: str) -> Iterator[None]:
    """Translate GitPython's exceptions into consilium errors."""
    try:
        yield
    except ConsiliumError:
        raise
    except ImportError as exc:
        raise UsageError(f"GitPython is not installed ({exc})", hint="pip install gitpython") \
            from exc
    except Exception as exc:
        from git.exc import GitCommandError, GitCommandNotFound, GitError

        if isinstance(exc, GitCommandNotFound):
            raise UsageError("git is not installed", hint="install git") from exc
        if isinstance(exc, GitCommandError):
            detail = (exc.stderr or "").strip().removeprefix("stderr: ").strip("'\n ")
            raise UsageError(f"git failed while {what}: {detail or exc}") from exc
        if isinstance(exc, (GitError, OSError)):
            raise UsageError(f"git failed while {what}: {exc}") from exc
        raise


def _filter_overrides(repo_dir: Path) -> list[str]:
    """`-c filter.X.clean=` (and smudge, process) for every filter the config names."""
    from git import Git

    names: set[str] = set()
    try:
        listing = Git(str(repo_dir)).execute(
            ["git", "config", "--null", "--name-only", "--get-regexp", r"^filter\."],
            env=safe_env(), with_extended_output=False)
    except Exception:  # no filters configured makes `git config` exit 1
        listing = ""
    for key in str(listing).split("\0"):
        parts = key.strip().split(".")
        if len(parts) >= 3:
            names.add(".".join(parts[1:-1]))
    overrides: list[str] = []
    for name in sorted(names):
        for field in ("clean", "smudge", "process"):
            overrides += ["-c", f"filter.{name}.{field}="]
        overrides += ["-c", f"filter.{name}.required=false"]
    return overrides


def safe_args(repo_dir: Path) -> list[str]:
    """The `-c` options that keep git from running the repository's programs."""
    args: list[str] = []
    for item in _ALWAYS_OFF:
        args += ["-c", item]
    return args + _filter_overrides(repo_dir)


def git_read(repo_dir: Path, *args: str, what: str = "reading the repository") -> str:
    """Run a read-only git command safely and return its stdout."""
    from git import Git

    command: list[str] = ["git", "--no-pager", *safe_args(repo_dir), *args[:1]]
    if args and args[0] in _DIFF_LIKE:
        command += ["--no-ext-diff", "--no-textconv"]
    command += list(args[1:])
    with map_git_errors(what):
        out = Git(str(repo_dir)).execute(command, env=safe_env(), strip_newline_in_stdout=False)
    return str(out)


def repo_root(start: Path) -> Path | None:
    """The work tree's top folder, found without running git."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def split_z(output: str) -> Sequence[str]:
    return [part for part in output.split("\0") if part]
