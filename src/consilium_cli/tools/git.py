"""Git operations for plans, through GitPython, that never run the repository's programs.

Every call goes through `consilium_cli.gitsafe` (fsmonitor, pager, external diff, textconv
and filter drivers off on the command line). Changes also run with hooks off
(`core.hooksPath` pointed at nothing) unless the person approved a commit that said it
would run them, and with commit signing off when the repository's own config names the
signing program.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consilium_cli.errors import UsageError
from consilium_cli.gitsafe import map_git_errors, safe_args, safe_env, split_z

DIFF_FLAGS = ("--no-ext-diff", "--no-textconv", "--no-color")
MAX_OUTPUT_CHARS = 200_000


class GitError(UsageError):
    """A git command failed; the message carries git's own words."""


@dataclass(frozen=True)
class GitResult:
    status: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class GitPreview:
    """What a git op will do, for the approval prompt."""

    op: str
    summary: str
    touches: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    undoable: bool = True
    runs_hooks: bool = False
    error: str = ""
    warnings: tuple[str, ...] = ()


@dataclass
class HeadState:
    branch: str | None
    sha: str | None

    def to_json(self) -> dict[str, Any]:
        return {"branch": self.branch, "sha": self.sha}


@dataclass
class GitState:
    """The parts of a repository a git op may change (files are journaled separately)."""

    head: HeadState
    refs: dict[str, str | None] = field(default_factory=dict)
    index_object: str | None = None
    index_digest: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"head": self.head.to_json(), "refs": dict(self.refs),
                "index_object": self.index_object, "index_digest": self.index_digest}


class GitRepo:
    """One work tree, addressed by its top folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- running ------------------------------------------------------------------------

    def _command(self, args: tuple[str, ...], *, write: bool, hooks: bool) -> list[str]:
        command = ["git", "--no-pager", *safe_args(self.root)]
        if write and not hooks:
            command += ["-c", f"core.hooksPath={os.devnull}"]
        if write:
            command += self._local_program_overrides()
        command.append(args[0])
        if args[0] in ("diff", "log", "show"):
            command += DIFF_FLAGS
        return command + list(args[1:])

    def run(self, *args: str, write: bool = False, hooks: bool = False,
            check: bool = True, what: str = "") -> GitResult:
        from git import Git

        command = self._command(args, write=write, hooks=hooks)
        extra: dict[str, Any] = {}
        if write and os.name == "posix":
            # A Ctrl-C in the terminal must not kill git halfway through a change: the
            # executor holds the interrupt until the action is complete.
            extra["start_new_session"] = True
        with map_git_errors(what or f"running git {args[0]}"):
            status, out, err = Git(str(self.root)).execute(
                command, env=self._env(), with_extended_output=True, with_exceptions=False,
                strip_newline_in_stdout=False, **extra)
        result = GitResult(int(status or 0), str(out), str(err))
        if check and result.status != 0:
            detail = result.stderr.strip() or result.stdout.strip()
            raise GitError(f"git {args[0]} failed: {detail or f'exit {result.status}'}")
        return result

    @staticmethod
    def _env() -> dict[str, str]:
        """git's environment: the safe settings, and every variable named like a secret
        blanked (GitPython adds to the full environment, so blanking is how hooks and
        remote helpers are kept from the user's keys)."""
        from consilium_cli.tools.shell import scrub_env

        _kept, dropped = scrub_env(os.environ)
        return {**dict.fromkeys(dropped, ""), **safe_env()}

    def read(self, *args: str) -> str:
        return self.run(*args).stdout

    def _local_program_overrides(self) -> list[str]:
        """Turn off signing and custom ssh when the repository's own config names them."""
        found = self.run("config", "--local", "--includes", "--name-only", "--get-regexp",
                         r"^(gpg\..*program|core\.sshcommand)$", check=False).stdout.split()
        overrides: list[str] = []
        if any(key.startswith("gpg.") for key in found):
            overrides += ["-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false"]
        if "core.sshcommand" in found:
            overrides += ["-c", "core.sshCommand=ssh"]
        return overrides

    def repo_names_programs(self) -> bool:
        """The repository's config names a signing or ssh program (turned off here)."""
        return bool(self._local_program_overrides())

    # -- state --------------------------------------------------------------------------

    def rev(self, ref: str) -> str | None:
        result = self.run("rev-parse", "--verify", "-q", f"{ref}^{{commit}}"
                          if ref == "HEAD" else ref, check=False)
        return result.stdout.strip() or None if result.status == 0 else None

    def head(self) -> HeadState:
        result = self.run("symbolic-ref", "-q", "HEAD", check=False)
        branch = result.stdout.strip() if result.status == 0 else None
        return HeadState(branch, self.rev("HEAD"))

    def index_path(self) -> Path:
        rel = self.read("rev-parse", "--git-path", "index").strip()
        path = Path(rel)
        return path if path.is_absolute() else self.root / path

    def index_digest(self) -> str:
        """The index's entries (modes, blobs, stages, paths), without stat data."""
        return hashlib.sha256(self.read("ls-files", "-s", "-z").encode("utf-8",
                                                                      "surrogateescape")
                              ).hexdigest()

    def branch_exists(self, name: str) -> bool:
        return self.rev(f"refs/heads/{name}") is not None

    def changed_paths(self, *args: str) -> list[str]:
        """Paths `git diff --name-only ARGS` lists (repository-relative)."""
        return list(split_z(self.read("diff", "--name-only", "--no-renames", "-z", *args)))

    def staged_paths(self) -> list[str]:
        return self.changed_paths("--cached")

    # -- what an op will touch -----------------------------------------------------------

    def files_changed_by(self, op: str, args: dict[str, Any]) -> list[str]:
        """Work-tree files the op rewrites (journaled so undo restores them)."""
        if op == "stash":
            return self.changed_paths("HEAD") if self.rev("HEAD") else []
        if op == "switch":
            return self.changed_paths("HEAD", f"refs/heads/{args['name']}")
        if op == "restore":
            return self.changed_paths("--", *args["paths"])
        return []

    def refs_changed_by(self, op: str, args: dict[str, Any]) -> list[str]:
        if op == "commit":
            head = self.head()
            return [head.branch or "HEAD"]
        if op == "branch":
            return [f"refs/heads/{args['name']}"]
        return []

    def index_changed_by(self, op: str) -> bool:
        return op in ("add", "commit", "stash", "switch")

    def capture(self, op: str, args: dict[str, Any]) -> GitState:
        state = GitState(self.head())
        for ref in self.refs_changed_by(op, args):
            state.refs[ref] = self.rev(ref)
        if op == "stash":
            state.refs["refs/stash"] = self.rev("refs/stash")
        if self.index_changed_by(op):
            state.index_digest = self.index_digest()
        return state

    def preview(self, op: str, args: dict[str, Any]) -> GitPreview:
        """Describe the op and what it touches; `error` says why it cannot run."""
        head = self.head()
        branch = (head.branch or "").removeprefix("refs/heads/") or "(detached HEAD)"
        if op == "status":
            return GitPreview(op, "show the working tree status")
        if op == "diff":
            paths = tuple(args.get("paths", ()))
            what = "staged changes" if args.get("staged") else "unstaged changes"
            return GitPreview(op, f"show the {what}", touches=paths)
        if op == "log":
            return GitPreview(op, f"show the last {args.get('n', 10)} commits on {branch}")
        if op == "add":
            return GitPreview(op, "stage these paths in the index",
                              touches=tuple(args["paths"]))
        if op == "commit":
            staged = self.staged_paths()
            paths = tuple(args.get("paths", ()))
            details = [f"branch: {branch}", f"message: {args['message']}"]
            if paths:
                details.append("stages first: " + ", ".join(paths))
            if staged:
                details.append("already staged: " + ", ".join(staged))
            hooks = bool(args.get("run_hooks"))
            details.append("runs the repository's commit hooks" if hooks else
                           "hooks off (--no-verify and no post-commit)")
            warnings = ()
            if self.repo_names_programs():
                warnings = ("the repository's config names a signing or ssh program; "
                            "consilium turns it off",)
            error = "" if paths or staged else "nothing is staged and no paths are given"
            return GitPreview(op, f"commit on {branch}", touches=tuple(dict.fromkeys(
                (*paths, *staged))), details=tuple(details), runs_hooks=hooks,
                error=error, warnings=warnings)
        if op == "branch":
            name = args["name"]
            error = f"branch {name} already exists" if self.branch_exists(name) else ""
            if not head.sha:
                error = "the repository has no commit yet"
            return GitPreview(op, f"create branch {name} at {(head.sha or '')[:12]} "
                              "(stays on the current branch)", touches=(f"refs/heads/{name}",),
                              error=error)
        if op == "switch":
            name = args["name"]
            if not self.branch_exists(name):
                return GitPreview(op, f"switch to {name}", error=f"no branch named {name}")
            files = self.files_changed_by(op, args)
            return GitPreview(op, f"switch from {branch} to {name}", touches=tuple(files),
                              details=(f"{len(files)} file(s) change in the work tree",))
        if op == "stash":
            files = self.files_changed_by(op, args)
            return GitPreview(op, "stash the changes to tracked files" +
                              (f": {args['message']}" if args.get("message") else ""),
                              touches=tuple(files),
                              error="" if files else "there are no changes to stash")
        if op == "restore":
            files = self.files_changed_by(op, args)
            return GitPreview(op, "discard the unstaged changes to these paths "
                              "(consilium keeps a copy for undo)", touches=tuple(files),
                              error="" if files else "these paths have no unstaged changes")
        if op == "push":
            remote = args.get("remote", "origin")
            target = args.get("branch") or branch
            problem = push_problem(remote, target)
            return GitPreview(op, f"push {target} to {remote}", touches=(f"{remote}/{target}",),
                              undoable=False, error=problem)
        raise UsageError(f"unknown git op {op!r}")

    # -- running an op ---------------------------------------------------------------------

    def execute(self, op: str, args: dict[str, Any]) -> str:
        """Run the op; return what git printed (diff, log, status or its messages)."""
        if op == "status":
            return self.read("status", "--short", "--branch", "--untracked-files=all")
        if op == "diff":
            extra = ["--cached"] if args.get("staged") else []
            paths = list(args.get("paths", ()))
            return self.read("diff", *extra, *(["--", *paths] if paths else []))
        if op == "log":
            n = int(args.get("n", 10))
            return self.read("log", f"-n{n}", "--format=%h %ad %an%n    %s", "--date=short")
        if op == "add":
            return self.run("add", "--", *args["paths"], write=True).stdout
        if op == "commit":
            hooks = bool(args.get("run_hooks"))
            if args.get("paths"):
                self.run("add", "--", *args["paths"], write=True)
            extra = [] if hooks else ["--no-verify"]
            result = self.run("commit", "-m", args["message"], *extra, write=True,
                              hooks=hooks)
            return result.stdout + result.stderr
        if op == "branch":
            return self.run("branch", "--no-track", "--", args["name"], write=True).stdout
        if op == "switch":
            result = self.run("switch", "--no-guess", args["name"], write=True)
            return result.stdout + result.stderr
        if op == "stash":
            extra = ["-m", args["message"]] if args.get("message") else []
            return self.run("stash", "push", *extra, write=True).stdout
        if op == "restore":
            return self.run("restore", "--worktree", "--", *args["paths"], write=True).stdout
        if op == "push":
            remote = args.get("remote", "origin")
            target = args.get("branch") or (self.head().branch or "HEAD")
            problem = push_problem(remote, target)
            if problem:
                raise UsageError(problem)
            result = self.run("push", "--", remote, target, write=True)
            return result.stdout + result.stderr
        raise UsageError(f"unknown git op {op!r}")

    # -- used by undo ---------------------------------------------------------------------

    def set_ref(self, ref: str, new: str | None, expected: str | None) -> None:
        """Point `ref` at `new` (or delete it) only if it still points at `expected`."""
        if new is None:
            self.run("update-ref", "-m", "consilium undo", "-d", ref, expected or "",
                     write=True)
        else:
            self.run("update-ref", "-m", "consilium undo", ref, new, expected or "",
                     write=True)

    def set_head(self, head: HeadState) -> None:
        if head.branch:
            self.run("symbolic-ref", "-m", "consilium undo", "HEAD", head.branch, write=True)
        elif head.sha:
            self.run("update-ref", "--no-deref", "-m", "consilium undo", "HEAD", head.sha,
                     write=True)

    def drop_stash(self, expected: str) -> None:
        if self.rev("refs/stash") != expected:
            raise GitError("the newest stash is not the one consilium made")
        self.run("stash", "drop", "-q", "stash@{0}", write=True)


_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def push_problem(remote: str, target: str) -> str:
    """Why a push may not run as written: `+main` force-pushes and `:main` deletes the
    remote branch, which the preview's plain "push main" would not show."""
    for what, name in (("remote", remote), ("branch", target)):
        if not name or not _PLAIN_NAME.match(name) or ".." in name or name.endswith(".lock"):
            return (f"refusing to push: the {what} {name!r} is not a plain name "
                    "(no force pushes, deletions or refspecs)")
    return ""
