"""Cancelled async calls: whatever point a cancellation hits, nothing stays locked or open.

A timeout around a repository call cancels it mid-statement; SQLAlchemy then discards the
connection. On SQLite that connection used to stay open, write lock held, until the garbage
collector freed the interrupted statement's cursor: every other writer waited out its busy
timeout (see ``aana.storage.sqlite_connection``).
"""

import asyncio
import random
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from aana.storage import repository as sync_repository
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.aio.repository import CaptionRepository
from aana.testing.backends import db_settings_for

ROWS = 50
CALLS = 150
APPLICATION = "aana-cancellation-test"

SECOND_PROCESS_WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=1.0, isolation_level=None)
started = time.monotonic()
connection.execute("BEGIN IMMEDIATE")
connection.execute(
    "INSERT INTO caption (model, frame_id, caption, timestamp, caption_type, created_at,"
    " updated_at) VALUES ('other process', 0, 'c', 0, 'caption', CURRENT_TIMESTAMP,"
    " CURRENT_TIMESTAMP)"
)
connection.execute("COMMIT")
print(time.monotonic() - started)
"""


def varied_timeouts() -> list[float]:
    """Timeouts from 1 ms to 10 ms, shuffled: cancellations land at every point of a call."""
    timeouts = [0.001 + 0.009 * n / (CALLS - 1) for n in range(CALLS)]
    random.Random(20).shuffle(timeouts)
    return timeouts


def sqlite_write_lock_is_free(path: str) -> bool:
    """Take and release the write lock from another connection, waiting at most one second.

    The second is for a cancelled call's connection, closing in aiosqlite's thread.
    """
    other = sqlite3.connect(path, timeout=1.0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def postgres_backends(engine: Engine) -> list[str]:
    """The states of the test engine's backends on the test database."""
    with engine.connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT state FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :name"
                ),
                {"name": APPLICATION},
            )
        )


async def test_cancelled_calls_leave_no_lock_no_transaction_and_no_connection(
    transactional_db_engine: Engine,
) -> None:
    sync_engine = transactional_db_engine
    on_sqlite = sync_engine.dialect.name == "sqlite"
    settings = db_settings_for(sync_engine.url)
    if not on_sqlite:
        config = settings.datastore_config.model_copy(
            update={"parameters": {"application_name": APPLICATION}}
        )
        settings = settings.model_copy(update={"datastore_config": config})
    engine: AsyncEngine = create_async_database_engine(settings)
    database = str(sync_engine.url.database)
    cancelled = 0
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            captions = CaptionRepository(session)
            for call, timeout in enumerate(varied_timeouts()):
                try:
                    async with asyncio.timeout(timeout):
                        await captions.save_all("m", ["c"] * ROWS, [0.5] * ROWS, list(range(ROWS)))
                except TimeoutError:
                    cancelled += 1
                assert not session.in_transaction(), f"call {call}"
                if on_sqlite:
                    assert sqlite_write_lock_is_free(database), f"locked after call {call}"
                else:
                    assert "idle in transaction" not in postgres_backends(sync_engine)
            # The same session goes on working.
            saved = await captions.save_all("m", ["after"], [1.0], [0])
            assert await captions.read(saved[0].id) is not None
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        if on_sqlite:
            # Another process writes at once: SQLite's locks are per process, too.
            done = subprocess.run(
                [sys.executable, "-c", SECOND_PROCESS_WRITER, database],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
        else:
            states = postgres_backends(sync_engine)
            assert all(state == "idle" for state in states), states
    finally:
        await engine.dispose()
    if not on_sqlite:
        deadline = time.monotonic() + 10
        while postgres_backends(sync_engine) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # a closed connection's backend exits on its own time
        assert postgres_backends(sync_engine) == []
    # Enough calls were cut short to have hit every stage of one; the rest completed.
    assert cancelled >= CALLS // 5


async def test_a_connection_discarded_mid_statement_releases_the_sqlite_lock(
    transactional_db_engine: Engine,
) -> None:
    # The synchronous repository run by the app's own run_sync, not by the async repository:
    # a cancellation then reaches SQLAlchemy mid-statement, which discards the connection, and
    # closing it must end its transaction.
    if transactional_db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite's closing of a connection with statements left")
    database = str(transactional_db_engine.url.database)
    engine = create_async_database_engine(db_settings_for(transactional_db_engine.url))

    def save_all(session: Session) -> None:
        sync_repository.CaptionRepository(session).save_all(
            "m", ["c"] * ROWS, [0.5] * ROWS, list(range(ROWS))
        )

    try:
        async with AsyncSession(engine) as session:
            for call, timeout in enumerate(varied_timeouts()):
                try:
                    async with asyncio.timeout(timeout):
                        await session.run_sync(save_all)
                except TimeoutError:
                    pass
                assert sqlite_write_lock_is_free(database), f"locked after call {call}"
    finally:
        await engine.dispose()
