"""The process-wide engine of one half, sync or async, and where its sessions come from.

:mod:`aana.storage.session` and :mod:`aana.storage.aio.session` each keep one
:class:`ProcessEngine`: built from :class:`~aana.configs.Settings` on first use, once, with
the sessions it hands out; swapped for the length of a test by ``aana.testing``; and refused,
both halves at once, while :func:`refuse_access` is in force.

While :func:`refuse_access` guards a database (the one ``DB_CONFIG`` names when a test run
starts), every other way to an engine on it goes through the same gate:
``DbSettings.get_engine()``, ``create_database_engine()`` and
``create_async_database_engine()`` on settings naming it are refused, or, in a test that
holds a test database, handed the test's (see :func:`engine_in_place_of`).
"""

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import URL

from aana.configs.db import DbSettings, PostgreSQLConfig, SQLiteConfig
from aana.configs.settings import load_settings


class _HasUrl(Protocol):
    @property
    def url(self) -> URL: ...


E = TypeVar("E", bound=_HasUrl)
S = TypeVar("S")

_refusal: str | None = None
_guarded: DbSettings | None = None
_halves: dict[str, "ProcessEngine[Any, Any]"] = {}


class ProcessEngine(Generic[E, S]):
    """An engine built on first use from the settings, and the factory of its sessions."""

    def __init__(
        self,
        build: Callable[[DbSettings], E],
        sessionmaker: Callable[..., Callable[[], S]],
        kind: str = "",
    ) -> None:
        """Register the half ``kind``; its engine waits for the first call of :meth:`engine`.

        Args:
            build (Callable[[DbSettings], E]): Builds the engine from the settings.
            sessionmaker (Callable[..., Callable[[], S]]): ``sessionmaker`` or
                ``async_sessionmaker``: the factory of the engine's sessions, which do not
                expire objects on commit.
            kind (str): ``""`` or ``"async_"``: names the half's functions in errors
                (``get_{kind}engine()``, ``get_{kind}session()``).
        """
        self._build = build
        self._sessionmaker = sessionmaker
        self._kind = kind
        self._lock = threading.Lock()
        self._engine: E | None = None
        self._factory: Callable[[], S] | None = None
        self._factory_override: Callable[[], S] | None = None
        self._engine_override: E | None = None
        _halves[kind] = self

    def engine(self) -> E:
        """Return the engine for the current settings, building it on first call, once.

        Returns:
            E: The process-wide engine, or the test's while ``aana.testing`` overrides it.

        Raises:
            RuntimeError: Within :func:`refuse_access`, unless an override is active.
        """
        if self._engine_override is not None:
            return self._engine_override
        _check_access(f"get_{self._kind}engine()")
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = self._build(load_settings().db_config)
                    self._factory = self._sessionmaker(engine, expire_on_commit=False)
                    self._engine = engine
        return self._engine

    def session(self) -> S:
        """Return a new session on the configured database.

        The session is a context manager (``with``, or ``async with`` for an async one) that
        closes it. Objects stay readable after ``commit()`` (``expire_on_commit=False``).

        Returns:
            S: A new session, from the test's factory while ``aana.testing`` overrides it.

        Raises:
            RuntimeError: Within :func:`refuse_access`, unless an override is active.
        """
        if self._factory_override is not None:
            return self._factory_override()
        _check_access(f"get_{self._kind}session()")
        self.engine()
        assert self._factory is not None
        return self._factory()

    def forget(self) -> E | None:
        """Forget the engine, so that the next call builds a new one; return it to dispose of."""
        with self._lock:
            engine, self._engine, self._factory = self._engine, None, None
        return engine

    def in_place_of(self, db: DbSettings, call: str) -> E | None:
        """Return the test's engine to use instead of one on ``db``, if ``db`` is guarded.

        Args:
            db (DbSettings): The settings an engine is about to be built from.
            call (str): The call, named in the error.

        Returns:
            E | None: The engine ``aana.testing`` overrides this half's with, when ``db``
            names the guarded database; None when an engine on ``db`` may be built.

        Raises:
            RuntimeError: When ``db`` names the guarded database and no test database is held.
        """
        if _guarded is None or not same_database(db, _guarded):
            return None
        if self._engine_override is not None:
            return self._engine_override
        _check_access(call)
        return None

    @contextmanager
    def override(self, factory: Callable[[], S], engine: E | None = None) -> Iterator[None]:
        """Hand out sessions from ``factory``, and return ``engine`` if given, within the block.

        Args:
            factory (Callable[[], S]): Builds the sessions to hand out.
            engine (E | None): The engine to return within the block, if given.

        Yields:
            None
        """
        previous = self._factory_override, self._engine_override
        self._factory_override, self._engine_override = factory, engine
        try:
            yield
        finally:
            self._factory_override, self._engine_override = previous


def _check_access(call: str) -> None:
    if _refusal is not None:
        raise RuntimeError(f"{call} refused: {_refusal}")


@contextmanager
def refuse_access(reason: str, guarded: DbSettings | None = None) -> Iterator[None]:
    """Make every half's session and engine functions raise within the block.

    An override (``override_session_factory`` and its async twin) active at call time lifts
    the refusal for its half.

    Args:
        reason (str): Says why, and what to do instead; ends the error message.
        guarded (DbSettings | None): A database no engine may be built on within the block,
            however it is asked for (see :func:`engine_in_place_of`); the one guarded by an
            enclosing block is kept when None.

    Yields:
        None
    """
    global _refusal, _guarded
    previous = _refusal, _guarded
    _refusal = reason
    _guarded = guarded if guarded is not None else _guarded
    try:
        yield
    finally:
        _refusal, _guarded = previous


def engine_in_place_of(db: DbSettings, kind: str, call: str) -> Any:
    """Return the test's engine to use instead of building one on ``db``, or None.

    Within :func:`refuse_access` guarding the database ``db`` names, the half's override
    (the test's engine) is returned, and without one the call is refused as ``get_engine()``
    is. Any other database, or outside :func:`refuse_access`, gives None: build as asked.

    Args:
        db (DbSettings): The settings an engine is about to be built from.
        kind (str): ``""`` for the synchronous half, ``"async_"`` for the async one.
        call (str): The call, named in the error.

    Returns:
        Any: The half's test engine (an ``Engine`` or an ``AsyncEngine``), or None.

    Raises:
        RuntimeError: When ``db`` names the guarded database and no test database is held.
    """
    half = _halves.get(kind)
    if half is not None:
        return half.in_place_of(db, call)
    if _guarded is not None and same_database(db, _guarded):
        _check_access(call)
    return None


def same_database(a: DbSettings, b: DbSettings) -> bool:
    """Tell whether two settings name one database: one SQLite file, or one server's database.

    Args:
        a (DbSettings): Settings.
        b (DbSettings): Other settings.

    Returns:
        bool: True for the same SQLite file (symbolic links resolved) or the same PostgreSQL
        host, port and database; an in-memory SQLite database is never shared.
    """
    first, second = a.datastore_config, b.datastore_config
    if isinstance(first, SQLiteConfig) and isinstance(second, SQLiteConfig):
        if first.in_memory or second.in_memory:
            return False
        return os.path.realpath(first.path) == os.path.realpath(second.path)
    if isinstance(first, PostgreSQLConfig) and isinstance(second, PostgreSQLConfig):
        return (first.host, first.port, first.database) == (
            second.host,
            second.port,
            second.database,
        )
    return False
