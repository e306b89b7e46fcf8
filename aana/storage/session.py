"""The process-wide engine and the sessions bound to it.

The engine is built from :class:`~aana.configs.Settings` on first use, once; importing this
module opens nothing. ``aana.testing`` swaps the session factory for the length of a test
so that application code calling :func:`get_session` joins the test's transaction, and
refuses access to the configured database in tests that hold no test database (through
:data:`aana.storage.process_engine.ACCESS_GATE`).
"""

from collections.abc import Iterator
from typing import Annotated, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aana.storage.engine import create_database_engine
from aana.storage.process_engine import ProcessEngine

__all__ = [
    "dispose_engine",
    "get_db",
    "get_engine",
    "get_session",
    "override_session_factory",
]

_process = ProcessEngine[Engine, Session](create_database_engine, sessionmaker)

get_engine = _process.engine
get_session = _process.session
override_session_factory = _process.override
"""Make :func:`get_session` return sessions from a factory, and :func:`get_engine` an engine,
within the block: ``with override_session_factory(factory, engine): ...``."""


def get_db() -> Iterator[Session]:
    """Yield a new session and close it afterwards, as Aana SDK 0.2.4's dependency did.

    For frameworks that take generator dependencies, such as FastAPI's ``Depends(get_db)``.

    Yields:
        Session: A new session from :func:`get_session`.
    """
    with get_session() as session:
        yield session


def dispose_engine() -> None:
    """Close the engines' pooled connections and forget them; the next call builds new ones.

    The app's engine, and the API service's when ``settings.api_service.enabled``. Call it
    after changing ``DB_CONFIG`` at run time, or in a child process after a fork.
    """
    for engine in _process.forget():
        engine.dispose()


def fastapi_dependency(session_type: Any, provider: Any) -> Any:
    """Return ``Annotated[session_type, Depends(provider)]``, FastAPI imported only now.

    Args:
        session_type (Any): ``Session`` or ``AsyncSession``.
        provider (Any): The generator FastAPI calls for a session (``get_db``).

    Returns:
        Any: The dependency type.

    Raises:
        ImportError: If FastAPI is not installed; the library does not depend on it.
    """
    try:
        from fastapi import Depends
    except ModuleNotFoundError:
        raise ImportError(
            "GetDbDependency is a FastAPI dependency: install fastapi to use it"
        ) from None
    return Annotated[session_type, Depends(provider)]


def __getattr__(name: str) -> Any:
    """Build ``GetDbDependency``, ``Annotated[Session, Depends(get_db)]``, on first use.

    It is FastAPI's dependency type, as the Aana SDK named it (see :func:`fastapi_dependency`).
    """
    if name == "GetDbDependency":
        return fastapi_dependency(Session, get_db)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
