"""The process-wide async engine and the async sessions bound to it.

The async twin of :mod:`aana.storage.session`, built from the same settings on first use.
The names the async Aana SDK uses are here too (``get_session``, ``get_db``), so that an
app ported from it changes only its imports. ``aana.testing``
swaps the session factory for the length of a test that holds ``async_db_session``.
"""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from aana.storage.aio.engine import create_async_database_engine
from aana.storage.process_engine import ProcessEngine
from aana.storage.session import fastapi_dependency

__all__ = [
    "dispose_async_engine",
    "get_async_engine",
    "get_async_session",
    "get_db",
    "get_session",
    "override_async_session_factory",
]

_process = ProcessEngine[AsyncEngine, AsyncSession](
    create_async_database_engine, async_sessionmaker, kind="async_"
)

get_async_engine = _process.engine
get_async_session = _process.session
override_async_session_factory = _process.override
"""Make :func:`get_async_session` return sessions from a factory, and
:func:`get_async_engine` an engine, within the block."""


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
    """Close the async engines' pooled connections and forget them.

    The next call builds new ones. Call it before the event loop that used them closes.
    """
    for engine in _process.forget():
        await engine.dispose()


def __getattr__(name: str) -> Any:
    """Build ``GetDbDependency``, ``Annotated[AsyncSession, Depends(get_db)]``, on first use.

    It is FastAPI's dependency type, as the Aana SDK named it (see
    :func:`aana.storage.session.fastapi_dependency`).
    """
    if name == "GetDbDependency":
        return fastapi_dependency(AsyncSession, get_db)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
