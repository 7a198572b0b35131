"""The model registry: the shipped manifest, models the user added, and where files are.

Weights live in the Hugging Face cache (`HF_HOME`, honouring `HF_HUB_OFFLINE`), in
consilium's own model folder (files rebuilt from a verified mirror, see `llm.mirror`), or
at a path the user registered; git holds only the manifest. Resolution reads the cache
through `huggingface_hub` itself, so both cache layouts work: the symlinked one
(snapshots -> blobs) and the copy-instead-of-symlink one that Windows produces.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from consilium_cli.errors import (
    ConsiliumError,
    ModelError,
    ModelInvalidError,
    ModelNotFoundError,
    UsageError,
)
from consilium_cli.llm.mirror import Expected, MirrorSpec, ProgressFn, fetch_parts
from consilium_cli.paths import user_data_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

USER_REGISTRY = "models.toml"
# Files rebuilt from a mirror live here, inside consilium's data folder.
MIRROR_FOLDER = "models"
_FIELDS = ("repo", "file", "revision", "size_mb", "size_bytes", "quant", "license", "purpose",
           "context", "sha256", "about", "path", "mirror")
Source = Literal["auto", "hub", "mirror"]
SOURCES: tuple[str, ...] = ("auto", "hub", "mirror")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    repo: str = ""
    file: str = ""
    revision: str = "main"
    size_mb: int = 0
    quant: str = ""
    license: str = ""
    purpose: str = "chat"
    context: int = 0
    sha256: str = ""
    about: str = ""
    path: str = ""
    size_bytes: int = 0
    mirror: MirrorSpec | None = None
    source: str = "manifest"

    @property
    def from_hub(self) -> bool:
        return bool(self.repo and self.file) and not self.path

    @property
    def downloadable(self) -> bool:
        return self.from_hub or (self.mirror is not None and bool(self.file) and not self.path)

    @property
    def expected(self) -> Expected:
        return Expected(self.size_bytes, self.sha256.lower())


@dataclass(frozen=True)
class PullResult:
    path: Path
    source: str  # "hub", "mirror" or "present"
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class VerifyReport:
    entry: ModelEntry
    path: Path
    architecture: str
    file_type: str
    size_bytes: int
    sha256: str
    sha256_matches: bool | None


def _manifest_text() -> str:
    """The manifest shipped in the wheel, or the repository's copy in a source checkout."""
    from importlib import resources

    packaged = resources.files("consilium_cli").joinpath("data/manifest.toml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[3] / "models" / "manifest.toml"
    return source.read_text(encoding="utf-8")


def _entries_from(data: dict[str, Any], source: str, where: str) -> dict[str, ModelEntry]:
    entries: dict[str, ModelEntry] = {}
    for name, table in data.get("models", {}).items():
        unknown = set(table) - set(_FIELDS)
        if unknown:
            raise UsageError(f"{where}: model {name!r} has unknown fields: "
                             f"{', '.join(sorted(unknown))}")
        table = dict(table)
        if "mirror" in table:
            table["mirror"] = MirrorSpec.from_table(table["mirror"], f"{where}: model {name!r}")
        entries[name] = ModelEntry(name=name, source=source, **table)
    return entries


class Registry:
    """Named models: the manifest's, plus those added with `consilium models add`."""

    def __init__(self, data_dir: Path | None = None) -> None:
        data_dir = data_dir or user_data_dir()
        self.user_file = data_dir / USER_REGISTRY
        self.mirror_dir = data_dir / MIRROR_FOLDER
        manifest = tomllib.loads(_manifest_text())
        self.aliases: dict[str, str] = dict(manifest.get("aliases", {}))
        self.entries = _entries_from(manifest, "manifest", "models/manifest.toml")
        if self.user_file.exists():
            try:
                user = tomllib.loads(self.user_file.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read {self.user_file}: {exc}",
                                 hint=f"fix or delete {self.user_file}") from exc
            self.entries.update(_entries_from(user, "user", str(self.user_file)))

    def names(self) -> list[str]:
        return list(self.entries)

    def get(self, name: str) -> ModelEntry:
        target = self.aliases.get(name, name)
        if target not in self.entries:
            valid = ", ".join([*self.aliases, *self.entries])
            raise UsageError(f"unknown model {name!r}", hint=f"known models: {valid}")
        return self.entries[target]

    def mirror_path(self, entry: ModelEntry) -> Path:
        """Where a file rebuilt from the mirror is kept."""
        return self.mirror_dir / entry.name / entry.file

    def local_path(self, entry: ModelEntry) -> Path | None:
        """The file if it is on disk (user path, Hugging Face cache, or consilium's own
        folder of mirrored files), else None."""
        if entry.path:
            path = Path(entry.path).expanduser()
            return path if path.exists() else None
        if entry.from_hub:
            with map_hub_errors(entry):
                from huggingface_hub import try_to_load_from_cache

                found = try_to_load_from_cache(entry.repo, entry.file, revision=entry.revision)
            if isinstance(found, str):
                return Path(found)
        mirrored = self.mirror_path(entry)
        return mirrored if entry.file and mirrored.is_file() else None

    def require_path(self, name: str) -> Path:
        """The file of model `name`, or ModelNotFoundError with the pull command."""
        entry = self.get(name)
        path = self.local_path(entry)
        if path is not None:
            return path
        if entry.path:
            raise ModelNotFoundError(
                f"model {entry.name!r} points at {entry.path}, which does not exist",
                hint=f"consilium models add PATH --name {entry.name}")
        where = f"{entry.repo}/{entry.file}" if entry.from_hub else entry.file
        raise ModelNotFoundError(
            f"model {entry.name!r} ({where}, about {entry.size_mb} MB) is not downloaded",
            hint=f"consilium models pull {name}")

    def pull(self, name: str, source: Source = "auto", *,
             env: Mapping[str, str] | None = None, on_progress: ProgressFn | None = None,
             on_note: Callable[[str], None] | None = None) -> PullResult:
        """Download a model: from the Hugging Face Hub (into its cache; resumes), or from
        the manifest's verified mirror (into consilium's model folder); `auto` tries the
        Hub first and the mirror when the Hub cannot be reached. A file whose sha256 the
        manifest pins is kept only when it matches. `env` is the environment pip runs in."""
        import os

        entry = self.get(name)
        if source not in SOURCES:
            raise UsageError(f"unknown source {source!r}", hint="--source auto, hub or mirror")
        if not entry.downloadable:
            raise UsageError(f"model {entry.name!r} is a local file, there is nothing to pull")
        existing = self.local_path(entry)
        if existing is not None:
            return PullResult(existing, "present")
        note = on_note or (lambda _text: None)
        if source == "mirror" or (source == "auto" and not entry.from_hub):
            return self._pull_mirror(entry, os.environ if env is None else env, on_progress)
        try:
            return PullResult(self._pull_hub(entry), "hub")
        except ModelError as exc:
            if source == "hub" or entry.mirror is None:
                raise
            note(f"the Hugging Face Hub failed: {exc.message}")
            note(f"trying the mirror: {entry.mirror.describe()}")
            try:
                result = self._pull_mirror(entry, os.environ if env is None else env,
                                           on_progress)
            except ModelError as mirror_exc:
                raise type(mirror_exc)(
                    f"the Hugging Face Hub failed ({exc.message}), and so did the mirror: "
                    f"{mirror_exc.message}", hint=mirror_exc.hint) from mirror_exc
            return PullResult(result.path, "mirror",
                              (f"the Hugging Face Hub failed: {exc.message}",))

    def _pull_hub(self, entry: ModelEntry) -> Path:
        if not entry.from_hub:
            raise UsageError(f"model {entry.name!r} is not published on the Hugging Face Hub",
                             hint="use --source mirror")
        with map_hub_errors(entry):
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(entry.repo, entry.file, revision=entry.revision))
        if entry.sha256:
            digest = sha256_file(path)
            if digest != entry.sha256.lower():
                _remove_cached(path)
                raise ModelInvalidError(
                    f"the file downloaded from {entry.repo} has sha256 {digest}; the manifest "
                    f"expects {entry.sha256}", hint="it was deleted; run the command again")
        return path

    def _pull_mirror(self, entry: ModelEntry, env: Mapping[str, str],
                     on_progress: ProgressFn | None) -> PullResult:
        if entry.mirror is None:
            raise UsageError(f"model {entry.name!r} has no mirror in the manifest",
                             hint="use --source hub")
        path = fetch_parts(entry.mirror, self.mirror_path(entry), entry.expected, env=env,
                           on_progress=on_progress)
        return PullResult(path, "mirror")

    def present(self) -> list[str]:
        """Names of the models whose files are on disk."""
        return [name for name, entry in self.entries.items()
                if self.local_path(entry) is not None]

    def verify(self, name: str) -> VerifyReport:
        """Check the header, size and (when known) the sha256 of a model's file."""
        from consilium_cli.llm.gguf_file import read_gguf

        entry = self.get(name)
        path = self.require_path(name)
        info = read_gguf(path, purpose=entry.purpose)
        if entry.size_bytes and info.size != entry.size_bytes:
            raise ModelInvalidError(
                f"{path} is {info.size:,} bytes; the manifest expects {entry.size_bytes:,}",
                hint=f"delete the file and run `consilium models pull {name}` again")
        digest = sha256_file(path)
        matches = None if not entry.sha256 else digest == entry.sha256.lower()
        if matches is False:
            raise ModelInvalidError(
                f"{path}: sha256 {digest} does not match the manifest's {entry.sha256}",
                hint=f"delete the file and run `consilium models pull {name}` again")
        return VerifyReport(entry, path, info.architecture, info.file_type, info.size,
                            digest, matches)

    def add(self, path: Path, name: str | None = None, purpose: str = "chat") -> ModelEntry:
        """Register a GGUF the user already has, after checking its header."""
        from consilium_cli.llm.gguf_file import read_gguf

        path = path.expanduser().resolve()
        info = read_gguf(path, purpose=purpose)
        name = name or path.stem.lower()
        if name in self.aliases or (name in self.entries
                                    and self.entries[name].source == "manifest"):
            raise UsageError(f"{name!r} is a built-in model name",
                             hint="choose another with --name")
        entry = ModelEntry(name=name, path=str(path), quant=info.file_type,
                           purpose=purpose, context=info.context_length or 0,
                           size_mb=info.size // 2**20, about=info.name, source="user")
        self.entries[name] = entry
        self._save_user()
        return entry

    def _save_user(self) -> None:
        from consilium_cli.tools.atomic import atomic_write_text

        lines = ["# Models added with `consilium models add`.", ""]
        for entry in self.entries.values():
            if entry.source != "user":
                continue
            lines.append(f"[models.{_toml_value(entry.name)}]")
            for key, value in asdict(entry).items():
                if key in ("name", "source") or value in ("", 0, None):
                    continue
                lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
        self.user_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.user_file, "\n".join(lines))


def _toml_value(value: object) -> str:
    """A TOML literal for a registry value: string, number, or inline table of those."""
    import json

    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _remove_cached(path: Path) -> None:
    """Delete a downloaded file from the Hugging Face cache: the snapshot entry and the
    blob it points to."""
    blob = path.resolve()
    path.unlink(missing_ok=True)
    if blob != path:
        blob.unlink(missing_ok=True)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def map_hub_errors(entry: ModelEntry) -> Iterator[None]:
    """Translate huggingface_hub's exceptions into consilium errors."""
    try:
        yield
    except ConsiliumError:
        raise
    except ImportError as exc:
        raise ModelError(f"huggingface_hub is not installed ({exc})",
                         hint="pip install huggingface_hub") from exc
    except Exception as exc:
        from huggingface_hub import errors

        where = f"{entry.repo}/{entry.file}"
        if isinstance(exc, (errors.OfflineModeIsEnabled, errors.LocalEntryNotFoundError)):
            raise ModelNotFoundError(
                f"cannot download {where}: offline, and it is not in the Hugging Face cache",
                hint="connect to the network and unset HF_HUB_OFFLINE, or copy the file here "
                     f"and run `consilium models add PATH --name {entry.name}`",
            ) from exc
        if isinstance(exc, (errors.RepositoryNotFoundError, errors.EntryNotFoundError,
                            errors.RevisionNotFoundError)):
            raise ModelNotFoundError(f"{where} does not exist on the Hugging Face Hub: {exc}",
                                     hint="check models/manifest.toml") from exc
        if isinstance(exc, (errors.HfHubHTTPError, OSError)):
            raise ModelNotFoundError(f"downloading {where} failed: {exc}",
                                     hint=f"run `consilium models pull {entry.name}` again; "
                                          "it resumes") from exc
        raise
