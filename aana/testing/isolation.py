"""Per-test isolation: a session joined to an outer transaction that is rolled back.

This is SQLAlchemy's "joining a session into an external transaction" recipe: the test's
session runs on one connection inside a transaction that the test never commits. With
``join_transaction_mode="create_savepoint"`` every ``commit()`` the code under test makes
releases a SAVEPOINT instead, so the code behaves as in production and nothing survives
the test.

The async ``async_db_session`` is the same recipe on an async connection. A test holds one
of the two: they would be two connections, each blind to the other's uncommitted rows.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from aana.storage.aio.repository.base import SHARED_CONNECTION_LOCK
from aana.storage.aio.session import override_async_session_factory
from aana.storage.session import override_session_factory
from aana.testing.access import refusing

_current: Session | AsyncSession | None = None

# One sessionmaker for all tests: every sessionmaker makes a Session subclass of its own, whose
# event dispatch SQLAlchemy builds on first use; one per test made every test pay for it again.
_joining_sessions = sessionmaker(join_transaction_mode="create_savepoint", expire_on_commit=False)
_joining_async_sessions = async_sessionmaker(
    join_transaction_mode="create_savepoint", expire_on_commit=False
)

# What the other half's functions say while a test holds one half's session.
_OTHER_HALF = {
    False: "this test holds db_session, which only the synchronous get_session() and "
    "get_engine() join: call those, or request async_db_session instead (a test holds one of "
    "the two)",
    True: "this test holds async_db_session, which only get_async_session() and "
    "get_async_engine() join: call those, or request db_session instead (a test holds one of "
    "the two)",
}

_BOTH = (
    "a test holds db_session or async_db_session, not both: they would be two connections, "
    "each blind to the other's uncommitted rows"
)


def current_session() -> Session:
    """Return the session of the running test; factories are bound to it.

    Returns:
        Session: The ``db_session`` of the running test, or the ``sync_session`` of its
        ``async_db_session``.

    Raises:
        RuntimeError: If no test holding ``db_session`` or ``async_db_session`` is running.
    """
    if isinstance(_current, AsyncSession):
        return _current.sync_session
    if _current is None:
        raise RuntimeError(
            "no test database session is active: request the db_session fixture "
            "(async_db_session in an async test) in the test, or in a fixture it uses, before "
            "using an aana.testing factory"
        )
    return _current


def current_async_session() -> AsyncSession | None:
    """Return the ``async_db_session`` of the running test, or None."""
    return _current if isinstance(_current, AsyncSession) else None


def has_current_session() -> bool:
    """Tell whether a test holding ``db_session`` or ``async_db_session`` is running."""
    return _current is not None


@contextmanager
def _held(
    session: Session | AsyncSession, override: AbstractContextManager[None]
) -> Iterator[None]:
    """Make ``session`` the running test's, with the application's sessions joining it."""
    global _current
    previous = _current
    if previous is not None and isinstance(previous, AsyncSession) != isinstance(
        session, AsyncSession
    ):
        raise RuntimeError(_BOTH)
    _current = session
    try:
        with refusing(_OTHER_HALF[isinstance(session, AsyncSession)]), override:
            yield
    finally:
        _current = previous


@contextmanager
def isolated_session(engine: Engine) -> Iterator[Session]:
    """Yield a session whose work is rolled back afterwards, however often it commits.

    While the block runs, :func:`aana.storage.session.get_session` returns sessions on the
    same transaction, so application code sees the test's data, and
    :func:`aana.storage.session.get_engine` returns ``engine``.

    Args:
        engine (Engine): The engine of the test database.

    Yields:
        Session: The test's session.

    Raises:
        RuntimeError: If the test holds ``async_db_session``.
    """
    connection = engine.connect()
    transaction = connection.begin()
    sessions = partial(_joining_sessions, bind=connection)
    session = sessions()
    try:
        with _held(session, override_session_factory(sessions, engine)):
            yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@contextmanager
def committing_sessions(engine: Engine) -> Iterator[None]:
    """Make :func:`aana.storage.session.get_session` return real sessions on ``engine``.

    :func:`aana.storage.session.get_engine` returns ``engine`` meanwhile.

    Args:
        engine (Engine): The engine of the test database.

    Yields:
        None
    """
    with override_session_factory(sessionmaker(engine, expire_on_commit=False), engine):
        yield


@asynccontextmanager
async def isolated_async_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """Yield an async session whose work is rolled back afterwards, however often it commits.

    While the block runs, :func:`aana.storage.aio.session.get_async_session` returns sessions
    on the same transaction and :func:`~aana.storage.aio.session.get_async_engine` returns
    ``engine``.

    Args:
        engine (AsyncEngine): The async engine of the test database.

    Yields:
        AsyncSession: The test's session.

    Raises:
        RuntimeError: If the test holds ``db_session``.
    """
    connection = await engine.connect()
    transaction = await connection.begin()
    # The application's sessions, run as concurrent tasks, take turns on the one connection.
    joined = partial(
        _joining_async_sessions, bind=connection, info={SHARED_CONNECTION_LOCK: asyncio.Lock()}
    )
    session = joined()
    override = override_async_session_factory(joined, engine)
    try:
        with _held(session, override):
            yield session
    finally:
        await session.close()
        await transaction.rollback()
        await connection.close()


@contextmanager
def committing_async_sessions(engine: AsyncEngine) -> Iterator[None]:
    """Make :func:`aana.storage.aio.session.get_async_session` return real sessions on ``engine``.

    :func:`aana.storage.aio.session.get_async_engine` returns ``engine`` meanwhile.

    Args:
        engine (AsyncEngine): The async engine of the test database.

    Yields:
        None
    """
    factory = async_sessionmaker(engine, expire_on_commit=False)
    with override_async_session_factory(factory, engine):
        yield
