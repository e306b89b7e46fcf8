"""The database fixtures: engines, sessions and query counting."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aana.storage.migrations import alembic_config, upgrade
from aana.testing import queries
from aana.testing.backends import (
    PostgresDatabases,
    SQLiteDatabases,
    TemplateReuse,
    TestDatabases,
)
from aana.testing.isolation import committing_sessions, isolated_session
from aana.testing.models_check import ModelsAheadOfMigrations, missing_from_migrations
from aana.testing.postgres_server import server_url
from aana.testing.run import controller_pid, is_xdist_worker, owner_label, run_id, worker_id
from aana.testing.settings import plugin_settings
from aana.testing.template_key import lineage_hash


@pytest.fixture(scope="session")
def aana_migrations_config(pytestconfig: pytest.Config) -> Config:
    """The Alembic configuration the test databases are migrated with.

    aana's own migrations, followed by an app's when the ``aana_alembic_config`` option names
    the app's ``alembic.ini``.
    """
    return alembic_config(plugin_settings(pytestconfig).alembic_config)


@pytest.fixture(scope="session")
def aana_test_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabases]:
    """Creates, clones and drops the test run's databases on the selected backend.

    On PostgreSQL, it first drops what killed runs left on the server (see
    :meth:`PostgresDatabases.drop_dead_runs`).
    """
    config = request.config
    settings = plugin_settings(config)
    run, worker = run_id(config), worker_id(config)
    databases: TestDatabases
    if settings.backend == "sqlite":
        base = tmp_path_factory.getbasetemp()
        shared = base.parent if is_xdist_worker(config) else base
        databases = SQLiteDatabases(run, worker, shared, tmp_path_factory.mktemp("aana-db"))
        yield databases
        return
    with server_url(request, settings) as url:
        databases = PostgresDatabases.connect(run, worker, url, owner_label(controller_pid(config)))
        if worker in ("main", "gw0"):  # one process per run sweeps
            databases.drop_dead_runs()
        try:
            yield databases
        finally:
            databases.dispose()


@pytest.fixture(scope="session")
def aana_template(
    request: pytest.FixtureRequest,
    aana_test_databases: TestDatabases,
    aana_migrations_config: Config,
) -> None:
    """Migrates the template database to head, once per run or, with reuse, once per lineage.

    Then compares it with the models: a table or column no revision creates stops the run
    with one error naming it, instead of every database test failing on it.
    """
    settings = plugin_settings(request.config)
    reuse = None
    if settings.reuse_db:
        reuse = TemplateReuse(lineage_hash(aana_migrations_config), settings.create_db)
    app = settings.alembic_config is not None
    try:
        aana_test_databases.ensure_template(
            lambda engine: upgrade(engine, aana_migrations_config),
            reuse,
            lambda engine: missing_from_migrations(engine, aana_migrations_config, app),
        )
    except ModelsAheadOfMigrations as error:
        ahead = str(error)
    else:
        return
    # Stops after this test (each xdist worker after its first), which fails saying why.
    request.session.shouldstop = f"aana.testing: {ahead}"
    pytest.fail(ahead, pytrace=False)


@pytest.fixture(scope="session")
def db_engine(aana_test_databases: TestDatabases, aana_template: None) -> Iterator[Engine]:
    """An engine on this worker's database, migrated to head by ``aana migrate``'s code."""
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=True)
    yield engine
    aana_test_databases.drop(engine)


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session whose work, commits included, is rolled back after the test.

    ``aana.storage.session.get_session()`` returns sessions on the same transaction while the
    test runs, and the ``aana.testing.factories`` write through this session.
    """
    with isolated_session(db_engine) as session:
        yield session


@pytest.fixture
def transactional_db_engine(
    aana_test_databases: TestDatabases, aana_template: None
) -> Iterator[Engine]:
    """An engine on a fresh migrated database with real commits, dropped after the test.

    For tests that need several connections, such as concurrency tests.
    ``aana.storage.session.get_session()`` returns sessions on it while the test runs.
    """
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=True)
    try:
        with committing_sessions(engine):
            yield engine
    finally:
        aana_test_databases.drop(engine)


@pytest.fixture
def count_queries() -> Callable[..., AbstractContextManager[queries.CapturedQueries]]:
    """Records the statements a block runs on the test's connection.

    ``with count_queries() as captured: ...``; see :func:`aana.testing.queries.count_queries`.
    """
    return queries.count_queries


@pytest.fixture
def assert_max_queries() -> Callable[..., AbstractContextManager[queries.CapturedQueries]]:
    """Fails if a block runs more statements than allowed, listing them.

    ``with assert_max_queries(2): ...``; see :func:`aana.testing.queries.assert_max_queries`.
    """
    return queries.assert_max_queries
