"""Redaction of everything that leaves the machine (the Director's payload).

A `Redactor` replaces secrets with placeholders such as `[REDACTED:github-token#1]`. One
Redactor serves one payload (task, transcript, files): the same value always gets the same
placeholder, numbered per kind, and the placeholder -> value map stays in memory so that
`restore()` can put the values back into a Director's plan locally.

Rules (each a kind; the values are matched in full, never cut short):

- Token formats: AWS access key ids (AKIA/ASIA/ABIA/ACCA), GitHub classic (ghp_, gho_, ghu_,
  ghs_, ghr_) and fine-grained (github_pat_), GitLab (glpat- and the other gl*- prefixes),
  Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xapp-) and webhook paths, OpenAI (sk-,
  sk-proj-, sk-svcacct-, sk-admin-), Anthropic (sk-ant-), Stripe secret and restricted keys
  (sk_live_, sk_test_, rk_live_, rk_test_) and webhook secrets (whsec_), Google API keys
  (AIza) and OAuth secrets/tokens (GOCSPX-, ya29.), Hugging Face (hf_), npm (npm_), PyPI
  (pypi-), SendGrid (SG.), JWTs, age secret keys.
  Stripe publishable keys (pk_live_, pk_test_) are public by design (they ship in web
  pages), so they are kept: the Director may need them to reason about a checkout page.
- Private keys: the whole PEM block from BEGIN to END, every line, for every key type
  (RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8, PGP) and PuTTY key files. A block without
  its END line is redacted up to the last line that still looks like key material.
- Passwords in URLs (`scheme://user:PASSWORD@host`): only the password; user and host stay.
- Passwords told by their place rather than a name: on a command line (`mysql -pX`,
  `mysqldump`/`mariadb` likewise, `sshpass -p X`, `redis-cli -a X`, in shell words or an
  exec array; a bare `-p` prompts and is kept), the last field of a `.pgpass` line, SQL
  `IDENTIFIED BY '...'` and `PASSWORD '...'` inside CREATE/ALTER USER/ROLE/LOGIN, GRANT
  or SET PASSWORD (prose that says "identified by" is not a statement), the `sig=` of an
  Azure SAS query (with `sv=`/`se=`/`sp=` beside it), and the private members of a JSON
  Web Key (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k` in an object with `kty`; `n`, `e`, `x`,
  `y` are public and stay).
- Assignments whose name says secret, token, password/passwd/pwd/pass, passphrase,
  credential(s), auth/authorization, or a qualified key (api_key, private_key,
  access_key, SECRET_KEY_BASE, ...), in .env, shell, YAML, JSON, Python, TOML, INI, XML,
  command-line flags and URL query strings. The name decides: `token_url`, `max_tokens`,
  `secret_name`, `sort_key`, `public_key` are not secrets. Values that are references
  (`${VAR}`, `{{ secrets.X }}`, `os.environ[...]`, a bare variable in code), booleans,
  version numbers and obvious placeholders (`your-api-key-here`, `<token>`, `xxxx`) stay.
- Next to such a name but in any syntax (prose, `aws configure set ...`, headers, Russian
  "пароль"/"токен"/"секрет"/"ключ"): a high-entropy string (16+ characters, letters and
  digits, > 3 bits per character, not a UUID or a prefixed hash), a Bearer credential, or,
  after a password/secret/token word, a 6+ character value that is not a plain word or
  identifier.
- Every other occurrence of a value already found (8+ characters, not only letters)
  anywhere in the payload, so a password found in `.env` is also hidden in a log line.
- Paths: the user's home directory becomes `~` (`/home/alice/x` -> `~/x`, also
  `/Users/alice`, `C:\\Users\\alice`, other users' homes and `/root`). Other absolute
  paths outside the repository root are replaced by `[REDACTED:path#n]` when they are
  clearly filesystem paths: a Windows drive path, or a POSIX path whose first directory is
  a well-known filesystem root (/srv, /mnt, /opt, /data, /Volumes, ...) or a directory
  that exists at the top of this machine's filesystem. System locations (/usr, /bin,
  /lib, /etc, /tmp, /dev, /proc, /nix, /var/log, /System, C:\\Windows, C:\\Program Files
  ...) are kept, so `/usr/bin/python` survives, and so do URL routes such as `/api/v1`.
- Settings: `redact.extra_patterns` (regular expressions, kind `custom`; a group named
  `secret`, or else group 1, narrows what is replaced) and `redact.allow` (values that
  are never replaced).

Text that already contains placeholders keeps them; a placeholder written in the input
can never be restored to a value (it would let a file smuggle a secret into a plan).
Cost is linear in the text: every scan starts at a literal, and a name's line is only
looked at within a window. The detectors live in `council/redact_rules.py`; this module
holds the placeholders, the path rule, trimming and the public API.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from consilium_cli.council.redact_rules import (
    P_HOME,
    P_KNOWN,
    P_PATH,
    P_RESERVED,
    P_TOKEN,
    PLACEHOLDER,
    PROPAGATED_KINDS,
    Span,
    find_secrets,
    propagates,
    resolve,
)
from consilium_cli.errors import ConfigError

if TYPE_CHECKING:
    from consilium_cli.config import RedactSettings

KINDS: dict[str, str] = {
    "aws-access-key-id": "AWS access key id (AKIA..., ASIA...)",
    "aws-secret-key": "AWS secret access key (40 characters next to an aws secret name)",
    "github-token": "GitHub classic token (ghp_, gho_, ghu_, ghs_, ghr_)",
    "github-fine-grained-token": "GitHub fine-grained token (github_pat_)",
    "gitlab-token": "GitLab token (glpat-, gldt-, glrt-, ...)",
    "slack-token": "Slack token (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xapp-)",
    "slack-webhook": "Slack webhook path (hooks.slack.com/services/...)",
    "openai-key": "OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)",
    "anthropic-key": "Anthropic API key (sk-ant-)",
    "stripe-key": "Stripe secret or restricted key (sk_live_, sk_test_, rk_live_, rk_test_)",
    "stripe-webhook-secret": "Stripe webhook signing secret (whsec_)",
    "google-api-key": "Google API key (AIza...)",
    "google-oauth": "Google OAuth client secret or access token (GOCSPX-, ya29.)",
    "huggingface-token": "Hugging Face token (hf_)",
    "npm-token": "npm token (npm_)",
    "pypi-token": "PyPI upload token (pypi-)",
    "sendgrid-key": "SendGrid API key (SG.)",
    "jwt": "JSON Web Token (eyJ....eyJ....sig)",
    "private-key": "private key block (PEM, OpenSSH, PGP, PuTTY, age)",
    "url-password": "password inside a URL (scheme://user:PASSWORD@host)",
    "basic-auth": "password in a user:password command-line argument (curl -u)",
    "cli-password": "password on a database or ssh command line (mysql/mysqldump/mariadb "
                    "-pX, sshpass -p X, redis-cli -a X or --pass X)",
    "pgpass": "password field of a .pgpass line (host:port:database:user:PASSWORD)",
    "sql-password": "password in a SQL statement (IDENTIFIED BY '...', PASSWORD '...')",
    "azure-sas": "signature of an Azure SAS token (sig= next to sv=/se=/sp=)",
    "jwk-private-key": "private member of a JSON Web Key (d, p, q, dp, dq, qi, k; "
                       "object with kty)",
    "authorization": "credential after Bearer/Basic/Token in an Authorization value",
    "secret-assignment": "value assigned to a name that says secret/token/password/key",
    "high-entropy": "high-entropy string next to a secret-like name",
    "custom": "match of a redact.extra_patterns setting",
    "path": "absolute path outside the repository and the home directory",
    "home-path": "home directory name (replaced by ~, not a placeholder)",
}

# Propagating a found value costs one scan of the text, so the work is bounded for very
# large texts (a Director payload is far below the bound).
_PROPAGATION_BUDGET = 150_000_000

# -------------------------------------------------------------------------------- paths

_WELL_KNOWN_ROOTS = frozenset({
    "home", "Users", "root", "srv", "mnt", "media", "opt", "var", "data", "Volumes",
    "private", "workspace", "workspaces", "builds", "scratch", "net", "afs", "cygdrive",
    "export", "usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "dev", "proc",
    "sys", "run", "boot", "tmp", "nix", "snap", "System", "Library", "Applications", "cores"})
_SYSTEM_ROOTS = frozenset({
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sys",
    "run", "boot", "tmp", "nix", "snap", "System", "Library", "Applications", "cores"})
_SYSTEM_SUBDIRS = {
    "var": frozenset({"log", "lib", "cache", "tmp", "run", "spool", "folders", "empty", "db",
                      "lock", "mail", "backups"}),
    "opt": frozenset({"homebrew", "local", "conda"}),
    "private": frozenset({"tmp", "var", "etc"}),
}
_WINDOWS_SYSTEM = ("windows", "program", "progra~", "programdata")
_PATH_BODY = re.compile(r"[^\s\"'`<>|;,()\[\]{}:*?]*")
_WIN_PATH = re.compile(r"[A-Za-z]:(?:\\\\|\\|/)[^\s\"'`<>|;,()\[\]{}*?:]{0,4096}")
_WIN_MARK = re.compile(r":(?:\\|/(?!/))")
_WIN_HOME = re.compile(r"[A-Za-z]:(?:\\\\|\\|/)Users(?:\\\\|\\|/)[^\\/]+", re.IGNORECASE)
_POSIX_HOME = re.compile(r"/(?:home|Users)/[^/]+|/root(?=/|$)")
_PATH_BEFORE = frozenset(" \t\n\r\"'`=([{<>,;|:@*")


@lru_cache(maxsize=1)
def _machine_roots() -> frozenset[str]:
    """Top-level directories of this machine's filesystem (paths that exist here)."""
    try:
        names = {entry.name for entry in os.scandir("/") if entry.is_dir(follow_symlinks=False)}
    except OSError:
        return frozenset()
    return frozenset(n for n in names if re.fullmatch(r"[A-Za-z0-9_.-]+", n))


@lru_cache(maxsize=16)
def _path_pattern(roots: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(r) for r in sorted(roots, key=len, reverse=True))
    return re.compile(r"/(?:" + names + r")(?=[/\s\"'`),;:\]}>|]|$)" + _PATH_BODY.pattern)

# -------------------------------------------------------------------------------- rules

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


# ------------------------------------------------------------------------------- results

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


@dataclass(frozen=True)
class Trimmed:
    """A text cut to a budget, and what was cut."""

    text: str
    cut_lines: int
    cut_chars: int
    cut_mid_line: bool = False

    @property
    def note(self) -> str:
        if not self.cut_chars:
            return ""
        return f"[consilium: {self.cut_lines} lines ({self.cut_chars} characters) cut to fit]"


# ------------------------------------------------------------------------------ redactor

class Redactor:
    """Redacts the texts of one payload with consistent placeholders, and restores them."""

    def __init__(self, rules: RedactionRules | None = None, *, repo_root: Path | None = None,
                 home: Path | None = None) -> None:
        self.rules = rules or RedactionRules()
        self._repo = _posix(repo_root)
        self._home = _posix(home if home is not None else _default_home())
        if self._home in ("", "/"):
            self._home = ""
        roots = self.rules.path_roots
        if roots is None:
            roots = _WELL_KNOWN_ROOTS | _machine_roots()
        self._path_re = _path_pattern(frozenset(roots) | {"home", "Users", "root"})
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
            spans += self._paths(text)
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

    def _paths(self, text: str) -> list[Span]:
        spans: list[Span] = []
        if "/" in text:
            for match in self._path_re.finditer(text):
                start = match.start()
                if start and text[start - 1] not in _PATH_BEFORE:
                    continue
                path = match.group(0).rstrip(".")
                spans += self._classify_posix(start, path)
        if ":" in text:
            for match in _WIN_MARK.finditer(text):
                start = match.start() - 1
                if start < 0 or not text[start].isascii() or not text[start].isalpha():
                    continue
                if start and (text[start - 1].isalnum() or text[start - 1] in "/._-\\"):
                    continue
                path_match = _WIN_PATH.match(text, start)
                if path_match:
                    spans += self._classify_windows(start, path_match.group(0).rstrip("."))
        home = self._home
        if home and home in text:
            pos = text.find(home)
            while pos >= 0:
                end = pos + len(home)
                before = text[pos - 1] if pos else " "
                after = text[end] if end < len(text) else " "
                if not (before.isalnum() or before in "._-") and \
                        not (after.isalnum() or after in "._-"):
                    spans.append(Span(pos, end, "home-path", P_HOME, "~"))
                pos = text.find(home, end)
        return spans

    def _classify_posix(self, start: int, path: str) -> list[Span]:
        if len(path) < 2:
            return []
        repo, home = self._repo, self._home
        if repo and (path == repo or path.startswith(repo + "/")):
            if home and (repo == home or repo.startswith(home + "/")):
                return [Span(start, start + len(home), "home-path", P_HOME, "~")]
            return []
        if home and (path == home or path.startswith(home + "/")):
            return [Span(start, start + len(home), "home-path", P_HOME, "~")]
        match = _POSIX_HOME.match(path)
        if match:
            return [Span(start, start + match.end(), "home-path", P_HOME, "~")]
        parts = path.split("/")
        first = parts[1]
        if first in _SYSTEM_ROOTS or first in ("home", "Users"):
            return []
        subdirs = _SYSTEM_SUBDIRS.get(first)
        if subdirs is not None and (len(parts) < 3 or parts[2] in subdirs or not parts[2]):
            return []
        return [Span(start, start + len(path), "path", P_PATH)]

    def _classify_windows(self, start: int, path: str) -> list[Span]:
        norm = re.sub(r"[\\/]+", "/", path).rstrip("/")
        low = norm.lower()
        repo, home = self._repo.lower(), self._home.lower()
        if repo and ":" in repo and (low == repo or low.startswith(repo + "/")):
            return []
        match = _WIN_HOME.match(path)
        if match:
            return [Span(start, start + match.end(), "home-path", P_HOME, "~")]
        if home and ":" in home and (low == home or low.startswith(home + "/")):
            return []
        parts = low.split("/")
        if len(parts) < 2 or not parts[1] or parts[1].startswith(_WINDOWS_SYSTEM):
            return []
        return [Span(start, start + len(path), "path", P_PATH)]

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


# --------------------------------------------------------------------------------- trim

def trim_to_budget(text: str, max_chars: int, *,
                   keep: Literal["head", "tail"] = "head") -> Trimmed:
    """Cut `text` to at most `max_chars` at line boundaries, never inside a placeholder.

    The kept part ends (or, with keep="tail", starts) with a line that says how many
    lines and characters were cut. When not even one whole line fits, the line is cut at
    the last position outside a placeholder and `cut_mid_line` is set.
    """
    if len(text) <= max_chars:
        return Trimmed(text, 0, 0)
    lines = text.splitlines(keepends=True)
    reserve = len(Trimmed("", 10**9, 10**12).note) + 1
    budget = max(0, max_chars - reserve)
    ordered = lines if keep == "head" else lines[::-1]
    kept: list[str] = []
    size = 0
    for line in ordered:
        if size + len(line) > budget:
            break
        kept.append(line)
        size += len(line)
    mid_line = False
    if not kept and ordered and budget:
        kept = [_cut_line(ordered[0], budget, keep)]
        size = len(kept[0])
        mid_line = True
    if keep == "tail":
        kept.reverse()
    body = "".join(kept)
    cut_lines = len(lines) - len(kept) + (1 if mid_line else 0)
    trimmed = Trimmed("", cut_lines, len(text) - len(body), mid_line)
    note = trimmed.note
    if len(body) + len(note) + 1 > max_chars:
        return Trimmed(body, cut_lines, len(text) - len(body), mid_line)
    if keep == "head":
        joined = body + ("" if not body or body.endswith("\n") else "\n") + note + "\n"
    else:
        joined = note + "\n" + body
    return Trimmed(joined, cut_lines, len(text) - len(body), mid_line)


def _cut_line(line: str, budget: int, keep: str) -> str:
    cut = budget if keep == "head" else len(line) - budget
    for match in PLACEHOLDER.finditer(line):
        if match.start() < cut < match.end():
            cut = match.start() if keep == "head" else match.end()
    # Between two words where the line has a space: a token cut in part no longer looks
    # like one, so text trimmed before redaction would keep what was left of it.
    body = line.rstrip("\n")
    if keep == "head":
        space = max(body.rfind(" ", 0, cut), body.rfind("\t", 0, cut))
        cut = space if space > 0 else cut
    else:
        spaces = [at for at in (body.find(" ", cut), body.find("\t", cut)) if at >= 0]
        cut = min(spaces) + 1 if spaces else cut
    return line[:cut] if keep == "head" else line[cut:]


# ----------------------------------------------------------------------------- helpers

def _posix(path: Path | None) -> str:
    if path is None:
        return ""
    text = str(path)
    if re.match(r"[A-Za-z]:[\\/]", text):
        return re.sub(r"[\\/]+", "/", text).rstrip("/")
    return text.rstrip("/") or "/"


def _default_home() -> Path | None:
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None


__all__ = ["KINDS", "PLACEHOLDER", "Redacted", "RedactionRules", "Redactor", "Trimmed",
           "redact", "trim_to_budget"]
