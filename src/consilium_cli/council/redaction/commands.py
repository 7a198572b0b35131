"""Passwords on database and ssh command lines: `mysql -pX` (mysqldump, mariadb ...
likewise), `sshpass -p X`, `redis-cli -a X`, in shell words, an exec array (over several
lines too) or a YAML block list. A bare `-p` prompts for the password and is kept."""

from __future__ import annotations

import re
import string
from bisect import bisect_left
from collections.abc import Callable, Iterator

from consilium_cli.council.redaction.names import PASSWORD_NAME
from consilium_cli.council.redaction.spans import P_CONTEXT, Span
from consilium_cli.council.redaction.values import value_is_secret

_COMMAND_GLUE = frozenset(string.ascii_letters + string.digits + "_.-+")
_COMMAND_WINDOW = 4096  # how far a command's arguments are looked at
_QUOTE_REACH = 512  # how far back the opening quote of a quoted program path is looked for
# The program may be quoted (`"C:\...\mysql.exe" -p...`); then shell words, an exec array
# (`"mysql", ...`) or the items of a YAML block list (the name ends its line).
_COMMAND_TAIL = r"(?:\.exe)?[\"']?(?=[ \t]|[ \t]*,|[ \t]*\r?\n)"
_COMMANDS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("mysql", "mysql",
     re.compile(r"mysql(?:dump|admin|import|check|show|pump|slap|sh)?" + _COMMAND_TAIL)),
    ("mariadb", "mysql",
     re.compile(r"mariadb(?:-?(?:dump|admin|import|check|show|slap))?" + _COMMAND_TAIL)),
    ("sshpass", "sshpass", re.compile(r"sshpass" + _COMMAND_TAIL)),
    ("redis-cli", "redis", re.compile(r"redis-cli" + _COMMAND_TAIL)),
)
# A gap (a backslash-newline continues the command), then a word or a redirection; anything
# else (| ; & ( ) ` a newline, an unclosed quote) ends the command.
_SHELL_WORD = re.compile(r"(?:[ \t]|\\\r?\n)*(?:(?P<word>(?:[^\s'\"`|;&<>()\\]|\\[^\n]"
                         r"|'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\")+)|[<>]+)")
# Between the items of an exec array: a comma, with white space, newlines and comments.
_ARRAY_SEP = re.compile(r"[\"']?\s*,(?:\s|#[^\n]*)*")
_ARRAY_ITEM = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'([^'\n]*)'|([^\s,\]'\"]+)")
# A YAML block list: the name is an item (`- mysqladmin`), the next items follow at the
# same indentation, blank or comment lines between them.
_YAML_NAME_LINE = re.compile(r"[ \t]*-[ \t]+[\"']?(?:[^\s\"']*[/\\])?")
_YAML_NEXT = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\r?\n)+([ \t]*)-[ \t]+")
# An item's value: quoted, or plain up to a comment or the end of the line.
_YAML_VALUE = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'([^'\n]*)'|([^\s'\"#][^\n]*)")
_YAML_LINE_REACH = 256  # how far back a YAML item's line start is looked for
_SSHPASS_WITH_ARG = frozenset({"-f", "-d", "-P"})  # options that take the next word
# mysql takes any unambiguous prefix of --password, and --password1..3 for more factors.
_MYSQL_LONG_PASSWORD = re.compile(r"--pass(?:w(?:o(?:r(?:d[123]?)?)?)?)?=")
_PASSWORD_OPTION = re.compile(r"-[pa]")  # mysql -pX, sshpass -p, redis-cli -a / --pass
_ARG_BEFORE = frozenset(" \t\n\"',[")
_MAX_ARGS = 64


def _command_names(text: str) -> list[tuple[int, int, str]]:
    """Every command name (start, end, tool), in the order of the text: a whole word, or
    the last part of a path, quoted or not."""
    names = []
    for anchor, tool, pattern in _COMMANDS:
        if anchor not in text:
            continue
        for match in pattern.finditer(text):
            at, end = match.span()
            if at and text[at - 1] in _COMMAND_GLUE:
                continue
            if text[end - 1] in "\"'" and not _quoted_program(text, at, text[end - 1]):
                continue
            names.append((at, end, tool))
    names.sort()
    return names


def _quoted_program(text: str, at: int, quote: str) -> bool:
    """`"mysql"` or a quoted path to it (`'/opt/mysql/bin/mysql'`), not a quoted phrase
    that happens to end with a command name (`"we use mysql" -p`)."""
    if not at:
        return False
    if text[at - 1] == quote:
        return True
    if text[at - 1] not in "/\\":
        return False
    opening = text.rfind(quote, max(0, at - _QUOTE_REACH), at)
    return opening >= 0 and text.find("\n", opening, at) < 0


def _password_options(text: str, since: int) -> list[int]:
    """Where a `-p`/`-a`/`--pass` option starts an argument, from `since` on."""
    found = []
    for option in _PASSWORD_OPTION.finditer(text, since):
        at = option.start()
        before = text[at - 1] if at else " "
        if before == "-" and at >= 2:  # --pass
            before = text[at - 2]
        if before in _ARG_BEFORE:
            found.append(at)
    return found


class _Arguments:
    """The arguments of the command names of one text, each read once: a name that is itself
    an argument of the command read before it (`sshpass -p X mysql -pY`, a run of names)
    goes on with that reading instead of starting again, and a tool is shown only the
    arguments it has not looked at yet, so a text full of names stays linear.

    Arguments are spans: shell words up to the end of the command (quotes kept: see
    `_unquote`), the items of an exec array (`["mysqladmin", "ping", "-uroot", ...]`, over
    lines too) or of a YAML block list."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._kind: str | None = None  # "shell", "array" or "yaml" and the list's indent
        self._start = 0  # where the reading started
        self._items: list[tuple[int, int]] = []
        self._ends: list[int] = []  # where each item ends (after its closing quote)
        self._index: dict[int, int] = {}  # item end -> its index
        self._limit = 0  # the limit of the last reading
        self._seen: dict[str, int] = {}  # tool -> how many items it has looked at

    def new_for(self, tool: str, pos: int, kind: str) -> list[tuple[int, int]]:
        """The arguments of the command name that ends at `pos`, written as `kind` says,
        that `tool` has not seen."""
        first = self._index.get(pos, -1) + 1 if kind == self._kind else 0
        if not first:
            self._kind, self._start, self._limit = kind, pos, pos
            self._items, self._ends, self._index, self._seen = [], [], {}, {}
        self._read(first + _MAX_ARGS, min(len(self._text), pos + _COMMAND_WINDOW))
        last = min(len(self._items), first + _MAX_ARGS)
        seen = self._seen.get(tool, 0)
        self._seen[tool] = max(seen, last)
        if tool == "sshpass":  # its options are read from the name on
            return self._items[first:last]
        # -pX is one argument, `-a X` two: look again at the last one seen
        return self._items[max(first, seen - (tool == "redis")):last]

    def _read(self, count: int, limit: int) -> None:
        if len(self._items) >= count:
            return
        if limit > self._limit and self._ends and self._ends[-1] >= self._limit:
            del self._index[self._ends.pop()]  # it may have been cut at the old limit
            self._items.pop()
            self._seen = {tool: min(n, len(self._items)) for tool, n in self._seen.items()}
        self._limit = limit
        pos = self._ends[-1] if self._ends else self._start
        items, ends, index = self._items, self._ends, self._index
        for start, stop, after in _items_from(self._text, self._kind or "", pos, limit):
            index[after] = len(items)
            items.append((start, stop))
            ends.append(after)
            if len(items) >= count:
                break


def _items_from(text: str, kind: str, pos: int, limit: int) -> Iterator[tuple[int, int, int]]:
    """The arguments from `pos` on: (start, end) of each and where it ends with its quotes."""
    if kind == "shell":
        while (word := _SHELL_WORD.match(text, pos, limit)) is not None:
            pos = word.end()
            if word.lastindex:
                yield word.start(1), pos, pos
        return
    while True:
        if kind == "array":
            sep = _ARRAY_SEP.match(text, pos, limit)
            item = None if sep is None else _ARRAY_ITEM.match(text, sep.end(), limit)
        else:
            sep = _YAML_NEXT.match(text, pos, limit)
            item = None if sep is None or "yaml" + sep.group(1) != kind \
                else _YAML_VALUE.match(text, sep.end(), limit)
        if item is None:
            return
        start, stop = item.span(item.lastindex or 0)
        pos = item.end()
        if kind != "array" and item.lastindex == 3:
            pos = stop = _plain_end(text, start, stop)
        yield start, stop, pos


def _plain_end(text: str, start: int, end: int) -> int:
    """Where a plain YAML value ends: before a comment and the white space before it."""
    for comment in (" #", "\t#"):
        at = text.find(comment, start, end)
        end = end if at < 0 else at
    return start + len(text[start:end].rstrip())


def _kind(text: str, at: int, pos: int) -> str:
    """How the arguments of the command named at `at`..`pos` are written."""
    if _YAML_NEXT.match(text, pos, pos + _COMMAND_WINDOW) is not None:
        low = max(0, at - _YAML_LINE_REACH)
        start = text.rfind("\n", low, at) + 1
        if (start or not low) and _YAML_NAME_LINE.fullmatch(text, start, at) is not None:
            return "yaml" + text[start:text.index("-", start)]
    return "array" if _ARRAY_SEP.match(text, pos, pos + _COMMAND_WINDOW) else "shell"


def _same_command_line(text: str, start: int, end: int) -> bool:
    """Whether no newline ends the command line between `start` and `end` (the first one
    may be continued with a backslash; the reading of the arguments sees the rest)."""
    newline = text.find("\n", start, end)
    return newline < 0 or text[newline - 1] == "\\" or text[newline - 2:newline] == "\\\r"


def _unquote(text: str, start: int, end: int) -> tuple[int, int]:
    if end - start >= 2 and text[start] in "\"'" and text[end - 1] == text[start] and \
            text.find(text[start], start + 1, end - 1) < 0:
        return start + 1, end - 1
    return start, end


def _mysql_values(text: str, args: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`-pSECRET` and `--password=SECRET`: the value is glued to the option (`-p` alone,
    `-p db` or `--password db` prompt for it)."""
    values = []
    for start, end in args:
        if text[start] in "'\"":
            start, end = _unquote(text, start, end)
        if end - start > 2 and text.startswith("-p", start):
            values.append(_unquote(text, start + 2, end))
        elif text.startswith("--pass", start):
            option = _MYSQL_LONG_PASSWORD.match(text, start, end)
            if option is not None:
                values.append(_unquote(text, option.end(), end))
    return values


def _sshpass_values(text: str, args: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`sshpass -p SECRET` among sshpass's own options (before the command it runs)."""
    i = 0
    while i < len(args):
        start, end = _unquote(text, *args[i])
        word = text[start:end]
        if word == "-p":
            return [_unquote(text, *args[i + 1])] if i + 1 < len(args) else []
        if word.startswith("-p"):
            return [_unquote(text, start + 2, end)]
        if not word.startswith("-"):
            break
        i += 2 if word in _SSHPASS_WITH_ARG else 1
    return []


def _redis_values(text: str, args: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`redis-cli -a SECRET` and `--pass SECRET`."""
    return [_unquote(text, *args[i + 1]) for i in range(len(args) - 1)
            if text[slice(*_unquote(text, *args[i]))] in ("-a", "--pass")]


_TOOL_VALUES: dict[str, Callable[[str, list[tuple[int, int]]], list[tuple[int, int]]]] = {
    "mysql": _mysql_values, "sshpass": _sshpass_values, "redis": _redis_values}


def find_command_passwords(text: str) -> list[Span]:
    """Passwords on database and ssh command lines: mysql/mysqldump/mariadb `-pX`,
    `sshpass -p X`, `redis-cli -a X`. Each command name is read once, and only when a
    password option follows it within its window, which keeps the cost linear."""
    names = _command_names(text)
    if not names:
        return []
    options = _password_options(text, names[0][1])
    arguments = _Arguments(text)
    spans: list[Span] = []
    for at, end, tool in names:
        i = bisect_left(options, end)
        if i == len(options) or options[i] >= end + _COMMAND_WINDOW:
            continue
        kind = _kind(text, at, end)
        if kind == "shell" and not _same_command_line(text, end, options[i]):
            continue
        for start, stop in _TOOL_VALUES[tool](text, arguments.new_for(tool, end, kind)):
            if stop > start and value_is_secret(text[start:stop], "quoted", PASSWORD_NAME):
                spans.append(Span(start, stop, "cli-password", P_CONTEXT))
    return spans
