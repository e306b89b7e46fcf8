"""What the plugin tells before the run: the backend, and where its server comes from."""

import pytest

from aana.testing.backends import PostgresDatabases, configured_postgres_url
from aana.testing.options import (
    CREATE_DB,
    DB,
    POSTGRES_IMAGE,
    POSTGRES_URL,
    REUSE_DB,
    get_backend,
    get_flag,
    get_option,
    get_postgres_source,
)
from aana.testing.pg_ctl_server import UNPRIVILEGED_USER, running_as_root
from aana.testing.postgres_container import docker_engine_answers, ensure_image
from aana.testing.postgres_server import PostgresSource, choose_source, find_pg_ctl
from aana.testing.run import run_id


def header_lines(config: pytest.Config) -> list[str]:
    """Return the lines the plugin adds to pytest's header.

    Args:
        config (pytest.Config): pytest's config.

    Returns:
        list[str]: The backend and its server, with any password masked, a warning for
        a PostgreSQL URL the SQLite backend ignores, and whether the template is kept.
    """
    lines = _server_lines(config)
    if get_flag(config, REUSE_DB):
        rebuild = ", rebuilt once in this run" if get_flag(config, CREATE_DB) else ""
        lines.append(f"aana: migrated template kept across runs ({REUSE_DB.flag}{rebuild})")
    return lines


def _server_lines(config: pytest.Config) -> list[str]:
    url = get_option(config, POSTGRES_URL)
    if get_backend(config) == "sqlite":
        lines = ["aana: backend sqlite (a file per test database, under pytest's tmp path)"]
        if url:
            lines.append(
                f"aana: WARNING: a PostgreSQL URL is given ({POSTGRES_URL.flag} / "
                f"{POSTGRES_URL.env} / {POSTGRES_URL.name}) but the backend is sqlite, so it is "
                f"not used; select PostgreSQL with {DB.flag} postgresql"
            )
        return lines
    try:
        source = choose_source(
            get_postgres_source(config),
            url,
            find_pg_ctl(),
            running_as_root(),
            docker_engine_answers,
        )
    except pytest.UsageError:
        return ["aana: backend postgresql, no server found"]
    if source is PostgresSource.URL:
        parsed = configured_postgres_url(config)
        assert parsed is not None
        shown = parsed.set(drivername="postgresql")
        where = f"the URL {shown.render_as_string(hide_password=True)}"
    elif source is PostgresSource.PG_CTL:
        as_user = f" as {UNPRIVILEGED_USER}" if running_as_root() else ""
        where = f"a throwaway server started with {find_pg_ctl()}{as_user}"
    else:
        where = (
            f"a throwaway Docker container of {get_option(config, POSTGRES_IMAGE)} "
            "(testcontainers), one for the whole run"
        )
    return [f"aana: backend postgresql, server from {where}"]


def check_server(config: pytest.Config) -> None:
    """Stop the run once, before any test, if the PostgreSQL server cannot be had.

    A server given by URL must answer; a container's image must be on the engine or
    pullable; without any source, the message names the ways to provide one. Otherwise every
    test would fail on its own with the same error. A run that only collects needs no server.

    Args:
        config (pytest.Config): pytest's config.

    Raises:
        pytest.UsageError: If the server does not answer (the message names host and port,
            and the ways to get a server), no source applies, or the image is missing.
    """
    if get_backend(config) != "postgresql" or config.option.collectonly:
        return
    url = get_option(config, POSTGRES_URL)
    source = choose_source(
        get_postgres_source(config), url, find_pg_ctl(), running_as_root(), docker_engine_answers
    )
    if source is PostgresSource.URL:
        parsed = configured_postgres_url(config)
        assert parsed is not None
        PostgresDatabases.connect(run_id(config), "main", parsed).dispose()
    elif source is PostgresSource.CONTAINER:
        image = get_option(config, POSTGRES_IMAGE)
        assert image is not None
        ensure_image(image)
