"""Where knowledge comes from and where its index lives.

Sources, in order: the knowledge shipped with consilium (the wheel's copy, or the
repository's `kb/` in a source checkout), the user's own folder (`consilium kb add` copies
files there), and the folders listed in `kb.paths`. Each holds one subfolder per role.
The index is `<user data dir>/kb`, or `.consilium/kb` in the project when
`kb.location = "project"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consilium_cli.config import LoadedSettings, Settings
from consilium_cli.paths import user_data_dir

SHIPPED_LABEL = "kb"


@dataclass(frozen=True)
class Source:
    folder: Path
    label: str   # prefix of display paths; "" shows absolute paths
    kind: str    # shipped | user | settings


def shipped_kb_dir() -> Path:
    """The packaged knowledge (`consilium_cli/data/kb`), else the repository's `kb/`."""
    from importlib import resources

    packaged = resources.files("consilium_cli").joinpath("data/kb")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "kb"


def user_kb_dir() -> Path:
    """The user's own knowledge files, one subfolder per role."""
    return user_data_dir() / "knowledge"


def sources(settings: Settings) -> list[Source]:
    found = [Source(shipped_kb_dir(), SHIPPED_LABEL, "shipped"),
             Source(user_kb_dir(), "", "user")]
    seen = {s.folder.resolve() for s in found}
    for raw in settings.kb.paths:
        folder = Path(raw).expanduser()
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            found.append(Source(folder, "", "settings"))
    return found


def index_dir(loaded: LoadedSettings | Settings) -> Path:
    """The folder of the LanceDB index for these settings."""
    settings = loaded.settings if isinstance(loaded, LoadedSettings) else loaded
    if settings.kb.location == "project":
        root = loaded.project_root if isinstance(loaded, LoadedSettings) else None
        return (root or Path.cwd()) / ".consilium" / "kb"
    return user_data_dir() / "kb"
