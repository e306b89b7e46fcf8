"""A throwaway PostgreSQL server, started with ``initdb`` and ``pg_ctl``, whoever runs the tests.

pytest-postgresql's process fixture starts such a server for the plugin when the tests run as
an ordinary user. PostgreSQL refuses to run as root, and that fixture has no way to start it
as another user, so under root the plugin uses :func:`throwaway_server` instead: the server
runs as ``nobody`` through ``runuser``, in a directory of its own, on a spare loopback port,
with trust authentication. The tests that stop and restart a server use it too. It never
touches any other server.

The binaries come from the ``PATH`` or, where Debian and Ubuntu keep them off it, from the
newest ``/usr/lib/postgresql/*/bin``.
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

UNPRIVILEGED_USER = "nobody"
"""The user a server started by root runs as."""

DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"


class Unavailable(Exception):
    """No throwaway server can be started here; the message says why."""


def find_bin_dir() -> Path | None:
    """Return the directory holding ``pg_ctl`` and ``initdb``, if there is one.

    Returns:
        Path | None: The directory of ``pg_ctl`` on the ``PATH``, else the newest PostgreSQL
        of Debian's layout, else None.
    """
    on_path = shutil.which("pg_ctl")
    debian = sorted(
        Path("/").glob(DEBIAN_BIN_DIRS.lstrip("/")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for directory in ([Path(on_path).parent] if on_path else []) + debian:
        if (directory / "pg_ctl").is_file() and (directory / "initdb").is_file():
            return directory
    return None


def running_as_root() -> bool:
    """Tell whether this process runs as root."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def root_problem() -> str | None:
    """Say why root cannot start a server as :data:`UNPRIVILEGED_USER`, if it cannot.

    Returns:
        str | None: The problem, or None when ``runuser`` and the user are there.
    """
    if shutil.which("runuser") is None:
        return "running as root and runuser is not available"
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return f"running as root and there is no user {UNPRIVILEGED_USER}"
    return None


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayServer:
    """A running server, which its owner may stop and start again.

    Attributes:
        port (int): The port it listens on, on 127.0.0.1.
        url (str): The URL of its ``postgres`` database: user ``postgres``, trust auth.
    """

    def __init__(self, bin_dir: Path, base: Path, prefix: list[str]) -> None:
        """Prepare a server in ``base``, run through ``prefix`` (``runuser`` under root).

        Args:
            bin_dir (Path): Where ``initdb`` and ``pg_ctl`` are.
            base (Path): The server's directory: data, log and socket.
            prefix (list[str]): Prepended to every command.
        """
        self._bin, self._base, self._prefix = bin_dir, base, prefix
        self._data = base / "data"
        self.port = _spare_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 120) -> None:
        done = subprocess.run(  # noqa: S603 - our own binaries and arguments
            [*self._prefix, *command], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise Unavailable(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")

    def init(self) -> None:
        """Create the cluster: superuser ``postgres``, trust authentication, UTF-8."""
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
        """Start the server and wait until it accepts connections."""
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
        """Stop the server.

        Args:
            mode (str): ``pg_ctl``'s shutdown mode: ``smart``, ``fast`` or ``immediate``.
        """
        self._run(str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop the server, then start it on the same port."""
        self.stop()
        self.start()


@contextmanager
def throwaway_server() -> Iterator[ThrowawayServer]:
    """Start a server; stop it and remove its files afterwards.

    Yields:
        ThrowawayServer: The running server.

    Raises:
        Unavailable: If the binaries, the unprivileged user or ``runuser`` are missing, or
            the server does not start.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise Unavailable(
            f"initdb and pg_ctl were found neither on the PATH nor in {DEBIAN_BIN_DIRS}"
        )
    as_root = running_as_root()
    problem = root_problem() if as_root else None
    if problem:
        raise Unavailable(problem)
    prefix: list[str] = []
    # Under root, in /tmp itself: TMPDIR may be a directory of root's that nobody cannot enter
    # (pytest's own temporary directories are mode 0700).
    base = Path(tempfile.mkdtemp(prefix="aana-pg-", dir="/tmp" if as_root else None))  # noqa: S108
    try:
        if as_root:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(base, user.pw_uid, user.pw_gid)
            prefix = [str(shutil.which("runuser")), "-u", UNPRIVILEGED_USER, "--"]
        server = ThrowawayServer(bin_dir, base, prefix)
        server.init()
        server.start()
        try:
            yield server
        finally:
            with suppress(Unavailable):  # already stopped
                server.stop("immediate")
    finally:
        shutil.rmtree(base, ignore_errors=True)
