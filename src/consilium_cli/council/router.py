"""Which roles join a task, and why.

Stage 1 (`score_roles`) is deterministic and fast: the task's words are stemmed with
Snowball and scored against one lexicon per language (package data in `lexicons/`, found
at run time, so a language is added by adding a file); named files, diff paths, paths
written in the task and code snippets add signals of their own. Each role scores the
weights of the distinct entries it matched, and every match is kept as a readable reason.
A long word that no entry knows but that is one typo away from one ("безопастности") counts
a tier lower; a lexicon's idioms ("в первую очередь") are taken out before matching.

Stage 2 runs only when stage 1 found no role with enough evidence and an engine is given:
the local model picks one to three roles under a JSON-schema grammar, and the rules still
apply to its answer (dev joins every task that changes code).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from consilium_cli.council.roles import ROLES, parse_roles
from consilium_cli.errors import ConfigError, EngineError, UsageError

if TYPE_CHECKING:
    from consilium_cli.llm.engine import Engine

Stage = Literal["lexicon", "model", "override"]

WEIGHTS = {"strong": 3, "normal": 2, "weak": 1}
CHOOSE = 2  # a role joins when the weights of its distinct matches add up to this
FALLBACK = ("dev", "architect")  # nothing matched: the generalists who write and shape code
MAX_TEXT_PATHS = 64  # paths written in the task that are looked at
MODEL_TASK_CHARS = 2000  # task text shown to the model
PHRASE_GAP = 3  # words allowed between two words of a phrase, at most one not a stop word
INQUIRY_WINDOW = 4  # "review …", "can you check …", "почему …": the task's first words
_CHANGE = "change"  # lexicon section: words that mean the task changes code
_INQUIRY = "inquiry"  # lexicon section: words that mean the task only asks or checks


@dataclass(frozen=True)
class Routing:
    """The roles that join a task, the evidence for each, and how they were chosen.

    `confident` is False only when the lexicon's choice stands on too little evidence (no
    role reached its threshold and no model was asked); overrides and model answers are
    decisions, so they are confident."""

    roles: tuple[str, ...]
    reasons: dict[str, list[str]]
    stage: Stage
    confident: bool

    def to_json(self) -> dict[str, Any]:
        return {"roles": list(self.roles),
                "reasons": {role: list(self.reasons.get(role, [])) for role in self.roles},
                "stage": self.stage}


@dataclass
class Scores:
    """What stage 1 found: evidence per role and whether the task changes code."""

    points: dict[str, dict[str, int]] = field(default_factory=dict)  # role -> reason -> weight
    changes: list[str] = field(default_factory=list)  # reasons the task changes code
    inquiry: list[str] = field(default_factory=list)  # reasons it only asks or checks

    def add(self, role: str, reason: str, weight: int) -> None:
        found = self.points.setdefault(role, {})
        found[reason] = max(weight, found.get(reason, 0))

    def score(self, role: str) -> int:
        return sum(self.points.get(role, {}).values())

    def reasons(self, role: str) -> list[str]:
        found = self.points.get(role, {})
        return sorted(found, key=lambda reason: -found[reason])

    def evident(self) -> list[str]:
        """Roles whose evidence reaches CHOOSE, in canonical order."""
        return [role for role in ROLES if self.score(role) >= CHOOSE]


# -- lexicons -------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_UP, _LO = "[A-ZА-ЯЁ]", "[^\\W\\d_A-ZА-ЯЁ]"
_CAMEL = re.compile(f"{_UP}+(?={_UP}{_LO})|{_UP}?{_LO}+|{_UP}+|\\d+")
_CAMEL_HINT = re.compile("[a-zа-яё][A-ZА-ЯЁ]")  # cheap test before the word search
_CAMEL_WORD = re.compile(f"\\b[^\\W_]*?(?:{_LO}{_UP}|{_UP}{_UP}{_LO})[^\\W_]*")
_ACRONYM_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")  # "JWTs", "CVEs": the stemmer keeps the "s"
_CACHE_LIMIT = 200_000
MAX_WORD_CHARS = 64  # longer "words" (hashes, base64, minified code) are no vocabulary
MAX_DISTINCT_WORDS = 10_000  # distinct words of one text looked up (a 1 MB text stays fast)
MAX_PATH_CHARS = 512
TYPO_MIN_CHARS = 6  # words and entries at least this long are matched despite one typo
TYPO_MAX_WORDS = 256  # unknown words of one text checked for typos, per lexicon


@dataclass(frozen=True)
class _Phrase:
    keys: tuple[str, ...]
    target: str
    weight: int
    entry: str


@dataclass
class Lexicon:
    """One language's entries, compiled into match keys: `s:stem`, `p:prefix`, `=word`."""

    language: str
    stem: Callable[[str], str]
    alphabet: frozenset[str]  # letters the stemmer works on; other words are kept whole
    cuts_endings: bool  # the stemmer only cuts endings (lets `heads` skip most words)
    heads: frozenset[str]  # entry stems and prefixes: a word is stemmed only if one starts it
    words: dict[str, list[tuple[str, int, str]]]  # key -> (target, weight, entry)
    phrases: dict[str, list[_Phrase]]  # first key -> phrases starting with it
    prefixes: frozenset[str]
    stopwords: frozenset[str]
    # one-letter-shorter form (or whole) -> (entry word, stem or prefix; its key): see `typos`
    typo_index: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    idioms: tuple[tuple[str, ...], ...] = ()  # set phrases whose words are no evidence
    _keys: dict[str, frozenset[str]] = field(default_factory=dict)
    _longest_head: int = 0
    _known: frozenset[str] = frozenset()  # every key some entry or phrase needs
    _typo_cuts: tuple[int, ...] = ()  # lengths of word starts compared with prefix entries

    def __post_init__(self) -> None:
        self._longest_head = max(map(len, self.heads | self.prefixes), default=0)
        self._known = frozenset(self.words).union(
            *(p.keys for group in self.phrases.values() for p in group))
        lengths = {len(target) for hits in self.typo_index.values() for target, key in hits
                   if key.startswith("p:")}
        self._typo_cuts = tuple(sorted({n + d for n in lengths for d in (-1, 0, 1)}))

    def entries(self, target: str) -> int:
        """How many entries point at `target` (a role, or the change/inquiry sections)."""
        single = sum(1 for hits in self.words.values() for t, _, _ in hits if t == target)
        multi = sum(1 for group in self.phrases.values() for p in group if p.target == target)
        return single + multi

    def keys(self, token: str) -> frozenset[str]:
        """Every match key of one normalised token (cached)."""
        cached = self._keys.get(token)
        if cached is None:
            starts = [token[:k] for k in range(2, min(len(token), self._longest_head) + 1)]
            found = {"=" + token}
            found.update("p:" + start for start in starts if start in self.prefixes)
            # Stemming changes only endings, so a word no entry stem starts cannot match
            # one; skipping the (pure Python) stemmer keeps long texts fast.
            if len(token) <= 2 or not self.cuts_endings or not self.heads.isdisjoint(starts):
                whole = bool(self.alphabet) and self.alphabet.isdisjoint(token)
                found.add("s:" + (token if whole else self.stem(token)))
            cached = frozenset(found)
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
            self._keys[token] = cached
        return cached

    def typos(self, tokens: Iterable[str]) -> dict[str, frozenset[str]]:
        """Keys that words unknown to this lexicon would have without one typo
        ("безопастности" -> the key of "безопасн*"), for the first TYPO_MAX_WORDS such words
        written in this lexicon's alphabet."""
        found: dict[str, frozenset[str]] = {}
        checked = 0
        for token in tokens:
            if (len(token) < TYPO_MIN_CHARS or not self.alphabet.issuperset(token)
                    or not self._known.isdisjoint(self.keys(token))):
                continue
            checked += 1
            if checked > TYPO_MAX_WORDS:
                break
            keys = self._typo_keys(token)
            if keys:
                found[token] = keys
        return found

    def _typo_keys(self, token: str) -> frozenset[str]:
        stem = self.stem(token)
        starts = {token[:n] for n in self._typo_cuts if n <= len(token)}
        keys = set()
        for candidate in {token, stem, *starts}:
            for variant in _one_deletion(candidate):
                for target, key in self.typo_index.get(variant, ()):
                    if key.startswith("p:"):
                        near = any(one_typo_apart(target, token[:n])
                                   for n in range(len(target) - 1, len(target) + 2))
                    else:
                        near = one_typo_apart(target, token) or one_typo_apart(target, stem)
                    if near:
                        keys.add(key)
        return frozenset(keys)


def _one_deletion(text: str) -> set[str]:
    return {text, *(text[:i] + text[i + 1:] for i in range(len(text)))}


def one_typo_apart(a: str, b: str) -> bool:
    """`b` is `a` with one letter changed, added or dropped, or two neighbours swapped, past
    the first two letters and before the last one. Typos rarely hit those, and real words
    often differ from an entry just there: "попадают" is not "пропада*", nor "авторитет"
    "авториз*"."""
    if a == b or a[:2] != b[:2] or a[-1:] != b[-1:] or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1:]


def normalise(token: str) -> str:
    return token.lower().replace("ё", "е").replace("’", "'")


def tokenize(text: str) -> list[str]:
    """Normalised words, then the parts of each camelCase word ("UnicodeDecodeError" ->
    unicode, decode, error). Brand names stay whole ("SaaS", "OAuth" would split into
    meaningless letters), the plurals of acronyms add the acronym ("JWTs" -> jwts, jwt), and
    overlong "words" (hashes, base64) are dropped."""
    out = [token for token in _TOKEN.findall(normalise(text)) if len(token) <= MAX_WORD_CHARS]
    out.extend(match.group(1).lower() for match in _ACRONYM_PLURAL.finditer(text)
               if len(match.group(1)) < MAX_WORD_CHARS)
    if not _CAMEL_HINT.search(text):
        return out
    for match in _CAMEL_WORD.finditer(text):
        word = match.group(0)
        if len(word) <= MAX_WORD_CHARS and not _ACRONYM_PLURAL.fullmatch(word):
            parts = _CAMEL.findall(word)
            if len(parts) > 1 and min(map(len, parts)) > 1:
                out.extend(normalise(part) for part in parts)
    return out


def _entry_keys(entry: str, lexicon_stem: Callable[[str], str]) -> tuple[str, ...]:
    keys = []
    for word in entry.split():
        if word.startswith("="):
            keys.extend("=" + t for t in tokenize(word[1:]))
        elif word.endswith("*"):
            parts = tokenize(word[:-1])
            keys.extend(["s:" + lexicon_stem(t) for t in parts[:-1]] + ["p:" + parts[-1]])
        else:
            keys.extend("s:" + lexicon_stem(t) for t in tokenize(word))
    return tuple(keys)


def compile_lexicon(name: str, data: Mapping[str, Any]) -> Lexicon:
    """One parsed lexicon file compiled into match keys."""
    import snowballstemmer

    language = str(data.get("language", name))
    algorithm = str(data.get("stemmer", ""))
    if algorithm not in snowballstemmer.algorithms():
        raise ConfigError(f"routing lexicon {name}.toml names an unknown stemmer {algorithm!r}")
    stemmer = snowballstemmer.stemmer(algorithm)
    stem = lru_cache(maxsize=_CACHE_LIMIT)(stemmer.stemWord)
    words: dict[str, list[tuple[str, int, str]]] = {}
    phrases: dict[str, list[_Phrase]] = {}
    prefixes: set[str] = set()
    heads: set[str] = set()
    typo_targets: set[tuple[str, str]] = set()
    sections: list[tuple[str, Mapping[str, Any]]] = [
        (_CHANGE, {"normal": data.get(_CHANGE, {}).get("words", [])}),
        (_INQUIRY, {"normal": data.get(_INQUIRY, {}).get("words", [])}),
    ]
    for role, table in data.get("roles", {}).items():
        if role not in ROLES:
            raise ConfigError(f"routing lexicon {name}.toml has entries for an unknown role "
                              f"{role!r}; roles are {', '.join(ROLES)}")
        sections.append((role, table))
    for target, table in sections:
        for tier, weight in WEIGHTS.items():
            for entry in table.get(tier, []):
                keys = _entry_keys(entry, stem)
                if not keys:
                    continue
                for key in keys:
                    if key.startswith("s:"):
                        # English Snowball turns a final "y" into "i" ("library" ->
                        # "librari") and restores an "e" ("proving" -> "prove"), so the
                        # stem without that letter must start the word too.
                        head = key[2:]
                        heads.add(head[:-1] if head.endswith(("i", "e")) and len(head) > 2
                                  else head)
                prefixes.update(k[2:] for k in keys if k.startswith("p:"))
                if len(keys) == 1:
                    words.setdefault(keys[0], []).append((target, weight, entry))
                else:
                    phrases.setdefault(keys[0], []).append(_Phrase(keys, target, weight, entry))
                if target in ROLES and (len(keys) > 1 or weight >= WEIGHTS["normal"]):
                    typo_targets.update(_typo_targets(entry, stem))
    stopwords = frozenset(normalise(w) for w in data.get("stopwords", []))
    alphabet = frozenset(normalise(str(data.get("alphabet", ""))))
    cuts_endings = data.get("stemmer_cuts_endings", False) is True
    typo_index: dict[str, list[tuple[str, str]]] = {}
    for target_word, key in sorted(typo_targets):
        if len(target_word) >= TYPO_MIN_CHARS and alphabet.issuperset(target_word):
            for variant in _one_deletion(target_word):
                typo_index.setdefault(variant, []).append((target_word, key))
    idioms = tuple(tuple(tokenize(idiom)) for idiom in data.get("idioms", []) if idiom.strip())
    return Lexicon(language, stem, alphabet, cuts_endings, frozenset(heads), words, phrases,
                   frozenset(prefixes), stopwords, typo_index, idioms)


def _typo_targets(entry: str, stem: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    """(word, key) pairs a misspelt word is compared with: an entry word and its stem for a
    stemmed entry, the prefix for a starred one; exact ("=") entries take no typos."""
    for word in entry.split():
        parts = tokenize(word.rstrip("*"))
        if word.startswith("=") or len(parts) != 1:
            continue
        if word.endswith("*"):
            yield parts[0], "p:" + parts[0]
        else:
            yield parts[0], "s:" + stem(parts[0])
            yield stem(parts[0]), "s:" + stem(parts[0])


@lru_cache(maxsize=1)
def lexicons() -> tuple[Lexicon, ...]:
    """Every `lexicons/*.toml` in the package, compiled once."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    folder = resources.files("consilium_cli.council").joinpath("lexicons")
    found = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".toml"):
            name = item.name[:-5]
            try:
                data = tomllib.loads(item.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"routing lexicon {item.name} is not valid TOML: {exc}") \
                    from exc
            found.append(compile_lexicon(name, data))
    return tuple(found)


KeysOf = Callable[[str], frozenset[str]]


def _match_phrase(phrase: _Phrase, keys_of: KeysOf, stopwords: frozenset[str],
                  tokens: Sequence[str], start: int) -> int | None:
    """End index of `phrase` matched at `start`, skipping a few words between; else None."""
    pos = start + 1
    for key in phrase.keys[1:]:
        skipped = content = 0
        while pos < len(tokens) and key not in keys_of(tokens[pos]):
            content += tokens[pos] not in stopwords
            skipped += 1
            if skipped > PHRASE_GAP or content > 1:
                return None
            pos += 1
        if pos >= len(tokens):
            return None
        pos += 1
    return pos


def _match_words(tokens: Sequence[str]) -> Iterator[tuple[str, str, int]]:
    """(target, reason, weight) for each lexicon entry the tokens match, once per entry
    (so "пароли" and "паролем" in one task count once). Words that match an entry only
    through one typo ("безопастности") come after every exact match."""
    unique = list(dict.fromkeys(tokens))[:MAX_DISTINCT_WORDS]
    seen: set[tuple[str, str, str]] = set()
    for lexicon in lexicons():
        typos = lexicon.typos(unique)

        def keys_of(token: str, lexicon: Lexicon = lexicon,
                    typos: dict[str, frozenset[str]] = typos) -> frozenset[str]:
            extra = typos.get(token)
            return lexicon.keys(token) | extra if extra else lexicon.keys(token)

        present: set[str] = set()
        for token in unique:
            keys = lexicon.keys(token)
            present.update(keys)
            for key in keys:
                for target, weight, entry in lexicon.words.get(key, ()):
                    if (lexicon.language, target, entry) not in seen:
                        seen.add((lexicon.language, target, entry))
                        yield target, f"word '{token}'", weight
        # A misspelt word is one piece of evidence per role: its best entry, a tier lower.
        for token, keys in typos.items():
            present.update(keys)
            best: dict[str, tuple[int, str]] = {}
            for key in sorted(keys):
                for target, weight, entry in lexicon.words.get(key, ()):
                    if (weight > 1 and target in ROLES
                            and (lexicon.language, target, entry) not in seen):
                        seen.add((lexicon.language, target, entry))
                        if weight > best.get(target, (0, ""))[0]:
                            best[target] = (weight, entry)
            for target, (weight, entry) in best.items():
                yield target, f"word '{token}' (read as '{entry}')", weight - 1
        # Only phrases whose every word occurs somewhere are tried, position by position.
        viable: dict[str, list[_Phrase]] = {}
        for key in present.intersection(lexicon.phrases):
            group = [p for p in lexicon.phrases[key] if present.issuperset(p.keys)]
            if group:
                viable[key] = group
        if not viable:
            continue
        starters = {t for t in unique if not viable.keys().isdisjoint(keys_of(t))}
        for i in [i for i, token in enumerate(tokens) if token in starters]:
            for key in keys_of(tokens[i]):
                for phrase in viable.get(key, ()):
                    if (lexicon.language, phrase.target, phrase.entry) in seen:
                        continue
                    end = _match_phrase(phrase, keys_of, lexicon.stopwords, tokens, i)
                    if end is not None:
                        seen.add((lexicon.language, phrase.target, phrase.entry))
                        span = " ".join(tokens[i:end])
                        yield phrase.target, f"phrase '{span}'", phrase.weight


def drop_idioms(tokens: list[str]) -> list[str]:
    """The tokens without the lexicons' idioms, set phrases that only look like evidence
    ("в первую очередь" means "first of all", not a queue)."""
    words = set(tokens)
    idioms = [idiom for lexicon in lexicons() for idiom in lexicon.idioms
              if words.issuperset(idiom)]
    if not idioms:
        return tokens
    keep = [True] * len(tokens)
    for idiom in idioms:
        for i in range(len(tokens) - len(idiom) + 1):
            if tokens[i] == idiom[0] and tuple(tokens[i:i + len(idiom)]) == idiom:
                keep[i:i + len(idiom)] = [False] * len(idiom)
    return [token for token, kept in zip(tokens, keep) if kept]


def _score_words(tokens: Sequence[str], scores: Scores) -> None:
    for target, reason, weight in _match_words(tokens):
        if target == _CHANGE:
            if reason not in scores.changes:
                scores.changes.append(reason)
        elif target != _INQUIRY:
            scores.add(target, reason, weight)
    # Only the opening words make a task a question or a review: "check" or "что" later in
    # a request ("…and check them", "потому что") do not.
    for target, reason, _ in _match_words(tokens[:INQUIRY_WINDOW]):
        if target == _INQUIRY and reason not in scores.inquiry:
            scores.inquiry.append(reason)


# -- paths ----------------------------------------------------------------------------

CODE_SUFFIXES = frozenset((
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java",
    ".kt", ".kts", ".scala", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".rb", ".php",
    ".swift", ".m", ".sh", ".bash", ".ps1", ".sql", ".vue", ".svelte", ".html", ".htm",
    ".css", ".scss", ".sass", ".less", ".jinja", ".jinja2", ".j2", ".hbs", ".ejs", ".erb",
    ".lua", ".dart", ".ex", ".exs", ".erl", ".clj", ".hs", ".ml", ".r", ".pl", ".tf",
    ".proto", ".graphql", ".gql", ".twig", ".liquid", ".njk", ".pug", ".haml", ".slim",
    ".mustache", ".handlebars", ".cshtml", ".razor", ".prisma",
))
CODE_NAMES = frozenset(("dockerfile", "makefile", "cmakelists.txt", "jenkinsfile", "rakefile"))


@dataclass(frozen=True)
class _PathRule:
    role: str
    names: frozenset[str] = frozenset()  # whole file names
    suffixes: tuple[str, ...] = ()  # end of the file name
    dirs: frozenset[str] = frozenset()  # a folder on the path
    words: frozenset[str] = frozenset()  # a word of the path (split on . _ - / and case)
    starts: tuple[str, ...] = ()  # start of the file name


def _set(*items: str) -> frozenset[str]:
    return frozenset(items)


PATH_RULES: tuple[_PathRule, ...] = (
    # tests
    _PathRule("qa",
              names=_set("conftest.py", "pytest.ini", "tox.ini", "noxfile.py", ".coveragerc",
                         "codecov.yml", "karma.conf.js", ".gitlab-ci.yml", ".travis.yml",
                         "jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml"),
              suffixes=("_test.py", "_test.go", "_spec.rb", ".test.js", ".test.ts",
                        ".test.tsx", ".test.jsx", ".spec.js", ".spec.ts", ".spec.tsx",
                        "test.java", "tests.cs"),
              dirs=_set("tests", "test", "__tests__", "spec", "specs", "e2e", "cypress",
                        "playwright", "testing", "fixtures", "workflows", ".circleci",
                        "__snapshots__", "testdata", "test_data", "benchmarks"),
              starts=("test_", "jest.config", "vitest.config", "playwright.config",
                      "cypress.config")),
    # authentication, secrets or crypto
    _PathRule("security",
              names=_set(".env", ".htpasswd", "id_rsa", "id_ed25519", "sudoers",
                         "security.md", ".npmrc", ".pypirc"),
              suffixes=(".pem", ".key", ".crt", ".p12", ".pfx", ".keystore", ".jks"),
              words=_set("auth", "authn", "authz", "authentication", "authorization",
                         "authorize", "login", "logout", "signin", "signup", "session",
                         "sessions", "password", "passwords", "passwd", "crypto",
                         "cryptography", "encryption", "secret", "secrets", "token", "tokens",
                         "jwt", "oauth", "oidc", "saml", "sso", "csrf", "cors", "permission",
                         "permissions", "acl", "rbac", "sanitize", "sanitizer", "security",
                         "credentials", "keys", "vault", "mfa", "totp", "firewall", "policy",
                         "policies", "cert", "certs", "certificates", "ssl", "tls", "cipher",
                         "hashing", "ratelimit", "throttle", "throttling", "captcha", "otp",
                         "twofactor", "webhook", "webhooks", "upload", "uploads", "guard",
                         "guards", "audit"),
              starts=(".env",)),
    # user interface
    _PathRule("ux",
              suffixes=(".css", ".scss", ".sass", ".less", ".styl", ".vue", ".svelte",
                        ".jinja", ".jinja2", ".j2", ".hbs", ".ejs", ".erb", ".po", ".pot",
                        ".xib", ".storyboard", ".stories.js", ".stories.tsx", ".stories.ts",
                        ".svg", ".twig", ".liquid", ".njk", ".pug", ".haml", ".slim",
                        ".mustache", ".handlebars", ".blade.php", ".cshtml", ".razor",
                        ".xaml"),
              dirs=_set("templates", "template", "components", "ui", "pages", "layouts",
                        "styles", "css", "scss", "i18n", "l10n", "locales", "locale",
                        "translations", "theme", "themes", "widgets", "screens", "frontend",
                        "icons", "fonts", "images", "img", "emails", "stories"),
              words=_set("ui", "ux", "theme", "style", "styles", "layout", "button", "modal",
                         "form", "forms", "menu", "navbar", "sidebar", "dialog", "i18n",
                         "messages", "strings"),
              starts=("tailwind.config",)),
    # search engines
    _PathRule("seo",
              names=_set("robots.txt", ".htaccess", "_redirects", "redirects.json",
                         "next-sitemap.config.js", "humans.txt", "feed.xml", "rss.xml",
                         "atom.xml", "manifest.webmanifest"),
              words=_set("sitemap", "sitemaps", "seo", "robots", "meta", "metadata",
                         "opengraph", "og", "canonical", "hreflang", "jsonld",
                         "head", "redirects", "structured", "breadcrumbs")),
    # dependencies, build or structure
    _PathRule("architect",
              names=_set("pyproject.toml", "setup.py", "setup.cfg", "pipfile", "pipfile.lock",
                         "poetry.lock", "uv.lock", "package.json", "package-lock.json",
                         "yarn.lock", "pnpm-lock.yaml", "go.mod", "go.sum", "cargo.toml",
                         "cargo.lock", "pom.xml", "build.gradle", "build.gradle.kts",
                         "settings.gradle", "gemfile", "gemfile.lock", "composer.json",
                         "composer.lock", "dockerfile", "docker-compose.yml",
                         "docker-compose.yaml", "compose.yaml", "makefile", "cmakelists.txt",
                         "openapi.yaml", "openapi.json", "swagger.yaml", "swagger.json",
                         "tsconfig.json", "webpack.config.js", "vite.config.ts",
                         "vite.config.js", "workspace", "bazel", "build.bazel",
                         "directory.build.props", "tox.ini", "nginx.conf", "httpd.conf",
                         "caddyfile", "procfile", "serverless.yml", "vercel.json",
                         "netlify.toml", "app.yaml", "schema.rb", "structure.sql"),
              suffixes=(".csproj", ".sln", ".tf", ".proto", ".gradle", ".cabal",
                        ".gemspec", ".nuspec", ".prisma"),
              dirs=_set("migrations", "migration", "migrate", "alembic", "k8s", "kubernetes",
                        "helm", "charts", "terraform", "deploy", "infra", "infrastructure",
                        "ansible", "pulumi", "adr", "adrs", "decisions", "architecture",
                        "nginx"),
              words=_set("architecture", "adr", "rfc"),
              starts=("requirements", "constraints", "dockerfile", "docker-compose")),
)

_PATH_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|\d+")


def _path_words(parts: Iterable[str]) -> set[str]:
    return {w.lower() for part in parts for w in _PATH_WORD.findall(part)}


def _is_code(name: str, suffix: str) -> bool:
    return suffix in CODE_SUFFIXES or name in CODE_NAMES or name.startswith("dockerfile")


def roles_for_path(path: str) -> dict[str, list[str]]:
    """Roles a file concerns by its path alone, e.g. {"qa": ["path 'tests/test_a.py'"]}."""
    clean = path.strip().replace("\\", "/")
    if not clean:
        return {}
    pure = PurePosixPath(clean.lower())
    name, suffix = pure.name, pure.suffix
    dirs = set(pure.parts[:-1])
    words = _path_words(PurePosixPath(clean).parts)
    reason = f"path '{path.strip()}'"
    found: dict[str, list[str]] = {}
    for rule in PATH_RULES:
        if (name in rule.names or name.endswith(rule.suffixes) or not dirs.isdisjoint(rule.dirs)
                or not words.isdisjoint(rule.words) or name.startswith(rule.starts)):
            found.setdefault(rule.role, []).append(reason)
    if _is_code(name, suffix):
        found.setdefault("dev", []).append(reason)
    return {role: found[role] for role in ROLES if role in found}


def _modules(paths: Iterable[str]) -> list[str]:
    """Distinct folders of the code files among `paths` (tests and docs aside)."""
    folders: dict[str, None] = {}
    qa_dirs = PATH_RULES[0].dirs
    for path in paths:
        pure = PurePosixPath(path.strip().replace("\\", "/"))
        if not _is_code(pure.name.lower(), pure.suffix.lower()):
            continue
        parts = [p.lower() for p in pure.parts[:-1]]
        if not qa_dirs.isdisjoint(parts) or "docs" in parts:
            continue
        folders["/".join(pure.parts[:-1]) or "."] = None
    return list(folders)


CROSS_MODULE = 3  # a change touching this many folders of code is an architecture matter


def roles_for_paths(paths: Sequence[str]) -> dict[str, list[str]]:
    """`roles_for_path` for each path, plus architect when the paths span several folders."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for role, reasons in roles_for_path(path).items():
            found.setdefault(role, []).extend(r for r in reasons if r not in found.get(role, []))
    folders = _modules(paths)
    if len(folders) >= CROSS_MODULE:
        shown = ", ".join(folders[:4]) + (", …" if len(folders) > 4 else "")
        found.setdefault("architect", []).append(
            f"changes span {len(folders)} folders ({shown})")
    return {role: found[role] for role in ROLES if role in found}


# -- code written in the text -----------------------------------------------------------

@dataclass(frozen=True)
class _CodeSignal:
    role: str
    triggers: frozenset[str]  # the pattern is searched only when one of these words occurs
    pattern: re.Pattern[str]


def _signal(role: str, triggers: str, pattern: str) -> _CodeSignal:
    return _CodeSignal(role, frozenset(triggers.split()), re.compile(pattern, re.MULTILINE))


CODE_SIGNALS: tuple[_CodeSignal, ...] = (
    _signal("security", "subprocess popen system shell eval exec child runtime getruntime",
            r"\bsubprocess\.\w+|\bos\.(?:system|popen)\(|\bshell\s*=\s*True"
            r"|\b(?:eval|exec)\(|child_process|Runtime\.getRuntime"),
    _signal("security", "pickle cpickle marshal shelve jsonpickle dill yaml objectinputstream "
                        "unserialize",
            r"\b(?:pickle|cPickle|marshal|shelve|jsonpickle|dill)\.loads?\b"
            r"|\byaml\.(?:load|unsafe_load)\(|ObjectInputStream|unserialize\("),
    _signal("security", "hashlib hmac bcrypt jwt secrets crypto cryptography ssl",
            r"\bhashlib\.\w+|\bhmac\.\w+|\bbcrypt\.\w+|\bjwt\.\w+|\bsecrets\.\w+"
            r"|\bCrypto\.\w+|\bcryptography\b|\bcrypto\.\w+|\bssl\.\w+"),
    _signal("security", "select insert update delete execute raw executescript",
            r"\b(?:SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b[^;\n]{0,120}?"
            r"\b(?:FROM|WHERE|SET|VALUES)\b|\.execute\(|\braw\(|\bexecutescript\("),
    _signal("security", "api apikey key secret password passwd token access auth begin akia",
            r"\b(?i:api[_-]?key|secret[_-]?key|client[_-]?secret|password|passwd"
            r"|access[_-]?token|auth[_-]?token)\b\s*[:=]"
            r"|-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b"),
    _signal("security", "innerhtml dangerouslysetinnerhtml mark safe html write",
            r"\binnerHTML\b|dangerouslySetInnerHTML|\bmark_safe\(|\|\s*safe\b"
            r"|\bv-html\b|\bdocument\.write\("),
    _signal("qa", "def pytest unittest describe it test expect assert monkeypatch",
            r"\bdef test_\w+|@pytest\.\w+|\bimport pytest\b|\bunittest\.\w+"
            r"|\b(?:describe|it|test)\(\s*['\"]|\bexpect\([^)\n]{0,200}\)\.to|\bassert\w*\("
            r"|\bmonkeypatch\b"),
    _signal("ux", "button input label form select textarea nav dialog svg aria class "
                  "classname gettext ngettext pgettext t i18n color background font margin "
                  "padding display",
            r"<(?:button|input|label|form|select|textarea|nav|dialog|svg)\b|\baria-\w+="
            r"|\bclass(?:Name)?\s*=\s*['\"{]|\b(?:gettext|ngettext|pgettext)\(|\$t\(|\bi18n\."
            r"|^\s*(?:color|background|font-\w+|margin|padding|display):\s*[^;\n]+;"),
    _signal("seo", "title meta head link og twitter ld json hreflang noindex url loc "
                   "disallow user",
            r"<(?:title|meta|head)\b|<link\s+rel=['\"]?(?:canonical|alternate)"
            r"|\bog:\w+|\btwitter:card\b|application/ld\+json|\bhreflang\b|\bnoindex\b"
            r"|<url>\s*<loc>|\bDisallow:|\bUser-agent:"),
    _signal("dev", "def class async function func fn public private import from const let "
                   "var return",
            r"^\s*(?:def|class|async def|function|func|fn|public|private|import|from"
            r"|const|let|var|return)\s+\w|\b\w{1,64}\([^()\n]{0,200}\)\s*[{:;]|=>\s*\{"),
)
CODE_SCAN_CHARS = 256_000  # code patterns are searched in this much of a long text
_CODE_SNIPPET_CHARS = 40
_QUESTION = re.compile(r"\?(?:\s|$)")
_PATH_PUNCTUATION = "\"'`()[]{}<>,;:!?«»"
PATH_SUFFIXES = CODE_SUFFIXES | frozenset((
    ".toml", ".json", ".yaml", ".yml", ".xml", ".txt", ".lock", ".mod", ".sum", ".cfg",
    ".ini", ".md", ".rst", ".env", ".pem", ".key", ".crt", ".po", ".csv", ".gradle",
    ".csproj", ".svg",
))


def _score_code(text: str, words: set[str], scores: Scores) -> None:
    head = text[:CODE_SCAN_CHARS]
    for signal in CODE_SIGNALS:
        if words.isdisjoint(signal.triggers):
            continue
        match = signal.pattern.search(head)
        if match:
            snippet = " ".join(match.group(0).split())[:_CODE_SNIPPET_CHARS]
            scores.add(signal.role, f"code '{snippet}'", WEIGHTS["strong"])


def _text_paths(text: str, words: set[str]) -> list[str]:
    """File paths and names written in the text (at most MAX_TEXT_PATHS)."""
    found: dict[str, None] = {}
    for chunk in text.split():
        if ("/" not in chunk and "." not in chunk) or len(chunk) > MAX_PATH_CHARS:
            continue
        path = chunk.strip(_PATH_PUNCTUATION).rstrip(".")
        if "://" in path:
            path = path.split("://", 1)[1].partition("/")[2]
        pure = PurePosixPath(path.lower())
        if pure.suffix in PATH_SUFFIXES or pure.name in CODE_NAMES:
            found[path] = None
            if len(found) >= MAX_TEXT_PATHS:
                break
    for name in ("Dockerfile", "Makefile", "Jenkinsfile"):
        if name.lower() in words and len(found) < MAX_TEXT_PATHS:
            found.setdefault(name, None)
    return list(found)


# -- stage 1 --------------------------------------------------------------------------

def score_roles(task: str, *, files: Sequence[str] = (),
                diff_paths: Sequence[str] = ()) -> Scores:
    """Stage 1: evidence for each role from the words, code, and paths of a task."""
    scores = Scores()
    tokens = drop_idioms(tokenize(task))
    words = set(tokens)
    _score_words(tokens, scores)
    _score_code(task, words, scores)
    if _QUESTION.search(task):
        scores.inquiry.append("a question")
    path_weight = WEIGHTS["strong"]
    for role, reasons in roles_for_paths([*_text_paths(task, words), *files]).items():
        for reason in reasons:
            scores.add(role, reason, path_weight)
    for role, reasons in roles_for_paths(diff_paths).items():
        for reason in reasons:
            scores.add(role, reason, path_weight)
            if role == "dev" and reason not in scores.changes:
                scores.changes.append(reason)
    return scores


def roles_for_text(text: str) -> dict[str, list[str]]:
    """Roles a piece of text (a diff hunk, a comment) concerns, with the evidence for each."""
    if not text.strip():
        return {}
    scores = score_roles(text)
    return {role: scores.reasons(role) for role in scores.evident()}


def _changes_code(scores: Scores) -> list[str]:
    """Why dev joins: change words, code in a diff, or a request rather than a question."""
    if scores.changes:
        return [f"{reason} (changes code)" for reason in scores.changes]
    if not scores.inquiry:
        return ["a request, not a question (changes code)"]
    return []


def _lexicon_routing(scores: Scores) -> Routing:
    chosen = scores.evident()
    confident = bool(chosen)
    reasons = {role: scores.reasons(role) for role in chosen}
    change = _changes_code(scores)
    if change and "dev" not in chosen:
        chosen.append("dev")
        reasons["dev"] = change
    if not chosen:
        chosen = list(FALLBACK)
        reasons = {role: ["nothing in the task pointed elsewhere (default)"] for role in chosen}
    roles = tuple(role for role in ROLES if role in chosen)
    return Routing(roles, {role: reasons[role] for role in roles}, "lexicon", confident)


# -- stage 2 --------------------------------------------------------------------------

ROLE_GUIDE = {
    "dev": "writes, fixes and changes code; bugs, crashes, performance",
    "security": "logins, passwords, secrets, encryption, injection, permissions, personal data",
    "qa": "tests, coverage, flaky or failing tests, reproducing bugs, test plans",
    "architect": "structure and design: modules, dependencies, databases, services, scaling",
    "ux": "what users see and do: screens, forms, wording, accessibility, translations",
    "seo": "search engines: titles, meta tags, sitemaps, robots.txt, redirects, ranking",
}


def routing_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)},
                                 "minItems": 1, "maxItems": 3}},
        "required": ["roles"],
        "additionalProperties": False,
    }


def classification_prompt(task: str, files: Sequence[str]) -> tuple[str, str]:
    """(system, user) messages asking the model which specialists a task needs."""
    guide = "\n".join(f"- {role}: {ROLE_GUIDE.get(role, role)}" for role in ROLES)
    system = (
        "You decide which specialists work on a software task. The specialists:\n"
        f"{guide}\n"
        "Pick only those the task really needs: one, two or three, the most important "
        "first. The task may be written in English, Russian or a mix. Answer in JSON: "
        '{"roles": ["..."]}.'
    )
    text = task.strip()
    if len(text) > MODEL_TASK_CHARS:
        text = text[:MODEL_TASK_CHARS] + " …"
    user = f"Task:\n{text}"
    if files:
        user += "\nFiles: " + ", ".join(list(files)[:20])
    return system, user


_ROLE_STRING = re.compile(r'"([a-z]+)"')


def parse_model_roles(text: str) -> tuple[str, ...]:
    """The valid roles in the model's answer, in its order, without repeats."""
    try:
        data = json.loads(text)
        raw = data.get("roles", []) if isinstance(data, dict) else []
    except json.JSONDecodeError:
        # An answer cut short by the token limit still names whole roles before the cut.
        raw = _ROLE_STRING.findall(text)
    roles = [r for r in raw if isinstance(r, str) and r in ROLES]
    return tuple(dict.fromkeys(roles))


def classify(task: str, engine: Engine, *, files: Sequence[str] = ()) -> tuple[str, ...]:
    """Stage 2: the model's choice of roles under a JSON-schema grammar."""
    from consilium_cli.llm.engine import (
        ChatMessage,
        GenerationRequest,
        SamplingParams,
        collect,
    )

    system, user = classification_prompt(task, files)
    request = GenerationRequest(
        messages=(ChatMessage("system", system), ChatMessage("user", user)),
        params=SamplingParams(max_tokens=96, temperature=0.0, seed=0,
                              json_schema=routing_schema()),
    )
    finished = collect(engine.stream([request]), 1)
    roles = parse_model_roles(finished[0].text) if finished else ()
    if not roles:
        raise EngineError("the model gave no valid roles for routing",
                          hint='choose the roles yourself: --agents dev,security')
    return roles


# -- the public entry point -----------------------------------------------------------

def route(task: str, *, files: Sequence[str] = (), diff_paths: Sequence[str] = (),
          agents: Sequence[str] | None = None, all_roles: bool = False,
          engine: Engine | None = None) -> Routing:
    """The roles for a task: overrides first (`all_roles` before `agents`), then the
    lexicon, then (only if the lexicon is unsure and an engine is given) the model."""
    if not isinstance(task, str) or not task.strip():
        raise UsageError("the task is empty", hint='consilium route "fix the login bug"')
    if all_roles:
        return Routing(ROLES, {role: ["--all"] for role in ROLES}, "override", True)
    if agents:
        chosen = tuple(parse_roles(",".join(agents)) or ())
        return Routing(chosen, {role: ["--agents"] for role in chosen}, "override", True)
    scores = score_roles(task, files=files, diff_paths=diff_paths)
    routing = _lexicon_routing(scores)
    if routing.confident or engine is None:
        return routing
    picked = classify(task, engine, files=[*files, *diff_paths])
    reasons = {role: ["chosen by the model"] for role in picked}
    change = _changes_code(scores)
    if change and "dev" not in reasons:
        reasons["dev"] = change
    roles = tuple(role for role in ROLES if role in reasons)
    return Routing(roles, {role: reasons[role] for role in roles}, "model", True)
