"""The async database fixtures, for tests run by pytest-asyncio.

They are pytest-asyncio fixtures, so they work in its strict mode as in auto mode, and run in
the test's own event loop. The async engine is shared by the tests of a worker, as
``db_engine`` is: its pooled connections serve one event loop after another, which
aiosqlite and psycopg allow while the pool is not exhausted. A test that opens more
connections at once than the pool holds (5, plus 10 overflow) builds an engine of its own.
"""

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from aana.storage.aio.engine import create_async_database_engine
from aana.testing.backends import db_settings_for
from aana.testing.isolation import committing_async_sessions, isolated_async_session


@pytest.fixture(scope="session")
def async_db_engine(db_engine: Engine) -> Iterator[AsyncEngine]:
    """An async engine on ``db_engine``'s database: this worker's, migrated to head."""
    engine = create_async_database_engine(db_settings_for(db_engine.url))
    yield engine
    _dispose(engine)


@pytest_asyncio.fixture
async def async_db_session(async_db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """An async session whose work, commits included, is rolled back after the test.

    ``aana.storage.aio.session.get_async_session()`` returns sessions on the same transaction
    while the test runs. The factories write through it with ``await Factory.acreate()``.
    """
    async with isolated_async_session(async_db_engine) as session:
        yield session


@pytest.fixture
def async_transactional_db_engine(transactional_db_engine: Engine) -> Iterator[AsyncEngine]:
    """An async engine on a fresh migrated database with real commits, dropped after the test.

    It is ``transactional_db_engine``'s database: ``get_async_session()`` and
    ``get_session()`` both return real sessions on it while the test runs.
    """
    engine = create_async_database_engine(db_settings_for(transactional_db_engine.url))
    try:
        with committing_async_sessions(engine):
            yield engine
    finally:
        _dispose(engine)


def _dispose(engine: AsyncEngine) -> None:
    """Close an async engine's connections from synchronous teardown code.

    The event loops that used them may be gone, and one may be running in this thread, so the
    closing runs in a loop of its own, on a thread of its own.
    """
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, engine.dispose()).result()


_ASYNC_FIXTURES = ("async_db_session", "async_transactional_db_engine")


def unrun_async_test(item: pytest.Item) -> str | None:
    """Say why pytest-asyncio would not run an async test that asks for a test database.

    In pytest-asyncio's default strict mode an ``async def`` test runs only when marked
    ``@pytest.mark.asyncio``; unmarked, pytest says only that async functions need a plugin,
    though the plugin is installed. anyio's tests (marked, or asking for ``anyio_backend``)
    are left to anyio.

    Args:
        item (pytest.Item): The test about to run.

    Returns:
        str | None: The error to report, or None when the test will run.
    """
    function = getattr(item, "obj", None)
    if not inspect.iscoroutinefunction(function):
        return None
    names = getattr(item, "fixturenames", ())
    wants = [name for name in _ASYNC_FIXTURES if name in names]
    if item.get_closest_marker("aana_db") is not None:
        wants.append("@pytest.mark.aana_db")
    marked = any(item.get_closest_marker(mark) for mark in ("asyncio", "anyio"))
    if not wants or marked or "anyio_backend" in names or _asyncio_mode(item.config) != "strict":
        return None
    return (
        f"{item.nodeid} is an async test with {wants[0]}, and pytest-asyncio, in its strict "
        "mode, runs only async tests marked @pytest.mark.asyncio: mark it, or set "
        "asyncio_mode = auto in the ini file"
    )


def _asyncio_mode(config: pytest.Config) -> str | None:
    """pytest-asyncio's mode, or None without pytest-asyncio."""
    try:
        mode = config.getoption("asyncio_mode", None) or config.getini("asyncio_mode")
    except ValueError:
        return None
    return str(mode)
