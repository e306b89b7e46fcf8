"""Finding a PostgreSQL server for the tests.

The first source that applies wins: the URL the user gave; a throwaway server started by
pytest-postgresql's process fixture, when ``pg_ctl`` is on the PATH and we are not root
(PostgreSQL refuses to run as root); a testcontainers ``PostgresContainer``, when a Docker
engine answers.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

import pytest
from sqlalchemy.engine import URL

from aana.testing.backends import postgres_url
from aana.testing.options import POSTGRES_URL

PG_PROC_FIXTURE = "aana_postgresql_proc"
"""Name of the pytest-postgresql process fixture the plugin declares."""

CONTAINER_IMAGE = "postgres:15"


class PostgresSource(StrEnum):
    """Where the test server comes from."""

    URL = "url"
    PG_CTL = "pg_ctl"
    CONTAINER = "container"


def choose_source(
    url: str | None,
    pg_ctl: str | None,
    is_root: bool,
    docker_answers: Callable[[], bool],
) -> PostgresSource:
    """Pick the first source of a PostgreSQL server that applies.

    Args:
        url (str | None): The URL the user gave.
        pg_ctl (str | None): Path of ``pg_ctl``, if found.
        is_root (bool): Whether the tests run as root.
        docker_answers (Callable[[], bool]): Asks whether a Docker engine answers; only called
            when the other two sources do not apply.

    Returns:
        PostgresSource: The source to use.

    Raises:
        pytest.UsageError: If none applies; the message names all three ways to provide one.
    """
    if url:
        return PostgresSource.URL
    if pg_ctl and not is_root:
        return PostgresSource.PG_CTL
    if docker_answers():
        return PostgresSource.CONTAINER
    reason = "pg_ctl is not on the PATH" if not pg_ctl else "pg_ctl refuses to run as root"
    raise pytest.UsageError(
        "the postgresql backend needs a PostgreSQL server, and none was found. Provide one of: "
        f"(1) the URL of a running server with {POSTGRES_URL.flag}, {POSTGRES_URL.env} or the "
        f"{POSTGRES_URL.name} ini key; (2) pg_ctl on the PATH, run as a non-root user "
        f"({reason}); (3) a running Docker engine, for testcontainers."
    )


def find_pg_ctl() -> str | None:
    """Return the path of ``pg_ctl``, if it is on the PATH."""
    return shutil.which("pg_ctl")


def running_as_root() -> bool:
    """Tell whether the tests run as root."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def docker_engine_answers() -> bool:
    """Tell whether a Docker engine answers a ping within two seconds."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def container_url() -> Iterator[str]:
    """Start a PostgreSQL container and yield its URL; stop it afterwards.

    Yields:
        str: The server's URL.
    """
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer(CONTAINER_IMAGE, driver="psycopg") as container:
        yield container.get_connection_url()


@contextmanager
def server_url(request: pytest.FixtureRequest, url: str | None) -> Iterator[URL]:
    """Yield the URL of a server from the first source that applies.

    Args:
        request (pytest.FixtureRequest): The requesting fixture's request, to start
            pytest-postgresql's process fixture when that is the source.
        url (str | None): The URL the user gave.

    Yields:
        URL: The server's URL, parsed so that its repr hides the password.
    """
    source = choose_source(url, find_pg_ctl(), running_as_root(), docker_engine_answers)
    if source is PostgresSource.URL:
        assert url is not None
        yield postgres_url(url)
    elif source is PostgresSource.PG_CTL:
        proc = request.getfixturevalue(PG_PROC_FIXTURE)
        yield postgres_url(f"postgresql://{proc.user}@{proc.host}:{proc.port}/postgres")
    else:
        with container_url() as started:
            yield postgres_url(started)
