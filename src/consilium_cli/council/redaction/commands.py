"""Passwords on database and ssh command lines: `mysql -pX` (mysqldump, mariadb ...
likewise), `sshpass -p X`, `redis-cli -a X`, in shell words or an exec array. A bare `-p`
prompts for the password and is kept."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from consilium_cli.council.redaction.names import PASSWORD_NAME
from consilium_cli.council.redaction.spans import P_CONTEXT, Span
from consilium_cli.council.redaction.values import value_is_secret

_COMMAND_GLUE = frozenset(string.ascii_letters + string.digits + "_.-+")
_COMMAND_WINDOW = 4096  # how far a command's arguments are looked at
_COMMAND_TAIL = r"(?:\.exe)?(?=[ \t]|[\"']?[ \t]*,)"  # then shell words or an exec array
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
_ARRAY_START = re.compile(r"[\"']?[ \t]*,[ \t]*")
_ARRAY_SEP = re.compile(r"[ \t]*,[ \t]*")
_ARRAY_ITEM = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'([^'\n]*)'|([^\s,\]'\"]+)")
_SSHPASS_WITH_ARG = frozenset({"-f", "-d", "-P"})  # options that take the next word
# mysql takes any unambiguous prefix of --password, and --password1..3 for more factors.
_MYSQL_LONG_PASSWORD = re.compile(r"--pass(?:w(?:o(?:r(?:d[123]?)?)?)?)?=")
_PASSWORD_OPTION = re.compile(r"-[pa]")  # mysql -pX, sshpass -p, redis-cli -a / --pass
_ARG_BEFORE = frozenset(" \t\n\"',[")


def _command_args(text: str, pos: int) -> list[tuple[int, int]]:
    """The arguments after a command name that ends at `pos`, as spans: shell words up to
    the end of the command (quotes kept: see `_unquote`), or the items of an exec array
    (`["mysqladmin", "ping", "-uroot", ...]`)."""
    limit = min(len(text), pos + _COMMAND_WINDOW)
    args: list[tuple[int, int]] = []
    array = _ARRAY_START.match(text, pos, limit)
    if array is not None:
        pos = array.end()
        while len(args) < 64:
            item = _ARRAY_ITEM.match(text, pos, limit)
            if item is None:
                break
            args.append(item.span(item.lastindex or 0))
            sep = _ARRAY_SEP.match(text, item.end(), limit)
            if sep is None:
                break
            pos = sep.end()
        return args
    while len(args) < 64:
        word = _SHELL_WORD.match(text, pos, limit)
        if word is None:
            break
        if word.lastindex:
            args.append(word.span(1))
        pos = word.end()
    return args


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
    `sshpass -p X`, `redis-cli -a X`. One scan finds the options; the command is looked
    for only behind them, on the same (continued) line."""
    spans: list[Span] = []
    done: set[int] = set()
    covered = -1  # the arguments of the commands read so far end here
    for option in _PASSWORD_OPTION.finditer(text):
        at = option.start()
        if at < covered:
            continue
        before = text[at - 1] if at else " "
        if before == "-" and at >= 2:  # --pass
            before = text[at - 2]
        if before not in _ARG_BEFORE:
            continue
        since = _command_line_start(text, at)
        for anchor, tool, pattern in _COMMANDS:
            if text.find(anchor, since, at) < 0:
                continue
            for match in pattern.finditer(text, since, at):
                name_at = match.start()
                if name_at in done or (name_at and text[name_at - 1] in _COMMAND_GLUE):
                    continue
                done.add(name_at)
                args = _command_args(text, match.end())
                if args:
                    covered = max(covered, args[-1][1])
                for start, end in _TOOL_VALUES[tool](text, args):
                    if end > start and \
                            value_is_secret(text[start:end], "quoted", PASSWORD_NAME):
                        spans.append(Span(start, end, "cli-password", P_CONTEXT))
    return spans


def _command_line_start(text: str, pos: int) -> int:
    """Where the line holding `pos` starts, going back over backslash-continued lines."""
    low = max(0, pos - _COMMAND_WINDOW)
    start = text.rfind("\n", low, pos) + 1
    while start > low + 1 and (text[start - 2] == "\\" or
                               (text[start - 2] == "\r" and text[start - 3:start - 2] == "\\")):
        start = text.rfind("\n", low, start - 2) + 1
    return max(start, low)
