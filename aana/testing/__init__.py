"""aana's pytest plugin: database fixtures, factories and migration checks.

Load it with ``pytest -p aana.testing`` or ``pytest_plugins = ["aana.testing"]`` in the
root ``conftest.py``. It is deliberately not registered through a ``pytest11`` entry point,
which would register it twice alongside ``-p``.
"""

from collections.abc import Generator
from typing import Any

import pytest
from pytest_postgresql import factories as postgresql_factories

from aana.testing import alembic_fixtures
from aana.testing.access import _aana_db_marker, configured_database, register_marker
from aana.testing.async_fixtures import (
    async_db_engine,
    async_db_session,
    async_transactional_db_engine,
    unrun_async_test,
)
from aana.testing.backends import PostgresDatabases
from aana.testing.blocker import aana_db_blocker, db_blocker, install_blocker
from aana.testing.fixtures import (
    aana_migrations_config,
    aana_template,
    aana_test_databases,
    assert_max_queries,
    count_queries,
    db_engine,
    db_session,
    transactional_db_engine,
)
from aana.testing.header import check_server, header_lines
from aana.testing.migration_checks import PYTEST_ALEMBIC_PLUGIN, TEST_ALEMBIC, collect_checks
from aana.testing.options import add_options
from aana.testing.postgres_server import find_pg_ctl, remove_run_container
from aana.testing.run import RUN_ID_KEY, is_xdist_worker, run_id
from aana.testing.settings import plugin_settings, read_settings, store_settings

__all__ = [
    "_aana_db_marker",
    "aana_db_blocker",
    "aana_migrations_config",
    "aana_postgresql_proc",
    "aana_template",
    "aana_test_databases",
    "assert_max_queries",
    "async_db_engine",
    "async_db_session",
    "async_transactional_db_engine",
    "count_queries",
    "db_engine",
    "db_session",
    "transactional_db_engine",
]

aana_postgresql_proc = postgresql_factories.postgresql_proc(executable=find_pg_ctl())


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the plugin's options."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Read and check the options once; make the blocker; put pytest-alembic's fixtures in place.

    The fixtures and hooks read the options from the settings kept in pytest's stash
    (:func:`aana.testing.settings.plugin_settings`); the blocker, kept there too, is the
    ``aana_db_blocker`` fixture.
    """
    store_settings(config, read_settings(config))
    install_blocker(config)
    run_id(config)
    register_marker(config)
    config.pluginmanager.register(alembic_fixtures, "aana.testing.alembic_fixtures")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the backend and where its server comes from."""
    return header_lines(plugin_settings(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the run's databases from a server given by URL, once all workers are done.

    Each process drops the databases it cloned; the template is shared by the workers, so
    the controlling process drops it, with anything a crashed worker left behind. It also
    removes the run's PostgreSQL container, which all workers share.
    """
    remove_run_container(config)
    try:
        settings = plugin_settings(config)
    except RuntimeError:
        return  # pytest_configure stopped on a bad option: nothing was created
    if is_xdist_worker(config) or settings.backend != "postgresql":
        return
    if config.option.collectonly:
        return  # collecting creates no database: no server to reach
    if settings.postgres_url is not None:
        PostgresDatabases.connect(run_id(config), "main", settings.postgres_url).drop_run()


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Generator[None, None, None]:
    """Check the server; block database access outside test databases.

    The database ``DB_CONFIG`` names now is guarded for the whole run: an engine asked for
    on it is the test's, or refused. The ``aana_db_blocker`` fixture lifts the block.

    Then switch off pytest-alembic's collector: the plugin collects the migration checks.
    A server given by URL that does not answer stops the run here, once.
    """
    config = session.config
    if not is_xdist_worker(config):
        check_server(config, plugin_settings(config))
    db_blocker(config).start(guarded=configured_database())
    yield
    plugin = session.config.pluginmanager.get_plugin(PYTEST_ALEMBIC_PLUGIN)
    if plugin is not None:
        session.config.pluginmanager.unregister(plugin)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Lift the block on database access."""
    db_blocker(session.config).finish()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Add the migration checks under ``--test-alembic``; mark tests using ``alembic_runner``.

    First of the hook's implementations, so that ``-m`` and ``-k`` select among the checks.
    """
    for item in items:
        if "alembic_runner" in getattr(item, "fixturenames", ()):
            item.add_marker("alembic")
    if session.config.getoption(TEST_ALEMBIC, False):
        items[:0] = collect_checks(session, items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail an async test that pytest-asyncio would not run, saying how to make it run."""
    reason = unrun_async_test(item)
    if reason is not None:
        pytest.fail(reason, pytrace=False)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the run id to each pytest-xdist worker."""
    node.workerinput[RUN_ID_KEY] = run_id(node.config)
