"""Commands for plans: argv without a shell (a shell only for a marked pipeline), a
timeout, output streamed as events and captured, and an environment without secrets.

The child runs in its own process group, so a timeout or a Ctrl-C ends it and everything
it started, and jobs it left in the background are stopped when it ends; nothing here
prints. A process the child moves out of the group (a daemon, a
`setsid` server) may keep the output pipes open: once the child has exited or been
stopped, its pipes get PIPE_GRACE_S to reach their end, then reading stops.
"""

from __future__ import annotations

import codecs
import contextlib
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
# How long the pipes may stay open once the child has exited or was stopped.
PIPE_GRACE_S = 1.0


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
    # A process the command started kept stdout or stderr open after the command ended,
    # so the output may be incomplete.
    detached: bool = False


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


def _reader(stream_name: str, pipe: object, out: queue.Queue[tuple[str, bytes | None]],
            abandoned: threading.Event) -> None:
    """Queue the pipe's chunks until its end (discarding them once abandoned), then close it."""
    read = pipe.read1  # type: ignore[attr-defined]
    try:
        while True:
            chunk = read(65536)
            if not chunk:
                break
            if not abandoned.is_set():
                out.put((stream_name, chunk))
    except (OSError, ValueError):
        pass
    finally:
        # The reader closes its own pipe: a blocked read1() holds the BufferedReader's lock,
        # so close() from another thread would wait for whatever process still holds the
        # write end. An abandoned pipe is closed here once that process lets go.
        with contextlib.suppress(OSError):
            pipe.close()  # type: ignore[attr-defined]
        out.put((stream_name, None))


def _end_group(pid: int) -> None:
    """Stop what is left of the command's process group once the command itself has
    ended (jobs it put in the background): politely, then for good."""
    if os.name != "posix":
        return
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return  # nothing is left of the group
        until = time.monotonic() + grace
        while time.monotonic() < until:
            time.sleep(0.05)
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                return


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


class _Capture:
    """Decodes both streams' chunks and keeps the first MAX_CAPTURE_CHARS of the output."""

    def __init__(self) -> None:
        self.decoders = {name: codecs.getincrementaldecoder("utf-8")("replace")
                         for name in ("stdout", "stderr")}
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False
        self.open_streams = len(self.decoders)

    def take(self, name: str, chunk: bytes | None) -> Output | None:
        """The Output event for a chunk (None: the stream's end), if it holds any text."""
        if chunk is None:
            self.open_streams -= 1
            text = self.decoders[name].decode(b"", final=True)
        else:
            text = self.decoders[name].decode(chunk)
        if not text:
            return None
        if self.size < MAX_CAPTURE_CHARS:
            self.parts.append(text[: MAX_CAPTURE_CHARS - self.size])
            self.size += len(self.parts[-1])
            self.truncated = self.truncated or self.size >= MAX_CAPTURE_CHARS
        return Output(name, text)


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
    abandoned = threading.Event()
    for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        threading.Thread(target=_reader, args=(name, pipe, chunks, abandoned),
                         daemon=True).start()
    capture = _Capture()
    timed_out = False
    try:
        yield Started(proc.pid)
        deadline = started + timeout_s
        pipes_until: float | None = None  # set once the child has exited or was stopped
        while capture.open_streams:
            now = time.monotonic()
            if pipes_until is None:
                if proc.poll() is None and now >= deadline:
                    timed_out = True
                    _kill(proc)
                if proc.poll() is not None:
                    pipes_until = time.monotonic() + PIPE_GRACE_S
            elif now >= pipes_until:
                # Take what the readers already queued, not what keeps coming.
                for _ in range(chunks.qsize()):
                    event = capture.take(*chunks.get_nowait())
                    if event is not None:
                        yield event
                break
            until = pipes_until if pipes_until is not None else deadline
            try:
                name, chunk = chunks.get(timeout=min(max(until - time.monotonic(), 0.01), 0.5))
            except queue.Empty:
                continue
            event = capture.take(name, chunk)
            if event is not None:
                yield event
        detached = capture.open_streams > 0
        try:
            code = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
            code = proc.wait()
        yield Exited(code, timed_out, time.monotonic() - started, "".join(capture.parts),
                     capture.truncated, detached)
    finally:
        abandoned.set()
        _kill(proc)
        # The group's id cannot be reused while any member is left, so this reaches only
        # what the command started.
        _end_group(proc.pid)
