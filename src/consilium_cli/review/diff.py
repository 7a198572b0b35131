"""Parse unified diffs: git's (renames, copies, modes, binaries, combined merges) and plain
`diff -u`.

Pure: text in, a `Diff` out. Anything that is not part of a diff raises `DiffParseError`
naming the first bad line, except the envelope that git puts around patches (the mail
header of `git format-patch`, the commit header of `git show` / `git log -p`, and the
`-- ` signature), which is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from consilium_cli.errors import UsageError
from consilium_cli.ui.safe_text import clean

LineKind = Literal["context", "added", "removed"]
FileStatus = Literal["modified", "added", "deleted", "renamed", "copied"]

_HUNK = re.compile(r"^(@{2,}) (.*?) \1(?: (.*))?$")
# Line numbers of at most 18 digits: a longer "number" is no line number, and int() of
# thousands of digits would raise.
_RANGE = re.compile(r"^([-+])([0-9]{1,18})(?:,([0-9]{1,18}))?$")
_ENVELOPE = re.compile(
    r"^(?:From [0-9a-f]{40} |commit [0-9a-f]{7,64}\b|From: |Subject: |Date: |Author: )"
)
_GIT_HEADER = ("old mode ", "new mode ", "deleted file mode ", "new file mode ", "copy from ",
               "copy to ", "rename from ", "rename to ", "similarity index ",
               "dissimilarity index ", "index ", "mode ")
_C_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
              '"': '"', "\\": "\\"}
_PREFIXES = ("a/", "b/", "i/", "w/", "c/", "o/", "1/", "2/")


class DiffParseError(UsageError):
    """The input is not a unified diff; the message names the first bad line."""


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    text: str
    old_no: int | None
    new_no: int | None
    # "\ No newline at end of file" followed this line.
    no_newline: bool = False


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    lines: tuple[DiffLine, ...]
    # Number of parents of a combined (merge) diff; 1 for an ordinary hunk.
    parents: int = 1

    @property
    def new_end(self) -> int:
        """Last line number on the new side (new_start - 1 when the side is empty)."""
        return self.new_start + self.new_len - 1

    def new_line_numbers(self) -> range:
        return range(self.new_start, self.new_start + self.new_len)

    def changed_text(self) -> str:
        """Added and removed lines, for routing by content."""
        return "\n".join(line.text for line in self.lines if line.kind != "context")

    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"


@dataclass(frozen=True)
class FileDiff:
    old_path: str | None
    new_path: str | None
    status: FileStatus = "modified"
    old_mode: str = ""
    new_mode: str = ""
    similarity: int | None = None
    binary: bool = False
    hunks: tuple[Hunk, ...] = ()
    combined: bool = False

    @property
    def path(self) -> str:
        """The path a reviewer talks about: the new one, or the old one of a deleted file."""
        return self.new_path or self.old_path or ""

    @property
    def added(self) -> int:
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == "added")

    @property
    def removed(self) -> int:
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == "removed")

    def describe(self) -> str:
        """One line: the path and what happened to it (rename, mode, binary)."""
        parts = [self.status]
        if self.status in ("renamed", "copied") and self.old_path:
            parts.append(f"from {self.old_path}")
        if self.old_mode and self.new_mode and self.old_mode != self.new_mode:
            parts.append(f"mode {self.old_mode} -> {self.new_mode}")
        elif self.status == "added" and self.new_mode:
            parts.append(f"mode {self.new_mode}")
        if self.binary:
            parts.append("binary")
        if self.combined:
            parts.append("merge")
        return f"{self.path} ({', '.join(parts)})"


@dataclass(frozen=True)
class Diff:
    files: tuple[FileDiff, ...]
    # Lines of the input that were skipped as git's envelope (commit headers, mail).
    envelope_lines: int = 0

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


def describe_line(number: int, text: str) -> str:
    """`line N: "content"` with control characters shown and long lines cut."""
    shown = clean(text, show=True)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f'line {number}: "{shown}"'


def unquote_c(text: str) -> str:
    """Undo git's C-style quoting of a path ("a/\\303\\251 b" -> "a/é b")."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body = text[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 >= len(body):
            out += ch.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in "01234567" and re.match(r"[0-7]{3}", body[i + 1:i + 4]):
            out.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out += _C_ESCAPES.get(nxt, nxt).encode("utf-8")
            i += 2
    return out.decode("utf-8", errors="replace")


def _split_quoted(rest: str) -> list[str]:
    """Split `"a/x y" "b/x y"` or `a/x b/y` (both maybe quoted) into two tokens."""
    tokens: list[str] = []
    i = 0
    while i < len(rest) and len(tokens) < 2:
        if rest[i] == " ":
            i += 1
            continue
        if rest[i] == '"':
            j = i + 1
            while j < len(rest) and rest[j] != '"':
                j += 2 if rest[j] == "\\" else 1
            tokens.append(rest[i:j + 1])
            i = j + 1
        else:
            j = rest.find(" ", i)
            j = len(rest) if j < 0 else j
            tokens.append(rest[i:j])
            i = j
    return tokens


def _git_header_paths(rest: str) -> tuple[str | None, str | None]:
    """The two paths of `diff --git A B`; unquoted names with spaces are split in half."""
    if '"' in rest:
        tokens = _split_quoted(rest)
        if len(tokens) == 2:
            return _strip_prefix(unquote_c(tokens[0])), _strip_prefix(unquote_c(tokens[1]))
    # Unquoted: "a/P b/P" where P may contain spaces; a rename is resolved later by the
    # rename/copy lines or the ---/+++ lines.
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and \
            _strip_prefix(rest[:half]) == _strip_prefix(rest[half + 1:]):
        return _strip_prefix(rest[:half]), _strip_prefix(rest[half + 1:])
    for sep in (" b/", " w/", " i/", " c/", " 2/"):
        at = rest.find(sep)
        if at > 0:
            return _strip_prefix(rest[:at]), _strip_prefix(rest[at + 1:])
    tokens = rest.split(" ")
    if len(tokens) == 2:
        return tokens[0], tokens[1]
    return None, None


def _strip_prefix(path: str) -> str:
    return path[2:] if path[:2] in _PREFIXES else path


def _marker_path(value: str, *, git: bool) -> str | None:
    """The path on a `---`/`+++` line, without timestamp, quoting or a/ b/ prefix."""
    if value.startswith('"'):
        token = _split_quoted(value)[0]
        path = unquote_c(token)
    else:
        path = value.split("\t", 1)[0]
        if not git:
            # diff -u: "name<TAB>timestamp"; some tools use two spaces before the date.
            path = re.split(r"\s{2,}\d{4}-\d\d-\d\d", path, maxsplit=1)[0]
        path = path.rstrip()
    if path == "/dev/null":
        return None
    # A plain diff's top folders (a/ b/, old/ new/) are dropped in pairs by _plain_pair.
    return _strip_prefix(path) if git else path


@dataclass
class _FileBuilder:
    """Mutable state of one file section while its lines are read."""

    old_path: str | None = None
    new_path: str | None = None
    status: FileStatus = "modified"
    old_mode: str = ""
    new_mode: str = ""
    similarity: int | None = None
    binary: bool = False
    combined: bool = False
    git: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    def build(self) -> FileDiff:
        status = self.status
        old, new = self.old_path, self.new_path
        if not self.git:
            # diff -u names two copies of one file (x.orig and x, old/x and new/x): it is
            # a change of the new one, never a rename.
            old, new = _plain_pair(old, new)
        elif status == "modified" and old and new and old != new:
            status = "renamed"
        return FileDiff(old, new, status, self.old_mode, self.new_mode,
                        self.similarity, self.binary, tuple(self.hunks), self.combined)


def _plain_pair(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Drop the differing top folder of `diff -ru old/ new/` pairs."""
    if old and new and "/" in old and "/" in new:
        old_rest, new_rest = old.split("/", 1)[1], new.split("/", 1)[1]
        if old_rest == new_rest:
            return old_rest, new_rest
    if old and new and old != new:
        return new, new
    return old, new


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.lines = [ln[:-1] if ln.endswith("\r") else ln for ln in self.lines]
        self.i = 0
        self.files: list[FileDiff] = []
        self.current: _FileBuilder | None = None
        self.envelope = 0

    def fail(self, index: int, why: str) -> DiffParseError:
        return DiffParseError(
            f"the input is not a unified diff: {describe_line(index + 1, self.lines[index])}"
            f" ({why})",
            hint="pipe the output of `git diff` (or `diff -u OLD NEW`), or run "
                 "`consilium review --staged`",
        )

    def close_file(self) -> None:
        if self.current is not None:
            self.files.append(self.current.build())
            self.current = None

    def parse(self) -> Diff:
        in_envelope = False
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.startswith(("diff --git ", "diff --cc ", "diff --combined ")):
                in_envelope = False
                self.start_git_file(line)
            elif line.startswith("--- ") and self.i + 1 < len(self.lines) and \
                    self.lines[self.i + 1].startswith("+++ "):
                in_envelope = False
                self.markers()
            elif line.startswith("@@") and self.current is not None:
                self.hunk()
                continue
            elif self.current is not None and self.current.git and \
                    line.startswith(_GIT_HEADER) and not self.current.hunks:
                self.git_header(line)
            elif self.current is not None and line.startswith("Binary files ") and \
                    line.endswith(" differ"):
                self.current.binary = True
            elif self.current is not None and line == "GIT binary patch":
                self.current.binary = True
                self.skip_binary_patch()
                continue
            elif line.startswith("diff ") and not in_envelope:
                # `diff -u -r old new` names the pair before its ---/+++ lines.
                self.close_file()
            elif line.startswith(("Only in ", "* Unmerged path ")):
                self.close_file()
            elif _ENVELOPE.match(line) or line == "-- ":
                self.close_file()
                in_envelope = True
                self.envelope += 1
            elif in_envelope:
                self.envelope += 1
            elif not line.strip():
                pass  # blank lines between sections (git log -p puts them between commits)
            else:
                raise self.fail(self.i, "expected a diff header, a hunk or a git header line")
            self.i += 1
        self.close_file()
        if not self.files:
            first = next((n for n, ln in enumerate(self.lines) if ln.strip()), None)
            if first is None:
                raise DiffParseError("the input is empty",
                                     hint="git diff | consilium review")
            raise self.fail(first, "no file section found")
        return Diff(tuple(self.files), self.envelope)

    def start_git_file(self, line: str) -> None:
        self.close_file()
        if line.startswith("diff --git "):
            old, new = _git_header_paths(line[len("diff --git "):])
            self.current = _FileBuilder(old_path=old, new_path=new, git=True)
        else:
            rest = line.split(" ", 2)[2]
            path = unquote_c(rest) if rest.startswith('"') else rest
            self.current = _FileBuilder(old_path=path, new_path=path, git=True, combined=True)

    def git_header(self, line: str) -> None:
        cur = self.current
        assert cur is not None
        key, _, value = line.partition(" ")
        if line.startswith("old mode "):
            cur.old_mode = line[len("old mode "):]
        elif line.startswith("new mode "):
            cur.new_mode = line[len("new mode "):]
        elif line.startswith("deleted file mode "):
            cur.status = "deleted"
            cur.old_mode = line[len("deleted file mode "):].split(",")[0]
            cur.new_path = None
        elif line.startswith("new file mode "):
            cur.status = "added"
            cur.new_mode = line[len("new file mode "):]
            cur.old_path = None
        elif line.startswith(("rename from ", "copy from ")):
            cur.old_path = unquote_c(line.split(" ", 2)[2])
            cur.status = "renamed" if key == "rename" else "copied"
        elif line.startswith(("rename to ", "copy to ")):
            cur.new_path = unquote_c(line.split(" ", 2)[2])
        elif line.startswith(("similarity index ", "dissimilarity index ")):
            digits = value.split(" ", 1)[-1].rstrip("%")
            if re.fullmatch(r"[0-9]{1,3}", digits):
                cur.similarity = int(digits)
        elif line.startswith("index "):
            parts = value.split(" ")
            if len(parts) > 1 and not cur.old_mode:
                cur.old_mode = cur.new_mode = parts[1]
        # "mode A,B..C" of a combined diff carries nothing a reviewer needs.

    def markers(self) -> None:
        """A `---`/`+++` pair: inside a git section it confirms paths; else it opens a
        plain `diff -u` file."""
        old_line, new_line = self.lines[self.i], self.lines[self.i + 1]
        cur = self.current
        if cur is None or cur.hunks or not cur.git:
            self.close_file()
            cur = self.current = _FileBuilder()
        git = cur.git
        old = _marker_path(old_line[4:], git=git)
        new = _marker_path(new_line[4:], git=git)
        if cur.combined:
            # Combined diffs show one path; "--- a/x" may read /dev/null for a new file.
            if new is not None:
                cur.new_path = new
            elif cur.status == "deleted":
                cur.new_path = None
        else:
            cur.old_path, cur.new_path = old, new
            if old is None and new is not None:
                cur.status = "added"
            elif new is None and old is not None:
                cur.status = "deleted"
        self.i += 1

    def hunk(self) -> None:
        cur = self.current
        assert cur is not None
        header_index = self.i
        match = _HUNK.match(self.lines[self.i])
        if match is None:
            raise self.fail(self.i, "malformed hunk header")
        parents = len(match.group(1)) - 1
        ranges = match.group(2).split(" ")
        if len(ranges) != parents + 1:
            raise self.fail(self.i, "hunk header has the wrong number of ranges")
        parsed: list[tuple[int, int]] = []
        for k, part in enumerate(ranges):
            rmatch = _RANGE.match(part)
            want = "+" if k == parents else "-"
            if rmatch is None or rmatch.group(1) != want:
                raise self.fail(self.i, "malformed hunk range")
            start = int(rmatch.group(2))
            length = int(rmatch.group(3)) if rmatch.group(3) is not None else 1
            parsed.append((start, length))
        if parents > 1:
            cur.combined = True
        old_start, old_len = parsed[0]
        new_start, new_len = parsed[-1]
        old_left = [length for _, length in parsed[:-1]]
        new_left = new_len
        old_no, new_no = old_start, new_start
        lines: list[DiffLine] = []
        self.i += 1
        while self.i < len(self.lines) and (new_left > 0 or any(n > 0 for n in old_left)):
            raw = self.lines[self.i]
            if raw.startswith("\\"):
                self.mark_no_newline(lines)
                self.i += 1
                continue
            # Some mailers strip the single space of an empty context line.
            cols = raw[:parents] if raw else " " * parents
            text = raw[parents:]
            if len(cols) < parents or any(c not in " +-" for c in cols):
                raise self.fail(self.i, f"hunk at line {header_index + 1} expected "
                                        f"{new_left} more new-side line(s)")
            in_new = "-" not in cols
            in_old = [c == "-" or (in_new and c == " ") for c in cols]
            if (in_new and new_left <= 0) or any(
                    has and left <= 0 for has, left in zip(in_old, old_left)):
                raise self.fail(self.i, f"hunk at line {header_index + 1} has more lines "
                                        "than its header says")
            if in_new:
                new_left -= 1
            old_left = [left - 1 if has else left for has, left in zip(in_old, old_left)]
            if in_new and "+" in cols:
                lines.append(DiffLine("added", text, None, new_no))
                new_no += 1
            elif in_new:
                lines.append(DiffLine("context", text, old_no, new_no))
                new_no += 1
                old_no += 1
            else:
                first_parent = in_old[0]
                lines.append(DiffLine("removed", text, old_no if first_parent else None, None))
                old_no += 1 if first_parent else 0
            self.i += 1
        if new_left > 0 or any(n > 0 for n in old_left):
            raise self.fail(header_index, "the hunk ends before its header's line counts")
        while self.i < len(self.lines) and self.lines[self.i].startswith("\\"):
            self.mark_no_newline(lines)
            self.i += 1
        cur.hunks.append(Hunk(old_start, old_len, new_start, new_len,
                              match.group(3) or "", tuple(lines), parents))

    def mark_no_newline(self, lines: list[DiffLine]) -> None:
        if not lines:
            raise self.fail(self.i, "a no-newline marker before any line")
        last = lines[-1]
        lines[-1] = DiffLine(last.kind, last.text, last.old_no, last.new_no, True)

    def skip_binary_patch(self) -> None:
        """Skip `literal N`/`delta N` blocks of base85 data after "GIT binary patch"."""
        self.i += 1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.startswith(("literal ", "delta ")) or not line or \
                    re.fullmatch(r"[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*", line):
                self.i += 1
                continue
            return


def parse_diff(text: str) -> Diff:
    """Parse a unified diff; raise DiffParseError naming the first line that is not one."""
    if not text.strip():
        raise DiffParseError("the input is empty", hint="git diff | consilium review")
    return _Parser(text).parse()
