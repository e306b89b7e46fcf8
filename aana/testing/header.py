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
from aana.testing.postgres_container import docker_engine_answers
from aana.testing.postgres_server import (
    PostgresSource,
    choose_source,
    find_pg_ctl,
    running_as_root,
)
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
        where = f"a throwaway server started with {find_pg_ctl()}"
    else:
        where = (
            f"a throwaway Docker container of {get_option(config, POSTGRES_IMAGE)} "
            "(testcontainers), one for the whole run"
        )
    return [f"aana: backend postgresql, server from {where}"]


def check_server(config: pytest.Config) -> None:
    """Stop the run once, before any test, if the PostgreSQL server given by URL is down.

    Servers the plugin starts itself are checked as they start; a run that only collects
    needs no server.

    Args:
        config (pytest.Config): pytest's config.

    Raises:
        pytest.UsageError: If the server does not answer; the message names host and port,
            and the ways to get a server.
    """
    url = configured_postgres_url(config)
    if get_backend(config) != "postgresql" or url is None or config.option.collectonly:
        return
    if get_postgres_source(config) not in (PostgresSource.URL, "auto"):
        return
    PostgresDatabases.connect(run_id(config), "main", url).dispose()
