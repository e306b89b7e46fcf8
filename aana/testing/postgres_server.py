"""Finding a PostgreSQL server for the tests.

In the automatic order, the first source that applies wins: the URL the user gave; a
throwaway server started with ``pg_ctl`` (found on the PATH or in Debian's
``/usr/lib/postgresql/*/bin``): pytest-postgresql's process fixture starts it for an ordinary
user, and :mod:`aana.testing.pg_ctl_server` starts it as ``nobody`` for root, since PostgreSQL
refuses to run as root; a container from :mod:`aana.testing.postgres_container`, when a
Docker engine answers. The ``aana_postgres_source`` option forces one of them.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

import pytest
from sqlalchemy.engine import URL

from aana.testing.backends import postgres_url
from aana.testing.options import POSTGRES_IMAGE, POSTGRES_SOURCE, POSTGRES_URL
from aana.testing.pg_ctl_server import (
    DEBIAN_BIN_DIRS,
    Unavailable,
    find_bin_dir,
    root_problem,
    running_as_root,
    throwaway_server,
)
from aana.testing.postgres_container import SharedContainer, docker_engine_answers, docker_host
from aana.testing.run import controller_pid, is_xdist_worker, run_id
from aana.testing.settings import PluginSettings

PG_PROC_FIXTURE = "aana_postgresql_proc"
"""Name of the pytest-postgresql process fixture the plugin declares."""


class PostgresSource(StrEnum):
    """Where the test server comes from."""

    URL = "url"
    PG_CTL = "pg_ctl"
    CONTAINER = "container"


def choose_source(
    requested: str,
    url: URL | str | None,
    pg_ctl: str | None,
    is_root: bool,
    docker_answers: Callable[[], bool],
) -> PostgresSource:
    """Pick the source of the PostgreSQL server: the one requested, or the first that applies.

    Args:
        requested (str): ``auto``, or the source the ``aana_postgres_source`` option forces.
        url (URL | str | None): The URL the user gave, if any.
        pg_ctl (str | None): Path of ``pg_ctl``, if found.
        is_root (bool): Whether the tests run as root.
        docker_answers (Callable[[], bool]): Asks whether a Docker engine answers; only called
            when the container is requested or the other two sources do not apply.

    Returns:
        PostgresSource: The source to use.

    Raises:
        pytest.UsageError: If the requested source cannot be used, saying why, or if none
            applies; that message names all three ways to provide one.
    """
    forced = f"{POSTGRES_SOURCE.flag} / {POSTGRES_SOURCE.env} / {POSTGRES_SOURCE.name} is"
    if not pg_ctl:
        pg_ctl_problem: str | None = f"pg_ctl is neither on the PATH nor in {DEBIAN_BIN_DIRS}"
    else:
        pg_ctl_problem = root_problem() if is_root else None
    if requested == PostgresSource.URL:
        if not url:
            raise pytest.UsageError(
                f"{forced} url, but no URL is given: set {POSTGRES_URL.flag}, "
                f"{POSTGRES_URL.env} or the {POSTGRES_URL.name} ini key"
            )
        return PostgresSource.URL
    if requested == PostgresSource.PG_CTL:
        if pg_ctl_problem:
            raise pytest.UsageError(f"{forced} pg_ctl, but {pg_ctl_problem}")
        return PostgresSource.PG_CTL
    if requested == PostgresSource.CONTAINER:
        if not docker_answers():
            raise pytest.UsageError(
                f"{forced} container, but no Docker engine answers at {docker_host()} (DOCKER_HOST)"
            )
        return PostgresSource.CONTAINER
    if url:
        return PostgresSource.URL
    if not pg_ctl_problem:
        return PostgresSource.PG_CTL
    if docker_answers():
        return PostgresSource.CONTAINER
    raise pytest.UsageError(
        "the postgresql backend needs a PostgreSQL server, and none was found. Provide one of: "
        f"(1) the URL of a running server with {POSTGRES_URL.flag}, {POSTGRES_URL.env} or the "
        f"{POSTGRES_URL.name} ini key; (2) pg_ctl and initdb on the PATH or in {DEBIAN_BIN_DIRS} "
        f"({pg_ctl_problem}); (3) a running Docker engine, for a container of "
        f"{POSTGRES_IMAGE.flag}."
    )


def find_pg_ctl() -> str | None:
    """Return the path of ``pg_ctl``: on the PATH, else in Debian's layout; or None."""
    bin_dir = find_bin_dir()
    return str(bin_dir / "pg_ctl") if bin_dir else None


@contextmanager
def server_url(request: pytest.FixtureRequest, settings: PluginSettings) -> Iterator[URL]:
    """Yield the URL of a server from the requested source, or the first that applies.

    Args:
        request (pytest.FixtureRequest): The requesting fixture's request, to start
            pytest-postgresql's process fixture when that is the source.
        settings (PluginSettings): The run's settings: the source, URL and image given.

    Yields:
        URL: The server's URL, parsed so that its repr hides the password.
    """
    config = request.config
    url = settings.postgres_url
    source = choose_source(
        settings.postgres_source, url, find_pg_ctl(), running_as_root(), docker_engine_answers
    )
    if source is PostgresSource.URL:
        assert url is not None
        yield url
    elif source is PostgresSource.PG_CTL and running_as_root():
        try:
            with throwaway_server() as server:
                yield postgres_url(server.url)
        except Unavailable as problem:
            message = f"cannot start a PostgreSQL server with pg_ctl: {problem}"
            raise pytest.UsageError(message) from None
    elif source is PostgresSource.PG_CTL:
        proc = request.getfixturevalue(PG_PROC_FIXTURE)
        yield postgres_url(f"postgresql://{proc.user}@{proc.host}:{proc.port}/postgres")
    else:
        # The container outlives this fixture: the run's other processes may still use it.
        # The controlling process removes it (remove_run_container).
        container = SharedContainer(run_id(config))
        yield postgres_url(container.url(settings.postgres_image, controller_pid(config)))


def remove_run_container(config: pytest.Config) -> None:
    """Remove the run's container, if any; called by the controlling process at the end.

    Args:
        config (pytest.Config): pytest's config.
    """
    if not is_xdist_worker(config):
        SharedContainer(run_id(config)).remove()
