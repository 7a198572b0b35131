"""A throwaway PostgreSQL cluster on 127.0.0.1 for the database tests.

`CONSILIUM_TEST_PG_URL` wins when set. Otherwise the server binaries (initdb, pg_ctl) are
taken from PATH or /usr/lib/postgresql/*/bin, and a cluster is made in a fresh temporary
folder with trust authentication, listening on a free port of 127.0.0.1 only. PostgreSQL
refuses to run as root, so as root the cluster runs as the `postgres` user (runuser).
The tests skip only when there is neither a URL nor server binaries.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL_ENV = "CONSILIUM_TEST_PG_URL"


def server_bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_cluster_user(argv: list[str]) -> tuple[list[str], str | None]:
    """The command as the user that may own the cluster (root may not)."""
    if os.name != "posix" or os.geteuid() != 0:
        return argv, None
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user to run a cluster as")
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *argv], "postgres"
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)], "postgres"


def _run(argv: list[str]) -> None:
    command, _ = _as_cluster_user(argv)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL of a PostgreSQL server that tests may write to."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield url
        return
    bin_dir = server_bin_dir()
    if bin_dir is None:
        pytest.skip(f"no PostgreSQL server binaries and no {PG_URL_ENV}")
    folder = Path(tempfile.mkdtemp(prefix="consilium-pg-"))
    _, user = _as_cluster_user([])
    if user:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    os.chmod(folder, 0o700)
    data = folder / "data"
    port = _free_port()
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--locale=C", "--no-sync"])
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
              "-l", str(folder / "server.log"), "-w", "-t", "60", "start"])
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-W",
                      "stop"])
            # pg_ctl's own wait polls once a second; the pid file going is the signal
            deadline = time.monotonic() + 30
            while (data / "postmaster.pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)
