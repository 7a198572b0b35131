"""Commands for plans: argv without a shell (a shell only for a marked pipeline), a
timeout, output streamed as events and captured, and an environment without secrets.

The child runs in its own process group, so a timeout or a Ctrl-C ends it and everything
it started; nothing here prints.
"""

from __future__ import annotations

import codecs
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from consilium_cli.errors import UsageError

SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL")
# A value like postgres://user:password@host carries its secret whatever the name.
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
MAX_CAPTURE_CHARS = 1_000_000
KILL_GRACE_S = 3.0


@dataclass(frozen=True)
class Started:
    pid: int


@dataclass(frozen=True)
class Output:
    stream: str
    text: str


@dataclass(frozen=True)
class Exited:
    code: int
    timed_out: bool
    seconds: float
    output: str
    truncated: bool = False


CommandEvent = Started | Output | Exited


def scrub_env(env: Mapping[str, str], *,
              secret_values: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """The environment less variables named like secrets or holding a known secret.

    Returns the kept variables and the sorted names of the dropped ones.
    """
    secrets = {value for value in secret_values if value}
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for name, value in env.items():
        upper = name.upper()
        if any(marker in upper for marker in SECRET_MARKERS) or value in secrets \
                or _URL_WITH_PASSWORD.match(value):
            dropped.append(name)
        else:
            kept[name] = value
    return kept, sorted(dropped)


def _reader(stream_name: str, pipe: object, out: queue.Queue[tuple[str, bytes | None]]) -> None:
    read = pipe.read1  # type: ignore[attr-defined]
    try:
        while True:
            chunk = read(65536)
            if not chunk:
                break
            out.put((stream_name, chunk))
    except (OSError, ValueError):
        pass
    finally:
        out.put((stream_name, None))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End the child and its process group: politely, then for good."""
    if proc.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        proc.wait(KILL_GRACE_S)
    except (subprocess.TimeoutExpired, ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def run_command(argv: Sequence[str] | None, *, cwd: Path, timeout_s: float,
                env: Mapping[str, str], command: str | None = None) -> Iterator[CommandEvent]:
    """Run argv (or, for a marked pipeline, `command` through the system shell)."""
    kwargs: dict[str, object] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    target: str | list[str] = command if command is not None else list(argv or ())
    started = time.monotonic()
    try:
        proc = subprocess.Popen(target, cwd=cwd, env=dict(env), shell=command is not None,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError as exc:
        raise UsageError(f"command not found: {exc.filename or target}",
                         hint="check the program name in the plan's argv") from exc
    except PermissionError as exc:
        raise UsageError(f"cannot run {exc.filename or target}: permission denied") from exc
    except OSError as exc:
        raise UsageError(f"cannot run the command: {exc}") from exc
    chunks: queue.Queue[tuple[str, bytes | None]] = queue.Queue()
    threads = [threading.Thread(target=_reader, args=(name, pipe, chunks), daemon=True)
               for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for thread in threads:
        thread.start()
    decoders = {name: codecs.getincrementaldecoder("utf-8")("replace")
                for name in ("stdout", "stderr")}
    captured: list[str] = []
    size = 0
    truncated = False
    open_streams = 2
    timed_out = False
    try:
        yield Started(proc.pid)
        deadline = started + timeout_s
        while open_streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                _kill(proc)
                deadline = float("inf")
                continue
            try:
                name, chunk = chunks.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if chunk is None:
                open_streams -= 1
                text = decoders[name].decode(b"", final=True)
            else:
                text = decoders[name].decode(chunk)
            if text:
                if size < MAX_CAPTURE_CHARS:
                    captured.append(text[: MAX_CAPTURE_CHARS - size])
                    size += len(captured[-1])
                    truncated = truncated or size >= MAX_CAPTURE_CHARS
                yield Output(name, text)
        try:
            code = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
            code = proc.wait()
        yield Exited(code, timed_out, time.monotonic() - started, "".join(captured), truncated)
    finally:
        _kill(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
