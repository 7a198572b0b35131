"""The model registry: the shipped manifest, models the user added, and where files are.

Weights live in the Hugging Face cache (`HF_HOME`, honouring `HF_HUB_OFFLINE`) or at a
path the user registered; git holds only the manifest. Resolution reads the cache
through `huggingface_hub` itself, so both cache layouts work: the symlinked one
(snapshots -> blobs) and the copy-instead-of-symlink one that Windows produces.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from consilium_cli.errors import (
    ConsiliumError,
    ModelError,
    ModelInvalidError,
    ModelNotFoundError,
    UsageError,
)
from consilium_cli.paths import user_data_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

USER_REGISTRY = "models.toml"
_FIELDS = ("repo", "file", "revision", "size_mb", "quant", "license", "purpose", "context",
           "sha256", "about", "path")


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
    source: str = "manifest"

    @property
    def from_hub(self) -> bool:
        return bool(self.repo and self.file) and not self.path


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
        entries[name] = ModelEntry(name=name, source=source, **table)
    return entries


class Registry:
    """Named models: the manifest's, plus those added with `consilium models add`."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.user_file = (data_dir or user_data_dir()) / USER_REGISTRY
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

    def local_path(self, entry: ModelEntry) -> Path | None:
        """The file if it is on disk (user path or Hugging Face cache), else None."""
        if entry.path:
            path = Path(entry.path).expanduser()
            return path if path.exists() else None
        with map_hub_errors(entry):
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(entry.repo, entry.file, revision=entry.revision)
        return Path(found) if isinstance(found, str) else None

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
        raise ModelNotFoundError(
            f"model {entry.name!r} ({entry.repo}/{entry.file}, about {entry.size_mb} MB) "
            "is not downloaded",
            hint=f"consilium models pull {name}")

    def pull(self, name: str) -> Path:
        """Download into the Hugging Face cache (resumes a partial download)."""
        entry = self.get(name)
        if not entry.from_hub:
            raise UsageError(f"model {entry.name!r} is a local file, there is nothing to pull")
        with map_hub_errors(entry):
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(entry.repo, entry.file, revision=entry.revision))

    def verify(self, name: str) -> VerifyReport:
        """Check the header, size and (when known) the sha256 of a model's file."""
        from consilium_cli.llm.gguf_file import read_gguf

        entry = self.get(name)
        path = self.require_path(name)
        info = read_gguf(path, purpose=entry.purpose)
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
            lines.append(f"[models.{_toml_str(entry.name)}]")
            for key, value in asdict(entry).items():
                if key in ("name", "source") or value in ("", 0):
                    continue
                lines.append(f"{key} = {_toml_str(value) if isinstance(value, str) else value}")
            lines.append("")
        self.user_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.user_file, "\n".join(lines))


def _toml_str(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


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
