"""Knowledge files in, validated documents and citable passages out.

A knowledge file is markdown with front matter (kb/STANDARDS.md). Its body is split at
headings of level 1-3 into passages of at most `MAX_PASSAGE_CHARS` characters (a longer
section is cut at paragraph boundaries, code blocks kept whole where they fit). Every
passage has an id `DOC_ID#ANCHOR` (e.g. `security/security_checklist#passwords`): the
anchor is the heading's slug, or the `{#anchor}` written after the heading, so ids stay
the same while the text under them changes. A section cut in parts gets `ANCHOR.2`, ...

Each passage carries two hashes: `content_hash` over what is embedded and searched, and
`row_hash` over that plus the document's metadata. Re-indexing compares them with the
index, so only passages whose hash changed are written (and re-embedded only when their
content changed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from consilium_cli.council.roles import ROLES
from consilium_cli.kb.frontmatter import Field, FrontMatterSyntaxError, parse_front_matter

LANGUAGES = {"en": "English", "ru": "Russian"}
REQUIRED = ("id", "title", "role", "version", "updated", "language", "tags", "source")
MAX_PASSAGE_CHARS = 1500
MAX_TITLE_CHARS = 120
MAX_TAG_CHARS = 40
MAX_ANCHOR_CHARS = 48

_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")
_ANCHOR = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$")
_EXPLICIT_ANCHOR = re.compile(r"\s*\{#([^}]*)\}$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")

Report = Callable[[str, str], None]

_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
     "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge file, at a 1-based line."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class DocMeta:
    id: str
    title: str
    role: str
    version: int
    updated: str
    language: str
    tags: tuple[str, ...]
    source: str

    @property
    def tags_en(self) -> tuple[str, ...]:
        return tuple(t for t in self.tags if not _CYRILLIC.search(t))

    @property
    def tags_ru(self) -> tuple[str, ...]:
        return tuple(t for t in self.tags if _CYRILLIC.search(t))


@dataclass(frozen=True)
class Chunk:
    """One passage of a document, before it is indexed."""

    id: str
    anchor: str
    heading: str
    heading_path: tuple[str, ...]
    text: str
    line: int
    content_hash: str
    row_hash: str


@dataclass(frozen=True)
class Document:
    meta: DocMeta
    path: Path
    display_path: str
    chunks: tuple[Chunk, ...]
    id_line: int = 1  # the front matter's `id:` line


@dataclass(frozen=True)
class SourceFile:
    """A markdown file in a role folder of a knowledge source."""

    path: Path
    folder_role: str
    display_path: str


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- sources -----------------------------------------------------------------------------


def discover(folder: Path, label: str, roles: Iterable[str] | None = None
             ) -> tuple[list[SourceFile], list[Problem]]:
    """The knowledge files under `folder` (one subfolder per role); stray folders are
    reported. `label` prefixes display paths (e.g. "kb"); empty means absolute paths."""
    wanted = set(roles or ROLES)
    files: list[SourceFile] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return files, problems
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        markdown = sorted(p for p in sub.rglob("*.md") if not p.name.startswith("."))
        if sub.name not in ROLES:
            problems.extend(Problem(p, 1, f"folder '{sub.name}' is not a role; knowledge "
                                          f"files go in one of: {', '.join(ROLES)}")
                            for p in markdown)
            continue
        if sub.name not in wanted:
            continue
        for path in markdown:
            rel = path.relative_to(folder).as_posix()
            display = f"{label}/{rel}" if label else str(path)
            files.append(SourceFile(path, sub.name, display))
    return files, problems


def load_files(files: Iterable[SourceFile]) -> LoadResult:
    """Parse and validate every file; duplicate document ids across files are problems."""
    result = LoadResult()
    seen: dict[str, tuple[Path, int]] = {}
    for source in files:
        document, problems = load_document(source.path, source.display_path,
                                           folder_role=source.folder_role)
        result.problems.extend(problems)
        if document is None:
            continue
        line = document.id_line
        if document.meta.id in seen:
            first, first_line = seen[document.meta.id]
            result.problems.append(Problem(
                source.path, line, f"id '{document.meta.id}' is already used by "
                                   f"{first}:{first_line}; ids must be unique"))
            continue
        seen[document.meta.id] = (source.path, line)
        result.documents.append(document)
    return result


# -- one document ------------------------------------------------------------------------


def load_document(path: Path, display_path: str | None = None, *,
                  folder_role: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read, validate and split one knowledge file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(path, 1, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(path, line, "not UTF-8 text")]
    lines = text.replace("\r\n", "\n").split("\n")
    try:
        front = parse_front_matter(lines)
    except FrontMatterSyntaxError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    meta, problems = _validate(path, front.fields, front.close_line, folder_role)
    if meta is None:
        return None, problems
    chunks, chunk_problems = split_body(lines, front.body_start, meta,
                                        display_path or str(path), path)
    problems.extend(chunk_problems)
    if not chunks and not chunk_problems:
        problems.append(Problem(path, front.close_line + 1, "the file has no content after "
                                                            "the front matter"))
    if problems:
        return None, problems
    return Document(meta, path, display_path or str(path), tuple(chunks),
                    front.fields["id"].line), []


def _validate(path: Path, fields: dict[str, Field], close_line: int,
              folder_role: str | None) -> tuple[DocMeta | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(path, fields[key].line if key in fields else close_line,
                                message))

    for key in fields:
        if key not in REQUIRED:
            bad(key, f"unknown field '{key}' (fields: {', '.join(REQUIRED)})")
    for key in REQUIRED:
        if key not in fields:
            bad(key, f"missing required field '{key}'")
    strings: dict[str, str] = {}
    for key in REQUIRED:
        if key not in fields or key == "tags":
            continue
        value = fields[key].value
        if isinstance(value, tuple):
            bad(key, f"'{key}' must be a single value, not a list")
        elif not value.strip():
            bad(key, f"'{key}' is empty")
        else:
            strings[key] = value.strip()

    role = strings.get("role")
    if role is not None and role not in ROLES:
        bad("role", f"role '{role}' is not one of: {', '.join(ROLES)}")
        role = None
    elif role is not None and folder_role is not None and role != folder_role:
        bad("role", f"role '{role}' does not match the folder '{folder_role}' the file is in")
    doc_id = strings.get("id")
    if doc_id is not None:
        if not _DOC_ID.match(doc_id):
            bad("id", f"id '{doc_id}' must look like 'role/name' (lowercase letters, digits, "
                      "'-' and '_')")
        elif role is not None and not doc_id.startswith(role + "/"):
            bad("id", f"id '{doc_id}' must start with its role: '{role}/...'")
    title = strings.get("title")
    if title is not None and len(title) > MAX_TITLE_CHARS:
        bad("title", f"title is {len(title)} characters; at most {MAX_TITLE_CHARS}")
    version = _positive_int(strings.get("version"))
    if "version" in strings and version is None:
        bad("version", f"version must be a whole number of at least 1, got "
                       f"'{strings['version']}'")
    updated = strings.get("updated")
    if updated is not None:
        date_problem = _date_problem(updated)
        if date_problem:
            bad("updated", date_problem)
    language = strings.get("language")
    if language is not None and language not in LANGUAGES:
        bad("language", f"language '{language}' is not supported (use one of: "
                        f"{', '.join(LANGUAGES)})")
    tags = _tags(fields, bad)

    if problems:
        return None, problems
    assert doc_id and title and role and version and updated and language and tags
    return DocMeta(doc_id, title, role, version, updated, language, tags,
                   strings["source"]), []


def _positive_int(value: str | None) -> int | None:
    # ASCII digits only (str.isdigit() accepts "²", which int() refuses), and few enough
    # for the index's 32-bit column.
    if value is None or not re.fullmatch(r"[0-9]{1,9}", value):
        return None
    number = int(value)
    return number if number >= 1 else None


def _date_problem(value: str) -> str | None:
    if not _DATE.match(value):
        return f"updated must be a date as YYYY-MM-DD, got '{value}'"
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return f"updated '{value}' is not a real calendar date"
    if day > dt.date.today() + dt.timedelta(days=1):
        return f"updated '{value}' is in the future"
    return None


def _tags(fields: dict[str, Field], report: Report) -> tuple[str, ...] | None:
    if "tags" not in fields:
        return None
    value = fields["tags"].value
    if isinstance(value, str):
        report("tags", "tags must be a list: [english, tags, русские, теги]")
        return None
    tags = tuple(t.strip().lower() for t in value)
    ok = True
    for tag in tags:
        if not tag or len(tag) > MAX_TAG_CHARS:
            report("tags", f"tag '{tag}' must be 1-{MAX_TAG_CHARS} characters")
            ok = False
    if len(set(tags)) != len(tags):
        report("tags", "tags repeat")
        ok = False
    if not any(_LATIN.search(t) and not _CYRILLIC.search(t) for t in tags) or \
            not any(_CYRILLIC.search(t) for t in tags):
        report("tags", "tags need at least one English and one Russian tag, so a question "
                       "in either language finds the file")
        ok = False
    return tags if ok else None


# -- splitting ---------------------------------------------------------------------------


def slugify(text: str) -> str:
    """A short ASCII anchor for a heading (Cyrillic is transliterated)."""
    out = []
    for char in text.lower():
        if char in _TRANSLIT:
            out.append(_TRANSLIT[char])
        elif char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append("-")
    slug = re.sub(r"-+", "-", "".join(out)).strip("-")
    if len(slug) > MAX_ANCHOR_CHARS:
        cut = slug[:MAX_ANCHOR_CHARS]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug


@dataclass
class _Section:
    level: int
    heading: str
    anchor: str
    explicit: bool
    line: int
    path: tuple[str, ...]
    body: list[str] = field(default_factory=list)


def _sections(lines: list[str], start: int, title: str,
              path: Path) -> tuple[list[_Section], list[Problem]]:
    problems: list[Problem] = []
    sections = [_Section(0, title, "overview", False, start + 1, (title,))]
    fence = ""
    parents: dict[int, str] = {}
    seen_h1 = False
    for index in range(start, len(lines)):
        text = lines[index]
        inside, fence = fence, _next_fence(text, fence)
        heading = None if inside or fence else _HEADING.match(text)
        if heading is None:
            sections[-1].body.append(text)
            continue
        level = len(heading.group(1))
        name = heading.group(2).rstrip("#").rstrip()
        explicit = _EXPLICIT_ANCHOR.search(name)
        anchor = ""
        if explicit:
            anchor = explicit.group(1)
            name = name[: explicit.start()].rstrip()
            if not _ANCHOR.match(anchor) or len(anchor) > MAX_ANCHOR_CHARS:
                problems.append(Problem(path, index + 1, f"anchor '{{#{anchor}}}' must be "
                                        f"lowercase letters, digits, '-' or '_' (at most "
                                        f"{MAX_ANCHOR_CHARS})"))
        if level == 1 and not seen_h1 and not "".join(sections[-1].body).strip() \
                and len(sections) == 1:
            # The document's own H1 heads the overview passage.
            seen_h1 = True
            sections[0] = _Section(0, name, anchor or "overview", bool(anchor), index + 1,
                                   (name,))
            continue
        parents[level] = name
        for deeper in [lv for lv in parents if lv > level]:
            del parents[deeper]
        trail = tuple(parents[lv] for lv in sorted(parents))
        sections.append(_Section(level, name, anchor or slugify(name) or
                                 f"section-{len(sections)}", bool(anchor), index + 1, trail))
    return sections, problems


def split_body(lines: list[str], start: int, meta: DocMeta, display_path: str,
               path: Path) -> tuple[list[Chunk], list[Problem]]:
    """Split the body (from line index `start`) into passages."""
    sections, problems = _sections(lines, start, meta.title, path)
    chunks: list[Chunk] = []
    used: dict[str, int] = {}
    for section in sections:
        body = "\n".join(section.body).strip()
        if not body:
            continue
        if section.anchor in used:
            problems.append(Problem(path, section.line, f"two sections get the anchor "
                                    f"'{section.anchor}' (the other is on line "
                                    f"{used[section.anchor]}): give one an explicit "
                                    f"'{{#anchor}}' after its heading"))
            continue
        used[section.anchor] = section.line
        parts = split_text(body, MAX_PASSAGE_CHARS)
        for number, part in enumerate(parts, 1):
            anchor = section.anchor if number == 1 else f"{section.anchor}.{number}"
            chunks.append(_chunk(meta, display_path, anchor, section, part))
    return chunks, problems


def _chunk(meta: DocMeta, display_path: str, anchor: str, section: _Section,
           text: str) -> Chunk:
    content = json.dumps([meta.title, list(section.path), text, list(meta.tags),
                          meta.language, meta.role], ensure_ascii=False)
    content_hash = hashlib.sha256(content.encode("utf-8")).hexdigest()
    row = json.dumps([content_hash, meta.version, meta.updated, meta.source, display_path],
                     ensure_ascii=False)
    return Chunk(id=f"{meta.id}#{anchor}", anchor=anchor, heading=section.heading,
                 heading_path=section.path, text=text, line=section.line,
                 content_hash=content_hash,
                 row_hash=hashlib.sha256(row.encode("utf-8")).hexdigest())


def _next_fence(line: str, fence: str) -> str:
    """The code fence open after `line` ("" for none), given the one open before it."""
    marker = _FENCE.match(line)
    if marker is None:
        return fence
    token = marker.group(1)
    if not fence:
        return token[0] * len(token)
    return "" if token.startswith(fence) else fence


def _paragraphs(text: str) -> list[str]:
    """Blocks separated by blank lines; a fenced code block stays one block."""
    blocks: list[str] = []
    current: list[str] = []
    fence = ""
    for line in text.split("\n"):
        fence = _next_fence(line, fence)
        if not line.strip() and not fence:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _hard_split(text: str, limit: int) -> list[str]:
    """Cut text longer than `limit` at line ends, then at spaces, then anywhere."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= limit // 4:
            cut = rest.rfind(" ", 0, limit)
        if cut <= limit // 4:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def split_text(text: str, limit: int) -> list[str]:
    """Pack paragraphs into parts of at most `limit` characters."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for block in _paragraphs(text):
        for piece in ([block] if len(block) <= limit else _hard_split(block, limit)):
            if current and len(current) + 2 + len(piece) > limit:
                parts.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        parts.append(current)
    return parts
