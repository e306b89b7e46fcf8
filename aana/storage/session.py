"""The process-wide engine and the sessions bound to it.

The engine is built from :class:`~aana.configs.Settings` on first use, once; importing this
module opens nothing. ``aana.testing`` swaps the session factory for the length of a test
so that application code calling :func:`get_session` joins the test's transaction, and
refuses access to the configured database in tests that hold no test database.
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
_engine_override: Engine | None = None
_refusal: str | None = None


def get_engine() -> Engine:
    """Return the engine for the current settings, creating it on first call.

    Returns:
        Engine: The process-wide engine.

    Raises:
        RuntimeError: Within :func:`refuse_access`, unless an override is active.
    """
    global _engine, _default_factory
    if _engine_override is not None:
        return _engine_override
    check_access("get_engine()")
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

    Raises:
        RuntimeError: Within :func:`refuse_access`, unless an override is active.
    """
    if _factory_override is not None:
        return _factory_override()
    check_access("get_session()")
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


def check_access(caller: str) -> None:
    """Raise when access to the configured database is refused (see :func:`refuse_access`).

    Args:
        caller (str): The function asking, named in the error.

    Raises:
        RuntimeError: Within :func:`refuse_access`.
    """
    if _refusal is not None:
        raise RuntimeError(f"{caller} refused: {_refusal}")


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
def override_session_factory(
    factory: Callable[[], Session], engine: Engine | None = None
) -> Iterator[None]:
    """Make :func:`get_session` return sessions from ``factory`` within the block.

    Args:
        factory (Callable[[], Session]): Builds the sessions to hand out.
        engine (Engine | None): What :func:`get_engine` returns within the block, if given.

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


@contextmanager
def refuse_access(reason: str) -> Iterator[None]:
    """Make :func:`get_session` and :func:`get_engine` raise within the block.

    An override (:func:`override_session_factory`) active at call time lifts the refusal.

    Args:
        reason (str): Says why, and what to do instead; ends the error message.

    Yields:
        None
    """
    global _refusal
    previous, _refusal = _refusal, reason
    try:
        yield
    finally:
        _refusal = previous
