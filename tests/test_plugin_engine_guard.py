"""Every way to an engine on the database DB_CONFIG names is refused, or is the test's.

``get_session()`` and ``get_engine()`` were refused outside a test database; the Aana SDK's
other ways to an engine (``load_settings().db_config.get_engine()``,
``create_database_engine(settings)``, ``create_async_database_engine(settings)``) built one
on the configured database and committed into it. A nested run, with ``DB_CONFIG`` naming a
sentinel database, tries each of them with and without a test database and commits through
whatever it gets: the sentinel must come out as it went in.
"""

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_runs import run_plugin
from sqlalchemy import Engine, create_engine, inspect, text

USER_TESTS = """
import asyncio

import pytest
from sqlalchemy import text

from aana.configs.settings import load_settings
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.engine import create_database_engine

CREATE = "CREATE TABLE IF NOT EXISTS leaked (id INTEGER)"
INSERT = "INSERT INTO leaked VALUES (1)"


def commit(engine):
    with engine.begin() as connection:
        connection.execute(text(CREATE))
        connection.execute(text(INSERT))


async def commit_async(engine):
    async with engine.begin() as connection:
        await connection.execute(text(CREATE))
        await connection.execute(text(INSERT))


def configured():
    return load_settings().db_config


def try_to_commit(build, call):
    try:
        engine = build()
    except RuntimeError as refused:
        assert f"{call} on the database DB_CONFIG names refused" in str(refused)
        assert "db_session" in str(refused)
        return
    commit(engine)  # what the old code let through
    raise AssertionError(f"{call} was not refused")


def test_without_a_test_database_every_way_is_refused():
    try_to_commit(lambda: configured().get_engine(), "DbSettings.get_engine()")
    try_to_commit(lambda: create_database_engine(configured()), "create_database_engine()")
    try:
        engine = create_async_database_engine(configured())
    except RuntimeError as refused:
        assert "create_async_database_engine() on the database DB_CONFIG names refused" in str(
            refused
        )
    else:
        asyncio.run(commit_async(engine))
        raise AssertionError("create_async_database_engine() was not refused")


def test_with_db_session_every_way_is_the_tests_database(db_session, db_engine):
    engine = configured().get_engine()
    assert engine is db_engine
    commit(engine)
    built = create_database_engine(configured())
    assert built.url.database == db_engine.url.database
    commit(built)
    built.dispose()
    # The other half is refused, naming the fixture this test holds.
    with pytest.raises(RuntimeError, match="holds db_session"):
        create_async_database_engine(configured())


def test_with_transactional_db_engine_the_engine_is_the_tests(transactional_db_engine):
    assert configured().get_engine() is transactional_db_engine
    commit(configured().get_engine())


@pytest.mark.asyncio
async def test_with_async_db_session_the_async_engine_is_the_tests(
    async_db_session, async_db_engine
):
    engine = create_async_database_engine(configured())
    assert engine.url.database == async_db_engine.url.database
    await commit_async(engine)
    await engine.dispose()
    with pytest.raises(RuntimeError, match="holds async_db_session"):
        configured().get_engine()
"""


@pytest.fixture
def sentinel(db_engine: Engine, tmp_path: Path) -> Iterator[tuple[dict[str, object], object]]:
    """A database the plugin did not create, with one precious row: ``DB_CONFIG`` and a probe.

    The probe returns what the sentinel holds: its file's digest on SQLite, its tables and
    rows on PostgreSQL.
    """
    if db_engine.dialect.name == "sqlite":
        path = tmp_path / "dev.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE precious (value TEXT)")
            connection.exec_driver_sql("INSERT INTO precious VALUES ('keep me')")
        engine.dispose()
        yield (
            {"datastore_config": {"path": str(path)}},
            lambda: hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        return
    name = f"guard_sentinel_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(db_engine.url.set(database=name))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE precious (value TEXT)")
        connection.exec_driver_sql("INSERT INTO precious VALUES ('keep me')")

    def contents() -> object:
        with engine.connect() as connection:
            tables = sorted(inspect(connection).get_table_names())
            rows = list(connection.scalars(text("SELECT value FROM precious")))
        return tables, rows

    url = db_engine.url
    db_config = {
        "datastore_type": "postgresql",
        "datastore_config": {
            "host": url.host,
            "port": url.port or 5432,
            "user": url.username,
            "password": url.password or "",
            "database": name,
        },
    }
    try:
        yield db_config, contents
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.subprocesses
def test_no_engine_on_the_database_db_config_names(
    pytester: pytest.Pytester,
    pytestconfig: pytest.Config,
    monkeypatch: pytest.MonkeyPatch,
    sentinel: tuple[dict[str, object], object],
) -> None:
    db_config, contents = sentinel
    before = contents()  # type: ignore[operator]
    monkeypatch.setenv("DB_CONFIG", json.dumps(db_config))
    pytester.makepyfile(test_app=USER_TESTS)
    result = run_plugin(pytester, pytestconfig)
    result.assert_outcomes(passed=4)
    assert contents() == before  # type: ignore[operator]
