"""What every command receives: its environment, consoles and the settings loader.

Commands take their streams, environment and working directory from here (as httpie's
`Environment`), so tests can run them with other ones.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from consilium_cli.config import LoadedSettings, load_settings

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class AppContext:
    debug: bool = False
    color: str = "auto"
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    cwd: Path = field(default_factory=Path.cwd)
    _warned: bool = False

    @cached_property
    def out(self) -> Console:
        from consilium_cli.ui.console import make_console

        return make_console(self.stdout, color=self.color)

    @cached_property
    def err(self) -> Console:
        from consilium_cli.ui.console import make_console

        return make_console(self.stderr, color=self.color)

    @property
    def stdout_is_tty(self) -> bool:
        return bool(getattr(self.stdout, "isatty", lambda: False)())

    @property
    def stderr_is_tty(self) -> bool:
        return bool(getattr(self.stderr, "isatty", lambda: False)())

    @property
    def stdin_is_tty(self) -> bool:
        return bool(getattr(self.stdin, "isatty", lambda: False)())

    def settings(self, flags: Mapping[str, Any] | None = None) -> LoadedSettings:
        """Load the settings with these flag values (dotted keys; None means unset)."""
        loaded = load_settings(cwd=self.cwd, env=self.env, flags=flags)
        if not self._warned:
            from consilium_cli.ui.safe_text import safe

            for warning in loaded.warnings:
                self.err.print(safe(f"warning: {warning}", "warn"))
            self._warned = True
        if self.color == "auto" and loaded.settings.ui.color != "auto":
            self.color = loaded.settings.ui.color
            self.__dict__.pop("out", None)
            self.__dict__.pop("err", None)
        return loaded
