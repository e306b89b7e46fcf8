"""A PostgreSQL container shared by every process of a test run.

The first process that needs it (a pytest-xdist worker, or pytest itself without xdist) starts
it under a file lock and leaves its URL next to the lock; the others read the URL. The
controlling pytest process removes it when the run ends. Each container is labelled with its
run and with the host and process id of the run's controlling process, so that a run can
remove the containers that crashed runs left behind: those whose controlling process on this
host is gone.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from aana.testing.options import POSTGRES_IMAGE, POSTGRES_SOURCE, POSTGRES_URL
from aana.testing.run import owner_is_gone, owner_label

LABEL_RUN = "aana.testing.run"
"""Label holding the id of the test run a container serves."""

LABEL_OWNER = "aana.testing.owner"
"""Label holding ``<hostname>:<pid>`` of the run's controlling pytest process."""

PING_TIMEOUT = 2
"""Seconds to wait for the Docker engine to answer a ping."""


def docker_engine_answers() -> bool:
    """Tell whether a Docker engine answers a ping within :data:`PING_TIMEOUT` seconds."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=PING_TIMEOUT)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def docker_host() -> str:
    """Return where the Docker client looks for the engine, for error messages."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def is_stale(labels: dict[str, str]) -> bool:
    """Tell whether a container's run is over: its controlling process on this host is gone.

    Containers started from another host (an engine shared over the network) are never stale
    here: whether their process lives cannot be known from this host.

    Args:
        labels (dict[str, str]): The container's labels.

    Returns:
        bool: True if the container can be removed.
    """
    return owner_is_gone(labels.get(LABEL_OWNER, ""))


class SharedContainer:
    """The PostgreSQL container of one test run.

    Attributes:
        run_id (str): The run's id, shared by all its processes.
        state_dir (Path): Where the lock and the URL file live: the system's temporary
            directory, which every process of the run sees.
    """

    def __init__(self, run_id: str) -> None:
        """Keep the run's lock and URL files in the temporary directory; nothing starts yet.

        Args:
            run_id (str): The run's id.
        """
        self.run_id = run_id
        self.state_dir = Path(tempfile.gettempdir())

    @property
    def _lock_path(self) -> Path:
        return self.state_dir / f"aana-test-{self.run_id}-postgres.lock"

    @property
    def _url_path(self) -> Path:
        return self.state_dir / f"aana-test-{self.run_id}-postgres.url"

    def url(self, image: str, controller_pid: int) -> str:
        """Return the URL of the run's container, starting it if no process of the run has.

        Args:
            image (str): The image to start, following the official postgres image's
                contract.
            controller_pid (int): The process id of the run's controlling pytest process.

        Returns:
            str: The server's URL.

        Raises:
            pytest.UsageError: If no Docker engine answers, the image is missing and cannot
                be pulled, or the server is not ready in time.
        """
        with FileLock(str(self._lock_path)):
            if self._url_path.exists():
                return self._url_path.read_text()
            client = _client()
            try:
                remove_stale_containers(client)
                _ensure_image(client, image)
            finally:
                client.close()
            url = _start(image, {LABEL_RUN: self.run_id, LABEL_OWNER: owner_label(controller_pid)})
            self._url_path.write_text(url)
            return url

    def remove(self) -> None:
        """Remove the run's container, if one of its processes started one.

        A container whose start failed was removed by the process that tried; one orphaned
        between its start and its URL file is stale once the run ends, and the next run
        removes it.
        """
        if not self._url_path.exists():
            self._lock_path.unlink(missing_ok=True)
            return
        client = _client()
        try:
            for container in client.containers.list(
                all=True, filters={"label": f"{LABEL_RUN}={self.run_id}"}
            ):
                container.remove(force=True, v=True)
        finally:
            client.close()
        self._url_path.unlink(missing_ok=True)
        self._lock_path.unlink(missing_ok=True)


def remove_stale_containers(client: Any) -> list[str]:
    """Remove the containers of runs whose controlling process is gone.

    Args:
        client (docker.DockerClient): A client of the engine.

    Returns:
        list[str]: The ids of the containers removed.
    """
    removed = []
    for container in client.containers.list(all=True, filters={"label": LABEL_RUN}):
        if is_stale(container.labels):
            container.remove(force=True, v=True)
            removed.append(str(container.id))
    return removed


def _client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as error:
        raise pytest.UsageError(
            f"{POSTGRES_SOURCE.flag} container: no Docker engine answers at {docker_host()} "
            f"(DOCKER_HOST): {error}"
        ) from None
    return client


def ensure_image(image: str) -> None:
    """Make sure the engine has ``image``, pulling it if it can.

    Args:
        image (str): The image the run's container will start from.

    Raises:
        pytest.UsageError: If no engine answers, or the image is missing and cannot be
            pulled; the message says what to set instead.
    """
    client = _client()
    try:
        _ensure_image(client, image)
    finally:
        client.close()


def _ensure_image(client: Any, image: str) -> None:
    import docker.errors

    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(image)
    except Exception as error:
        raise pytest.UsageError(
            f"{POSTGRES_IMAGE.flag} / {POSTGRES_IMAGE.env}: image {image!r} is not on the Docker "
            f"engine at {docker_host()} and cannot be pulled: {error}. Build or load a PostgreSQL "
            f"image locally and name it with {POSTGRES_IMAGE.env}, or give a running server "
            f"with {POSTGRES_URL.env}"
        ) from None


@contextmanager
def _without_reaper() -> Iterator[None]:
    """Keep testcontainers from starting its reaper (Ryuk) for this container.

    Ryuk removes a container once the process that started it exits, but the container
    outlives that process: it serves every xdist worker and the controlling process removes
    it. Ryuk's own image may not be pullable either.
    """
    from testcontainers.core.config import testcontainers_config

    before = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = True
    try:
        yield
    finally:
        testcontainers_config.ryuk_disabled = before


def _start(image: str, labels: dict[str, str]) -> str:
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.config import testcontainers_config

    # Trust, as the pg_ctl server and CI's server do: tests hand their database to
    # subprocesses through settings whose dumps mask the password.
    container = (
        PostgresContainer(image, username="postgres", dbname="postgres", driver="psycopg")
        .with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
        .with_kwargs(labels=labels)
    )
    try:
        with _without_reaper():
            container.start()
    except (TimeoutError, RuntimeError) as error:
        logs = _log_tail(container)
        container.stop()
        raise pytest.UsageError(
            f"the PostgreSQL container from image {image!r} was not ready within "
            f"{testcontainers_config.timeout:.0f} s (testcontainers' TC_MAX_TRIES x "
            f"TC_POOLING_INTERVAL): {error}; the container's log ends with:\n{logs}"
        ) from None
    except BaseException:
        container.stop()
        raise
    return str(container.get_connection_url())


def _log_tail(container: Any, lines: int = 20) -> str:
    try:
        stdout, stderr = container.get_logs()
    except Exception as error:
        return f"(no log: {error})"
    text = (stdout + stderr).decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])
