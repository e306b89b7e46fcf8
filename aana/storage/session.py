"""The process-wide engine and the sessions bound to it.

The engine is built from :class:`~aana.configs.Settings` on first use, once; importing this
module opens nothing. ``aana.testing`` swaps the session factory for the length of a test
so that application code calling :func:`get_session` joins the test's transaction.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aana.configs.settings import load_settings
from aana.storage.engine import create_database_engine

_lock = threading.Lock()
_engine: Engine | None = None
_default_factory: sessionmaker[Session] | None = None
_factory_override: Callable[[], Session] | None = None


def get_engine() -> Engine:
    """Return the engine for the current settings, creating it on first call.

    Returns:
        Engine: The process-wide engine.
    """
    global _engine, _default_factory
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = create_database_engine(load_settings().db_config)
                _default_factory = sessionmaker(engine, expire_on_commit=False)
                _engine = engine
    return _engine


def get_session() -> Session:
    """Return a new session on the configured database.

    The session is a context manager: ``with get_session() as session: ...`` closes it.
    Objects stay readable after ``commit()`` (``expire_on_commit=False``).

    Returns:
        Session: A new session.
    """
    if _factory_override is not None:
        return _factory_override()
    get_engine()
    assert _default_factory is not None
    return _default_factory()


def get_db() -> Iterator[Session]:
    """Yield a new session and close it afterwards, as Aana SDK 0.2.4's dependency did.

    For frameworks that take generator dependencies, such as FastAPI's ``Depends(get_db)``.

    Yields:
        Session: A new session from :func:`get_session`.
    """
    with get_session() as session:
        yield session


def dispose_engine() -> None:
    """Close the engine's pooled connections and forget it; the next call builds a new one.

    Call it after changing ``DB_CONFIG`` at run time, or in a child process after a fork.
    """
    global _engine, _default_factory
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _default_factory = None


@contextmanager
def override_session_factory(factory: Callable[[], Session]) -> Iterator[None]:
    """Make :func:`get_session` return sessions from ``factory`` within the block.

    Args:
        factory (Callable[[], Session]): Builds the sessions to hand out.

    Yields:
        None
    """
    global _factory_override
    previous = _factory_override
    _factory_override = factory
    try:
        yield
    finally:
        _factory_override = previous
