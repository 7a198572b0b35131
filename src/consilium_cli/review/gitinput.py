"""`--staged` / `--base REF`: read the diff out of the repository through GitPython with
every program the repository could name switched off.

`consilium_cli.gitsafe` supplies the `-c` options and environment that keep git from
running core.fsmonitor, filter drivers, diff.external and pagers; here `git diff` also
gets `--no-ext-diff --no-textconv --no-pager`, and the output-shaping settings a
repository could set (colour, prefixes, relative paths, context size, quoting) are fixed
on the command line so the parser always sees the same format. git's output is read in a
stream and stopped at the size limit.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from consilium_cli.errors import UsageError

FORMAT_CONFIG = (
    "color.diff=never",
    "core.quotePath=true",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
)
DIFF_FLAGS = (
    "--no-ext-diff", "--no-textconv", "--no-color", "--no-relative",
    "--src-prefix=a/", "--dst-prefix=b/", "--unified=3", "-M",
    "--ignore-submodules=dirty", "--submodule=short",
)
# git's error output kept for the error message (the rest is read and dropped).
_STDERR_KEPT = 64_000


@dataclass(frozen=True)
class GitDiff:
    """A diff read from a repository, with what it compared."""

    data: bytes
    root: Path
    description: str


class GitInputError(UsageError):
    """git could not produce the diff (not a repository, unknown revision)."""


class DiffTooLargeError(UsageError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"the diff is larger than the {max_bytes / 1_000_000:g} MB limit",
            hint="review a smaller range, or raise it: CONSILIUM_REVIEW_MAX_INPUT_MB=50",
        )


def git_command(root: Path, *args: str) -> list[str]:
    """argv for a read-only git subcommand that can run none of the repository's programs."""
    from consilium_cli.gitsafe import safe_args

    fmt: list[str] = []
    for item in FORMAT_CONFIG:
        fmt += ["-c", item]
    return ["git", "--no-pager", *safe_args(root), *fmt, *args]


def _git(root: Path) -> Any:
    from git import Git

    return Git(str(root))


def _status_out(root: Path, *args: str, stdin_null: bool = False) -> tuple[int, str]:
    from consilium_cli.gitsafe import safe_env

    kwargs: dict[str, Any] = {"istream": subprocess.DEVNULL} if stdin_null else {}
    status, out, _err = _git(root).execute(git_command(root, *args), with_exceptions=False,
                                           with_extended_output=True, env=safe_env(), **kwargs)
    return int(status), str(out).strip()


def resolve_ref(root: Path, ref: str) -> str:
    """The commit id `ref` names; refuses anything git could read as an option."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\n\r\0"):
        raise GitInputError(f"not a revision: {ref!r}", hint="consilium review --base main")
    status, out = _status_out(root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                              f"{ref}^{{commit}}")
    if status != 0 or not out:
        raise GitInputError(f"unknown revision {ref!r}",
                            hint="check it with `git log --oneline`, or fetch it first")
    return out


def _base_of_worktree(root: Path) -> str:
    """HEAD, or the empty tree in a repository without commits."""
    status, out = _status_out(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if status == 0 and out:
        return out
    status, out = _status_out(root, "hash-object", "-t", "tree", "--stdin", stdin_null=True)
    if status != 0 or not out:
        raise GitInputError("cannot find the empty tree of this repository")
    return out


def diff_args(*, staged: bool, target: str | None) -> list[str]:
    args = ["diff", *DIFF_FLAGS]
    if staged:
        args.append("--cached")
    if target is not None:
        args.append(target)
    return [*args, "--"]


def read_git_diff(cwd: Path, *, staged: bool, base: str | None, max_bytes: int) -> GitDiff:
    """`git diff` of the index (`staged`) or the working tree against HEAD or `base`."""
    from consilium_cli.gitsafe import map_git_errors, repo_root

    root = repo_root(cwd.resolve())
    if root is None:
        raise GitInputError(f"not inside a git repository: {cwd}",
                            hint="run it inside a repository, or pass a diff: "
                                 "git diff | consilium review")
    with map_git_errors("reading the diff"):
        if base is not None:
            target: str | None = resolve_ref(root, base)
        else:
            target = None if staged else _base_of_worktree(root)
        data = run_capped(root, git_command(root, *diff_args(staged=staged, target=target)),
                          max_bytes)
    what = "the index" if staged else "the working tree"
    return GitDiff(data, root, f"{what} against {base if base is not None else 'HEAD'}")


def run_capped(root: Path, cmd: Sequence[str], max_bytes: int) -> bytes:
    """Run git and return its stdout; stop it and fail once it passes `max_bytes`."""
    from git.exc import GitCommandError

    from consilium_cli.gitsafe import safe_env

    handle = _git(root).execute(list(cmd), as_process=True, env=safe_env(),
                                istream=subprocess.DEVNULL)
    proc = handle.proc
    # git writes warnings (one per file about line endings, say) while it writes the diff:
    # stderr is drained alongside, or a full stderr pipe would stop git and this read.
    stderr: list[bytes] = []
    drain = threading.Thread(target=_drain, args=(proc.stderr, stderr), daemon=True)
    drain.start()
    try:
        data = proc.stdout.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise DiffTooLargeError(max_bytes)
        status = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join()
        proc.stdout.close()
        proc.stderr.close()
    if status != 0:
        raise GitCommandError(list(cmd), status, b"".join(stderr))
    return bytes(data)


def _drain(stream: IO[bytes], kept: list[bytes]) -> None:
    """Read `stream` to its end, keeping its first `_STDERR_KEPT` bytes."""
    size = 0
    for chunk in iter(lambda: stream.read(65536), b""):
        if size < _STDERR_KEPT:
            kept.append(chunk[:_STDERR_KEPT - size])
            size += len(kept[-1])


def read_worktree_lines(root: Path, rel_path: str, max_bytes: int) -> list[str] | None:
    """Lines of a file in the working tree, or None when it is missing, too large, not a
    regular file, or resolves outside `root` (a diff names paths; they must not lead
    elsewhere)."""
    if not rel_path or rel_path.startswith(("/", "\\")) or "\0" in rel_path or \
            Path(rel_path).is_absolute():
        return None
    try:
        base = root.resolve()
        path = (base / rel_path).resolve()
        path.relative_to(base)
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        data = path.read_bytes()
    except (OSError, ValueError, RuntimeError):
        return None
    return data.decode("utf-8", errors="replace").splitlines()
