"""A PostgreSQL server of a test's own, which the test may stop and restart at will.

Started with ``initdb`` and ``pg_ctl`` on a spare port, in a directory of its own, as an
unprivileged user (PostgreSQL refuses to run as root: under root the server runs as
``nobody`` through ``runuser``). It never touches any other server.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

PG_BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]
UNPRIVILEGED_USER = "nobody"


class Unavailable(Exception):
    """No server of our own can be started here; the message says why."""


def _bin_dir() -> Path:
    on_path = shutil.which("pg_ctl")
    candidates = ([Path(on_path).parent] if on_path else []) + PG_BIN_DIRS
    for directory in candidates:
        if (directory / "pg_ctl").is_file() and (directory / "initdb").is_file():
            return directory
    raise Unavailable("initdb and pg_ctl were not found")


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnPostgres:
    """A running server; ``stop``, ``start`` and ``restart`` control it.

    Attributes:
        port (int): The port it listens on, on 127.0.0.1.
        url (str): The URL of its ``postgres`` database, user ``postgres``, trust auth.
    """

    def __init__(self, bin_dir: Path, base: Path, prefix: list[str]) -> None:
        self._bin, self._base, self._prefix = bin_dir, base, prefix
        self._data = base / "data"
        self.port = _spare_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 120) -> None:
        done = subprocess.run(
            [*self._prefix, *command], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise Unavailable(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")

    def init(self) -> None:
        self._run(
            str(self._bin / "initdb"),
            "-D",
            str(self._data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self._base} -c fsync=off"
        self._run(
            str(self._bin / "pg_ctl"),
            "-D",
            str(self._data),
            "-l",
            str(self._base / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """Start a server of our own; stop it and remove its files afterwards.

    Raises:
        Unavailable: If the binaries, the unprivileged user or ``runuser`` are missing, or
            the server does not start.
    """
    bin_dir = _bin_dir()
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="aana-own-pg-"))
    try:
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unavailable("running as root and runuser is not available")
            try:
                user = pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError:
                raise Unavailable(
                    f"running as root and there is no user {UNPRIVILEGED_USER}"
                ) from None
            os.chown(base, user.pw_uid, user.pw_gid)
            prefix = [runuser, "-u", UNPRIVILEGED_USER, "--"]
        server = OwnPostgres(bin_dir, base, prefix)
        server.init()
        server.start()
        try:
            yield server
        finally:
            with suppress(Unavailable):  # already stopped
                server.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)
