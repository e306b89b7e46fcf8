"""The process-wide engine of one half, sync or async, and where its sessions come from.

:mod:`aana.storage.session` and :mod:`aana.storage.aio.session` each keep one
:class:`ProcessEngine`: built from :class:`~aana.configs.Settings` on first use, once, with
the sessions it hands out; swapped for the length of a test by ``aana.testing``.

:data:`ACCESS_GATE` is the hook a test harness stands in the way with; production code leaves
it open. Its check sees every call that would reach the database ``DB_CONFIG`` names, on both
halves, and may refuse it; a half whose sessions are overridden passes. When the gate guards a
database, every other way to an engine on it goes through the same check:
``DbSettings.get_engine()``, ``create_database_engine()`` and
``create_async_database_engine()`` on settings naming it are refused, or handed the half's
overriding engine (see :func:`engine_in_place_of`). ``aana.testing`` sets the gate for the
length of a run (:class:`aana.testing.blocker.DbBlocker`).
"""

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import URL

from aana.configs.db import DbSettings, PostgreSQLConfig, SQLiteConfig
from aana.configs.settings import load_settings
from aana.storage.models.api_key import ApiServiceBase
from aana.storage.models.base import BaseEntity


class _HasUrl(Protocol):
    @property
    def url(self) -> URL: ...


E = TypeVar("E", bound=_HasUrl)
S = TypeVar("S")

AccessCheck = Callable[[str], None]
"""Called with the call about to reach a database (``get_session()``, ...); raises to refuse."""


@dataclass
class AccessGate:
    """Where a test harness stands between the code and the database; open in production.

    Attributes:
        check (AccessCheck | None): Called, with the call named (``get_session()``,
            ``get_async_engine()``, ...), before a half that no override serves reaches
            its database, or an engine is built on the guarded one; what it raises comes out
            of the call. None lets every call through.
        guarded (DbSettings | None): A database engines are not built on without the check:
            settings naming it (see :func:`same_database`) give the half's overriding
            engine, or go through the check.
    """

    check: AccessCheck | None = None
    guarded: DbSettings | None = None


ACCESS_GATE = AccessGate()
"""The process's gate: both halves, every way to an engine."""

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
        self._api_service_engine: E | None = None
        self._factory: Callable[[], S] | None = None
        self._factory_override: Callable[[], S] | None = None
        self._engine_override: E | None = None
        _halves[kind] = self

    def engine(self) -> E:
        """Return the engine for the current settings, building it on first call, once.

        Returns:
            E: The process-wide engine, or the test's while ``aana.testing`` overrides it.

        Raises:
            Exception: What :data:`ACCESS_GATE`'s check raises (``aana.testing``'s: a
                ``RuntimeError``), unless an override is active.
        """
        if self._engine_override is not None:
            return self._engine_override
        _check_access(f"get_{self._kind}engine()")
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    settings = load_settings()
                    engine = self._build(settings.db_config)
                    binds: dict[Any, E] | None = None
                    if settings.api_service.enabled:
                        # As in the Aana SDK: the API keys live in the API service's own
                        # database, which sessions reach through their ApiServiceBase bind.
                        self._api_service_engine = self._build(settings.api_service_db_config)
                        binds = {ApiServiceBase: self._api_service_engine, BaseEntity: engine}
                    self._factory = self._sessionmaker(engine, binds=binds, expire_on_commit=False)
                    self._engine = engine
        return self._engine

    def session(self) -> S:
        """Return a new session on the configured database.

        The session is a context manager (``with``, or ``async with`` for an async one) that
        closes it. Objects stay readable after ``commit()`` (``expire_on_commit=False``).

        Returns:
            S: A new session, from the test's factory while ``aana.testing`` overrides it.

        Raises:
            Exception: What :data:`ACCESS_GATE`'s check raises (``aana.testing``'s: a
                ``RuntimeError``), unless an override is active.
        """
        if self._factory_override is not None:
            return self._factory_override()
        _check_access(f"get_{self._kind}session()")
        self.engine()
        assert self._factory is not None
        return self._factory()

    def forget(self) -> list[E]:
        """Forget the engines, so that the next call builds new ones; return them to dispose of.

        Returns:
            list[E]: The app's engine, and the API service's when it was enabled; none when
            no engine was built.
        """
        with self._lock:
            engines = [self._engine, self._api_service_engine]
            self._engine = self._api_service_engine = None
            self._factory = None
        return [engine for engine in engines if engine is not None]

    def in_place_of(self, db: DbSettings, call: str) -> E | None:
        """Return the test's engine to use instead of one on ``db``, if ``db`` is guarded.

        Args:
            db (DbSettings): The settings an engine is about to be built from.
            call (str): The call, named in the error.

        Returns:
            E | None: The engine ``aana.testing`` overrides this half's with, when ``db``
            names the guarded database; None when an engine on ``db`` may be built.

        Raises:
            Exception: What :data:`ACCESS_GATE`'s check raises, when ``db`` names the guarded
                database and no override is active.
        """
        guarded = ACCESS_GATE.guarded
        if guarded is None or not same_database(db, guarded):
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
    check = ACCESS_GATE.check
    if check is not None:
        check(call)


def engine_in_place_of(db: DbSettings, kind: str, call: str) -> Any:
    """Return the test's engine to use instead of building one on ``db``, or None.

    When :data:`ACCESS_GATE` guards the database ``db`` names, the half's overriding engine
    (the test's) is returned, and without one the call goes through the gate's check as
    ``get_engine()`` does. Any other database, or an unguarded gate, gives None: build as
    asked.

    Args:
        db (DbSettings): The settings an engine is about to be built from.
        kind (str): ``""`` for the synchronous half, ``"async_"`` for the async one.
        call (str): The call, named in the error.

    Returns:
        Any: The half's test engine (an ``Engine`` or an ``AsyncEngine``), or None.

    Raises:
        Exception: What :data:`ACCESS_GATE`'s check raises, when ``db`` names the guarded
            database and no override is active.
    """
    half = _halves.get(kind)
    if half is not None:
        return half.in_place_of(db, call)
    guarded = ACCESS_GATE.guarded
    if guarded is not None and same_database(db, guarded):
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
