"""One typed Settings object, built from layers.

Precedence (lowest first): built-in defaults < user config
(`$XDG_CONFIG_HOME/consilium/config.toml`) < project `.consilium.toml` (found by walking
up to the git root) < `CONSILIUM_*` environment variables < command-line flags.

A project file is written by whoever wrote the repository, so it may not set anything
that sends data or runs programs elsewhere: the whole `[director]`, `[approval]` and
`[shell]` sections, and paths (`model.path`, `kb.paths`) that lead outside the project.
Such keys are ignored with a warning that names them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from consilium_cli.errors import ConfigError
from consilium_cli.gitsafe import repo_root as find_git_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_FILE = ".consilium.toml"
ENV_PREFIX = "CONSILIUM_"

DEFAULT = "default"
USER = "user"
PROJECT = "project"
ENV = "env"
FLAG = "flag"


def _f(default: Any, doc: str, **meta: Any) -> Any:
    """A settings field with its documentation and validation metadata."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"doc": doc, **meta})
    return field(default=default, metadata={"doc": doc, **meta})


@dataclass(frozen=True)
class ModelSettings:
    name: str = _f("default", "registry name of the local model (`consilium models list`)")
    path: str = _f("", "explicit GGUF file; overrides `name`", path=True)
    ctx: int = _f(8192, "context size in tokens shared by all agents", min=256)
    threads: int = _f(0, "CPU threads; 0 picks the number of physical cores", min=0)
    batch: int = _f(512, "prompt tokens evaluated per llama_decode call", min=8)
    flash_attn: bool = _f(True, "enable flash attention in llama.cpp")


@dataclass(frozen=True)
class CouncilSettings:
    rounds: int = _f(2, "debate rounds", min=1, max=3)
    max_tokens: int = _f(256, "new tokens per agent answer", min=1)
    temperature: float = _f(0.7, "sampling temperature", min=0.0, max=2.0)
    top_p: float = _f(0.9, "nucleus sampling threshold", min=0.0, max=1.0)
    top_k: int = _f(40, "top-k sampling; 0 disables it", min=0)
    seed: int = _f(-1, "sampling seed; -1 picks a random one", min=-1)
    agents: list[str] = _f([], "fixed roles for every task; empty lets the router choose")


@dataclass(frozen=True)
class DirectorSettings:
    mode: str = _f("auto", "who decides", choices=("auto", "remote", "local", "off"))
    model: str = _f("gpt-5.2", "remote Director model")
    api_key: str = _f("", "API key (falls back to OPENAI_API_KEY)", secret=True)
    base_url: str = _f("", "OpenAI-compatible endpoint (falls back to OPENAI_BASE_URL)")
    timeout_s: float = _f(60.0, "timeout of one HTTP request", min=0.1)
    deadline_s: float = _f(180.0, "total time for the remote decision, retries included", min=0.1)
    max_retries: int = _f(2, "retries on 429, 5xx and connection errors", min=0, max=10)
    confirm: bool = _f(False, "ask before each request is sent")
    max_payload_tokens: int = _f(60000, "largest payload sent, after trimming", min=1000)


@dataclass(frozen=True)
class ApprovalSettings:
    policy: str = _f(
        "ask", "what runs without a prompt", choices=("ask", "read-only", "edits", "all")
    )


@dataclass(frozen=True)
class ShellSettings:
    allow_pipelines: bool = _f(False, "allow plan actions that need a shell pipeline")
    timeout_s: float = _f(300.0, "default timeout of a command", min=1.0)


@dataclass(frozen=True)
class KBSettings:
    paths: list[str] = _f([], "extra knowledge folders (one subfolder per role)", path=True)
    embedding_model: str = _f("", "registry name or GGUF path of the embedding model")
    top_k: int = _f(3, "passages given to each agent", min=0, max=20)
    location: str = _f("user", "where the index lives", choices=("user", "project"))


@dataclass(frozen=True)
class ReviewSettings:
    max_input_mb: float = _f(20.0, "largest diff accepted", min=0.001)
    fail_on: str = _f(
        "", "severity that makes review exit 1",
        choices=("", "info", "low", "medium", "high", "critical"),
    )
    max_tokens: int = _f(384, "new tokens per agent's findings for one group", min=32)
    context_lines: int = _f(8, "extra lines around each hunk from the working tree", min=0)
    max_file_kb: int = _f(256, "files whose diff is larger are listed, not reviewed", min=1)


@dataclass(frozen=True)
class RedactSettings:
    extra_patterns: list[str] = _f([], "additional regular expressions to redact")
    allow: list[str] = _f([], "values never redacted")


@dataclass(frozen=True)
class UISettings:
    color: str = _f("auto", "colour output", choices=("auto", "always", "never"))


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    council: CouncilSettings = field(default_factory=CouncilSettings)
    director: DirectorSettings = field(default_factory=DirectorSettings)
    approval: ApprovalSettings = field(default_factory=ApprovalSettings)
    shell: ShellSettings = field(default_factory=ShellSettings)
    kb: KBSettings = field(default_factory=KBSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    redact: RedactSettings = field(default_factory=RedactSettings)
    ui: UISettings = field(default_factory=UISettings)


# Sections a project file may never set, and the reason shown in the warning.
PROJECT_FORBIDDEN_SECTIONS = {
    "director": "it could send your data or key elsewhere",
    "approval": "it could loosen approval",
    "shell": "it could run programs",
    "redact": "it could let secrets through to the Director",
}


@dataclass(frozen=True)
class KeySpec:
    section: str
    key: str
    type: Any
    default: Any
    doc: str
    meta: Mapping[str, Any]

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def env_var(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper()}_{self.key.upper()}"

    @property
    def type_name(self) -> str:
        return _type_name(self.type)


def _section_types() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings)}


def key_specs() -> dict[str, KeySpec]:
    """Every setting by dotted name, in declaration order."""
    specs: dict[str, KeySpec] = {}
    for section, cls in _section_types().items():
        hints = get_type_hints(cls)
        instance = cls()
        for f in fields(cls):
            spec = KeySpec(section, f.name, hints[f.name], getattr(instance, f.name),
                           f.metadata["doc"], f.metadata)
            specs[spec.dotted] = spec
    return specs


def _type_name(tp: Any) -> str:
    if get_origin(tp) is list:
        return f"a list of {_type_name(get_args(tp)[0]).split(' ', 1)[1]}s"
    return {int: "an integer", float: "a number", bool: "a boolean (true/false)",
            str: "a string"}[tp]


def _check_value(spec: KeySpec, value: Any, where: str) -> Any:
    """Validate one value against its spec; return it converted (int -> float)."""
    tp = spec.type
    ok: bool
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not ok:
        raise ConfigError(
            f"{where}: `{spec.dotted}` expects {spec.type_name}, got {type(value).__name__} "
            f"{value!r}",
            hint=f"{spec.dotted}: {spec.doc}",
        )
    meta = spec.meta
    if "choices" in meta and value not in meta["choices"]:
        valid = ", ".join(repr(c) for c in meta["choices"])
        raise ConfigError(f"{where}: `{spec.dotted}` must be one of {valid}, got {value!r}")
    if "min" in meta and value < meta["min"]:
        raise ConfigError(f"{where}: `{spec.dotted}` must be at least {meta['min']}, got {value}")
    if "max" in meta and value > meta["max"]:
        raise ConfigError(f"{where}: `{spec.dotted}` must be at most {meta['max']}, got {value}")
    return value


def parse_env_value(spec: KeySpec, raw: str, where: str) -> Any:
    """Convert an environment-variable string to the spec's type."""
    tp = spec.type
    try:
        if tp is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if tp is int:
            return int(raw.strip())
        if tp is float:
            return float(raw.strip())
        if tp is str:
            return raw
        return [part.strip() for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"{where}: `{spec.dotted}` expects {spec.type_name}, got {raw!r}"
        ) from None


@dataclass(frozen=True)
class LoadedSettings:
    """The effective settings, where each value came from, and warnings for the user."""

    settings: Settings
    origins: dict[str, str]
    warnings: tuple[str, ...] = ()
    user_file: Path | None = None
    project_file: Path | None = None
    project_root: Path | None = None

    def value(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return getattr(getattr(self.settings, section), key)


def user_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("consilium", appauthor=False)) / "config.toml"


def find_project_file(start: Path, root: Path | None) -> Path | None:
    """Walk up from `start` to the git root `root` (only `start` outside a repository)."""
    candidates = [start] if root is None else [start, *start.parents]
    for folder in candidates:
        path = folder / PROJECT_FILE
        if path.is_file():
            return path
        if root is not None and folder == root:
            break
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}",
                          hint=f"check the permissions of {path}") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}",
                          hint=f"fix the line named above in {path}") from exc


def _flatten_file(path: Path, data: dict[str, Any],
                  specs: dict[str, KeySpec]) -> dict[str, Any]:
    """Turn a parsed TOML document into dotted keys, rejecting unknown ones."""
    sections = {spec.section for spec in specs.values()}
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if section not in sections:
            raise ConfigError(
                f"{path}: unknown section [{section}]",
                hint="valid sections: " + ", ".join(sorted(sections)),
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `{section}` must be a table ([{section}])")
        for key, value in table.items():
            dotted = f"{section}.{key}"
            if dotted not in specs:
                valid = ", ".join(s.key for s in specs.values() if s.section == section)
                raise ConfigError(f"{path}: unknown key `{dotted}`",
                                  hint=f"keys in [{section}]: {valid}")
            flat[dotted] = _check_value(specs[dotted], value, str(path))
    return flat


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _project_policy(path: Path, root: Path, flat: dict[str, Any],
                    specs: dict[str, KeySpec]) -> tuple[dict[str, Any], list[str]]:
    """Drop what a repository may not set; resolve its relative paths against its root."""
    kept: dict[str, Any] = {}
    warnings: list[str] = []
    for dotted, value in flat.items():
        spec = specs[dotted]
        if spec.section in PROJECT_FORBIDDEN_SECTIONS:
            warnings.append(f"{path}: ignored `{dotted}` (a project file may not set it: "
                            f"{PROJECT_FORBIDDEN_SECTIONS[spec.section]})")
            continue
        if spec.meta.get("path"):
            values = value if isinstance(value, list) else [value]
            resolved = [str((root / v).resolve()) if v else v for v in values]
            outside = [v for v, r in zip(values, resolved) if v and not _inside(Path(r), root)]
            if outside:
                warnings.append(f"{path}: ignored `{dotted}` (a project file may only name "
                                f"paths inside the project: {', '.join(outside)})")
                continue
            value = resolved if isinstance(value, list) else resolved[0]
        kept[dotted] = value
    return kept, warnings


def _env_layer(env: Mapping[str, str], specs: dict[str, KeySpec]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    # The openai package's own variables, below consilium's in precedence.
    for var, dotted in (("OPENAI_API_KEY", "director.api_key"),
                        ("OPENAI_BASE_URL", "director.base_url")):
        if env.get(var):
            flat[dotted] = env[var]
    by_var = {spec.env_var: spec for spec in specs.values()}
    sections = {spec.section.upper() for spec in specs.values()}
    for var, raw in env.items():
        if not var.startswith(ENV_PREFIX):
            continue
        spec = by_var.get(var)
        if spec is None:
            rest = var[len(ENV_PREFIX):]
            if rest.split("_", 1)[0] in sections:
                raise ConfigError(f"unknown environment variable {var}",
                                  hint="`consilium config show` lists every setting")
            continue
        flat[spec.dotted] = _check_value(spec, parse_env_value(spec, raw, var), var)
    return flat


def _apply(settings: Settings, flat: Mapping[str, Any]) -> Settings:
    by_section: dict[str, dict[str, Any]] = {}
    for dotted, value in flat.items():
        section, key = dotted.split(".", 1)
        by_section.setdefault(section, {})[key] = value
    changes = {section: replace(getattr(settings, section), **values)
               for section, values in by_section.items()}
    return replace(settings, **changes)


def load_settings(
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    user_file: Path | None = None,
) -> LoadedSettings:
    """Build the effective settings from every layer."""
    cwd = (cwd or Path.cwd()).resolve()
    env = os.environ if env is None else env
    specs = key_specs()
    settings = Settings()
    origins = {dotted: DEFAULT for dotted in specs}
    warnings: list[str] = []

    user_path = user_file or user_config_path()
    layers: list[tuple[str, dict[str, Any]]] = []
    if user_path.exists():
        layers.append((USER, _flatten_file(user_path, _read_toml(user_path), specs)))
    git_root = find_git_root(cwd)
    project_path = find_project_file(cwd, git_root)
    project_root = git_root or cwd
    if project_path is not None:
        flat = _flatten_file(project_path, _read_toml(project_path), specs)
        flat, dropped = _project_policy(project_path, project_path.parent, flat, specs)
        warnings.extend(dropped)
        layers.append((PROJECT, flat))
    layers.append((ENV, _env_layer(env, specs)))
    if flags:
        flag_values = {k: _check_value(specs[k], v, "command line")
                       for k, v in flags.items() if v is not None}
        layers.append((FLAG, flag_values))

    for layer, flat in layers:
        settings = _apply(settings, flat)
        origins.update(dict.fromkeys(flat, layer))
    return LoadedSettings(settings, origins, tuple(warnings), user_path, project_path,
                          project_root)
