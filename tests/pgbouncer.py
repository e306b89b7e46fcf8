"""A real PgBouncer in transaction pooling mode, in front of the test run's PostgreSQL server.

Started from Debian's ``pgbouncer`` package on a spare loopback port, with a configuration of
its own in a directory of its own: every database name a client asks for is the server's
database of that name (``*``), reached as the server's user with its password; clients are
let in whatever user they give (``auth_type = any``). PgBouncer refuses to run as root: under
root it runs as ``nobody`` (``-u``), which owns the directory. It is stopped by its process id.
"""

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

POOL_SIZE = 10
"""Server connections PgBouncer opens per database and user: ``default_pool_size``."""

UNPRIVILEGED_USER = "nobody"
START_TIMEOUT = 15.0
_SEARCHED = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def pgbouncer_binary() -> str:
    """The path of ``pgbouncer``; skips the test, or fails it in CI, when it is not installed.

    CI (``CI=true``) installs it (``.ci/run``), so there a missing binary is a broken setup,
    not a reason to skip.
    """
    found = shutil.which(
        "pgbouncer", path=os.pathsep.join([os.environ.get("PATH", ""), *_SEARCHED])
    )
    if found:
        return found
    reason = "pgbouncer is not installed (Debian: apt-get install pgbouncer)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the PgBouncer tests (.ci/run installs it)")
    pytest.skip(reason)


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(server: URL, port: int, directory: Path) -> str:
    # A socket directory is in the query, where libpq reads it (see PostgreSQLConfig.url).
    host = server.host or server.query.get("host") or "localhost"
    port_of_server = server.port or server.query.get("port") or 5432
    target = [f"host={host}", f"port={port_of_server}"]
    target.append(f"user={server.username or 'postgres'}")
    if server.password:
        target.append(f"password={server.password}")
    return "\n".join(
        [
            "[databases]",
            f"* = {' '.join(target)}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = any",
            "pool_mode = transaction",
            f"default_pool_size = {POOL_SIZE}",
            "max_client_conn = 500",
            f"logfile = {directory / 'pgbouncer.log'}",
            # psycopg's async connection and libpq send nothing else PgBouncer does not know.
            "ignore_startup_parameters = extra_float_digits",
            "",
        ]
    )


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running_pgbouncer(server: URL, directory: Path) -> Iterator[URL]:
    """Run PgBouncer in front of ``server`` until the block ends.

    Args:
        server (URL): Any URL of the PostgreSQL server (its database is not used).
        directory (Path): An empty directory for its configuration and log.

    Yields:
        URL: ``server``'s URL with PgBouncer's host and port; set the database to use.
    """
    binary = pgbouncer_binary()
    directory.mkdir(parents=True, exist_ok=True)
    command = [binary]
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
        command += ["-u", UNPRIVILEGED_USER]
    # It holds the server's password: readable by PgBouncer's user alone.
    directory.chmod(0o700)
    for _ in range(5):  # another process may take the spare port before PgBouncer does
        port = _spare_port()
        config = directory / "pgbouncer.ini"
        config.write_text(_config(server, port, directory))
        config.chmod(0o600)
        if os.geteuid() == 0:
            os.chown(config, user.pw_uid, user.pw_gid)
        # Opened here, so that what it says before it can write its log is kept too.
        with (directory / "pgbouncer.out").open("ab") as output:
            process = subprocess.Popen(
                [*command, str(config)], stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and not _answers(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None and _answers(port):
            break
        process.kill()
        process.wait()
    else:
        tail = (directory / "pgbouncer.out").read_text()[-2000:]
        raise RuntimeError(f"PgBouncer did not start on a spare port; its log ends:\n{tail}")
    try:
        yield server.set(host="127.0.0.1", port=port, query={})
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
