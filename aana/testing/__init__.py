"""aana's pytest plugin: database fixtures, factories and migration checks.

Load it with ``pytest -p aana.testing`` or ``pytest_plugins = ["aana.testing"]`` in the
root ``conftest.py``. It is deliberately not registered through a ``pytest11`` entry point,
which would register it twice alongside ``-p``.
"""

import shutil
from typing import Any

import pytest
from pytest_postgresql import factories as postgresql_factories

from aana.testing import alembic_fixtures
from aana.testing.backends import PostgresDatabases, postgres_url
from aana.testing.fixtures import (
    aana_migrations_config,
    aana_template,
    aana_test_databases,
    db_engine,
    db_session,
    transactional_db_engine,
)
from aana.testing.options import POSTGRES_URL, add_options, get_backend, get_option
from aana.testing.postgres_server import remove_run_container
from aana.testing.run import RUN_ID_KEY, is_xdist_worker, run_id

__all__ = [
    "aana_migrations_config",
    "aana_postgresql_proc",
    "aana_template",
    "aana_test_databases",
    "db_engine",
    "db_session",
    "transactional_db_engine",
]

aana_postgresql_proc = postgresql_factories.postgresql_proc(executable=shutil.which("pg_ctl"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the plugin's options."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Check the options and put the pytest-alembic fixtures in place."""
    get_backend(config)
    run_id(config)
    config.pluginmanager.register(alembic_fixtures, "aana.testing.alembic_fixtures")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Drop the run's databases from a server given by URL, once all workers are done.

    Each process drops the databases it cloned; the template is shared by the workers, so
    the controlling process drops it, with anything a crashed worker left behind. It also
    removes the run's PostgreSQL container, which all workers share.
    """
    remove_run_container(config)
    url = get_option(config, POSTGRES_URL)
    if is_xdist_worker(config) or not url or get_backend(config) != "postgresql":
        return
    PostgresDatabases.connect(run_id(config), "main", postgres_url(url)).drop_run()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the run id to each pytest-xdist worker."""
    node.workerinput[RUN_ID_KEY] = run_id(node.config)
