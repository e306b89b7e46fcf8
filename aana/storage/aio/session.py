"""The process-wide async engine and the async sessions bound to it.

The async twin of :mod:`aana.storage.session`, built from the same settings on first use.
The names the async Aana SDK uses are here too (``get_session``, ``get_db``), so that an
app ported from it changes only its imports. ``aana.testing``
swaps the session factory for the length of a test that holds ``async_db_session``.
"""

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from aana.configs.settings import load_settings
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.session import check_access

__all__ = [
    "dispose_async_engine",
    "get_async_engine",
    "get_async_session",
    "get_db",
    "get_session",
    "override_async_session_factory",
]

_lock = threading.Lock()
_engine: AsyncEngine | None = None
_default_factory: async_sessionmaker[AsyncSession] | None = None
_factory_override: Callable[[], AsyncSession] | None = None
_engine_override: AsyncEngine | None = None


def get_async_engine() -> AsyncEngine:
    """Return the async engine for the current settings, creating it on first call.

    Returns:
        AsyncEngine: The process-wide async engine.

    Raises:
        RuntimeError: Within :func:`aana.storage.session.refuse_access`, unless an override
            is active.
    """
    global _engine, _default_factory
    if _engine_override is not None:
        return _engine_override
    check_access("get_async_engine()")
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = create_async_database_engine(load_settings().db_config)
                _default_factory = async_sessionmaker(engine, expire_on_commit=False)
                _engine = engine
    return _engine


def get_async_session() -> AsyncSession:
    """Return a new async session on the configured database.

    ``async with get_async_session() as session: ...`` closes it. Objects stay readable
    after ``commit()`` (``expire_on_commit=False``): an expired attribute could only be
    loaded by an ``await``.

    Returns:
        AsyncSession: A new session.

    Raises:
        RuntimeError: Within :func:`aana.storage.session.refuse_access`, unless an override
            is active.
    """
    if _factory_override is not None:
        return _factory_override()
    check_access("get_async_session()")
    get_async_engine()
    assert _default_factory is not None
    return _default_factory()


async def get_db() -> AsyncIterator[AsyncSession]:
    """Yield a new async session and close it afterwards.

    For frameworks that take async generator dependencies, such as FastAPI's
    ``Depends(get_db)``.

    Yields:
        AsyncSession: A new session from :func:`get_async_session`.
    """
    async with get_async_session() as session:
        yield session


get_session = get_async_session
"""The async Aana SDK's name of :func:`get_async_session`."""


async def dispose_async_engine() -> None:
    """Close the async engine's pooled connections and forget it.

    The next call builds a new one. Call it before the event loop that used it closes.
    """
    global _engine, _default_factory
    with _lock:
        engine, _engine, _default_factory = _engine, None, None
    if engine is not None:
        await engine.dispose()


@contextmanager
def override_async_session_factory(
    factory: Callable[[], AsyncSession], engine: AsyncEngine | None = None
) -> Iterator[None]:
    """Make :func:`get_async_session` return sessions from ``factory`` within the block.

    Args:
        factory (Callable[[], AsyncSession]): Builds the sessions to hand out.
        engine (AsyncEngine | None): What :func:`get_async_engine` returns within the block,
            if given.

    Yields:
        None
    """
    global _factory_override, _engine_override
    previous = _factory_override, _engine_override
    _factory_override, _engine_override = factory, engine
    try:
        yield
    finally:
        _factory_override, _engine_override = previous
