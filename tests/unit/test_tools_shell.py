"""Commands: argv without a shell, streamed output, timeouts, and no secrets in the child."""

from __future__ import annotations

import sys
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
