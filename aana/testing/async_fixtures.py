"""The async database fixtures, for tests run by pytest-asyncio.

They are pytest-asyncio fixtures, so they work in its strict mode as in auto mode, and run in
the test's own event loop. The async engine is shared by the tests of a worker, as
``db_engine`` is: its pooled connections serve one event loop after another, which
aiosqlite and psycopg allow while the pool is not exhausted. A test that opens more
connections at once than the pool holds (5, plus 10 overflow) builds an engine of its own.
"""

import asyncio
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
