"""What the plugin tells before the run: the backend, and where its server comes from."""

import pytest

from aana.testing.backends import PostgresDatabases
from aana.testing.options import DB, POSTGRES_URL, REUSE_DB
from aana.testing.pg_ctl_server import UNPRIVILEGED_USER, running_as_root
from aana.testing.postgres_container import docker_engine_answers, ensure_image
from aana.testing.postgres_server import PostgresSource, choose_source, find_pg_ctl
from aana.testing.run import run_id
from aana.testing.settings import PluginSettings


def header_lines(settings: PluginSettings) -> list[str]:
    """Return the lines the plugin adds to pytest's header.

    Args:
        settings (PluginSettings): The run's settings.

    Returns:
        list[str]: The backend and its server, with any password masked, a warning for
        a PostgreSQL URL the SQLite backend ignores, and whether the template is kept.
    """
    lines = _server_lines(settings)
    if settings.reuse_db:
        rebuild = ", rebuilt once in this run" if settings.create_db else ""
        lines.append(f"aana: migrated template kept across runs ({REUSE_DB.flag}{rebuild})")
    return lines


def _server_lines(settings: PluginSettings) -> list[str]:
    if settings.backend == "sqlite":
        lines = ["aana: backend sqlite (a file per test database, under pytest's tmp path)"]
        if settings.ignored_postgres_url:
            lines.append(
                f"aana: WARNING: a PostgreSQL URL is given ({POSTGRES_URL.flag} / "
                f"{POSTGRES_URL.env} / {POSTGRES_URL.name}) but the backend is sqlite, so it is "
                f"not used; select PostgreSQL with {DB.flag} postgresql"
            )
        return lines
    url = settings.postgres_url
    try:
        source = _source(settings)
    except pytest.UsageError:
        return ["aana: backend postgresql, no server found"]
    if source is PostgresSource.URL:
        assert url is not None
        shown = url.set(drivername="postgresql")
        where = f"the URL {shown.render_as_string(hide_password=True)}"
    elif source is PostgresSource.PG_CTL:
        as_user = f" as {UNPRIVILEGED_USER}" if running_as_root() else ""
        where = f"a throwaway server started with {find_pg_ctl()}{as_user}"
    else:
        where = (
            f"a throwaway Docker container of {settings.postgres_image} "
            "(testcontainers), one for the whole run"
        )
    return [f"aana: backend postgresql, server from {where}"]


def check_server(config: pytest.Config, settings: PluginSettings) -> None:
    """Stop the run once, before any test, if the PostgreSQL server cannot be had.

    A server given by URL must answer; a container's image must be on the engine or
    pullable; without any source, the message names the ways to provide one. Otherwise every
    test would fail on its own with the same error. A run that only collects needs no server.

    Args:
        config (pytest.Config): pytest's config: whether the run only collects, and its id.
        settings (PluginSettings): The run's settings.

    Raises:
        pytest.UsageError: If the server does not answer (the message names host and port,
            and the ways to get a server), no source applies, or the image is missing.
    """
    if settings.backend != "postgresql" or config.option.collectonly:
        return
    source = _source(settings)
    if source is PostgresSource.URL:
        assert settings.postgres_url is not None
        PostgresDatabases.connect(run_id(config), "main", settings.postgres_url).dispose()
    elif source is PostgresSource.CONTAINER:
        ensure_image(settings.postgres_image)


def _source(settings: PluginSettings) -> PostgresSource:
    """Where the server comes from; a usage error if nowhere (see :func:`choose_source`)."""
    return choose_source(
        settings.postgres_source,
        settings.postgres_url,
        find_pg_ctl(),
        running_as_root(),
        docker_engine_answers,
    )
