"""Facts about this machine for a plan: OS, Python, CPU, memory, disk, tools on PATH."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

TOOLS = ("git", "python3", "python", "node", "npm", "cargo", "go", "java", "docker", "make",
         "psql", "sqlite3")


def _memory_bytes() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return int(pages) * int(size) if pages > 0 and size > 0 else None


def system_info(root: Path) -> dict[str, object]:
    """A flat description of the system; every value is plain data."""
    usage = shutil.disk_usage(root)
    memory = _memory_bytes()
    return {
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "cpu_count": os.cpu_count() or 0,
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "disk_free_gib": round(usage.free / 2**30, 1),
        "repository": str(root),
        "tools": {name: found for name in TOOLS if (found := shutil.which(name))},
    }
