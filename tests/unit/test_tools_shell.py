"""Commands: argv without a shell, streamed output, timeouts, and no secrets in the child."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from consilium_cli.errors import UsageError
from consilium_cli.tools.shell import Exited, Output, Started, run_command, scrub_env


def test_scrub_env_drops_secret_names_and_the_director_key() -> None:
    env = {"PATH": "/bin", "OPENAI_API_KEY": "sk-1", "GITHUB_TOKEN": "t", "db_password": "p",
           "MY_SECRET_THING": "s", "DIRECTOR": "sk-director", "HOME": "/root"}
    kept, dropped = scrub_env(env, secret_values=("sk-director", ""))
    assert kept == {"PATH": "/bin", "HOME": "/root"}
    assert dropped == ["DIRECTOR", "GITHUB_TOKEN", "MY_SECRET_THING", "OPENAI_API_KEY",
                       "db_password"]


def test_argv_runs_without_a_shell_and_streams(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('out $HOME'); print('err', file=sys.stderr)"]
    events = list(run_command(argv, cwd=tmp_path, timeout_s=30, env={"PATH": "/usr/bin"}))
    assert isinstance(events[0], Started)
    text = "".join(e.text for e in events if isinstance(e, Output) and e.stream == "stdout")
    assert text == "out $HOME\n"  # no shell: $HOME is not expanded
    done = events[-1]
    assert isinstance(done, Exited) and done.code == 0 and "err" in done.output


def test_child_gets_the_scrubbed_environment(tmp_path: Path) -> None:
    env, _ = scrub_env({"PATH": "/usr/bin:/bin", "API_KEY": "k", "KEEP": "1"})
    argv = [sys.executable, "-c", "import os; print(sorted(k for k in os.environ "
                                  "if k in ('API_KEY', 'KEEP')))"]
    done = list(run_command(argv, cwd=tmp_path, timeout_s=30, env=env))[-1]
    assert isinstance(done, Exited) and done.output.strip() == "['KEEP']"


def test_timeout_stops_the_command(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; print('start', flush=True); time.sleep(30)"]
    done = list(run_command(argv, cwd=tmp_path, timeout_s=1, env={}))[-1]
    assert isinstance(done, Exited) and done.timed_out and done.code != 0


def test_exit_code_and_missing_program(tmp_path: Path) -> None:
    done = list(run_command([sys.executable, "-c", "raise SystemExit(3)"], cwd=tmp_path,
                            timeout_s=30, env={}))[-1]
    assert isinstance(done, Exited) and done.code == 3
    with pytest.raises(UsageError, match="command not found"):
        list(run_command(["no-such-program-xyz"], cwd=tmp_path, timeout_s=5, env={}))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell syntax")
def test_pipeline_runs_through_the_shell(tmp_path: Path) -> None:
    done = list(run_command(None, command="printf 'a\\nb\\n' | wc -l", cwd=tmp_path,
                            timeout_s=30, env={"PATH": "/usr/bin:/bin"}))[-1]
    assert isinstance(done, Exited) and done.output.strip() == "2"


# The child starts a grandchild in a session of its own that holds stdout and stderr for
# 30 s, records the grandchild's pid in argv[1], says "hi", then runs the rest of the script.
_DETACHING_CHILD = (
    "import subprocess, sys\n"
    "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'],"
    " start_new_session=True)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(str(grandchild.pid))\n"
    "print('hi', flush=True)\n"
)


def _run_detaching(tmp_path: Path, rest: str, timeout_s: float) -> tuple[Exited, str]:
    """Run the detaching child: its Exited event and streamed stdout; fail, not hang, when
    run_command does not return."""
    pid_file = tmp_path / "grandchild.pid"
    argv = [sys.executable, "-c", _DETACHING_CHILD + rest, str(pid_file)]
    events: list[object] = []
    runner = threading.Thread(target=lambda: events.extend(
        run_command(argv, cwd=tmp_path, timeout_s=timeout_s, env={})), daemon=True)
    try:
        runner.start()
        runner.join(15)
        assert not runner.is_alive(), "run_command did not return"
    finally:
        if pid_file.exists() and pid_file.read_text():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        runner.join(15)
    assert isinstance(events[-1], Exited)
    return events[-1], "".join(e.text for e in events if isinstance(e, Output))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions")
def test_a_detached_grandchild_holding_the_pipes_does_not_hold_the_command(
        tmp_path: Path) -> None:
    done, streamed = _run_detaching(tmp_path, "", timeout_s=60)
    assert done.code == 0 and not done.timed_out and done.detached
    assert done.output == streamed == "hi\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions")
def test_a_timeout_returns_although_a_detached_grandchild_holds_the_pipes(
        tmp_path: Path) -> None:
    done, streamed = _run_detaching(tmp_path, "import time; time.sleep(30)\n", timeout_s=1)
    assert done.timed_out and done.code != 0 and done.detached
    assert done.output == streamed == "hi\n"


def test_a_command_that_closes_its_pipes_is_not_detached(tmp_path: Path) -> None:
    done = list(run_command([sys.executable, "-c", "print('x')"], cwd=tmp_path, timeout_s=30,
                            env={}))[-1]
    assert isinstance(done, Exited) and not done.detached and done.output == "x\n"


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for init to reap it counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_job_left_in_the_background_is_stopped_when_the_command_ends(
        tmp_path: Path) -> None:
    pid_file = tmp_path / "job.pid"
    script = "sleep 30 & echo $! > job.pid; echo hi"
    try:
        done = list(run_command(None, command=script, cwd=tmp_path, timeout_s=60,
                                env={"PATH": "/usr/bin:/bin"}))[-1]
        assert isinstance(done, Exited) and done.code == 0 and not done.timed_out
        assert done.output.startswith("hi")
        assert _gone(int(pid_file.read_text()))
    finally:
        with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
