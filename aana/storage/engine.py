"""Building engines from :class:`~aana.configs.DbSettings`."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from aana.configs.db import DbSettings, DbType, EngineBuilder, PostgreSQLConfig, SQLiteConfig
from aana.storage.process_engine import engine_in_place_of
from aana.storage.sqlite_connection import ClosingConnection

SQLITE_BEGIN_OPTION = "aana_sqlite_begin"
"""Connection execution option naming the SQLite ``BEGIN`` mode: ``DEFERRED`` (the default),
``IMMEDIATE`` or ``EXCLUSIVE``. ``IMMEDIATE`` takes the write lock up front, so a transaction
that reads before it writes cannot fail later with ``database is locked``."""

_SQLITE_BEGIN_STATEMENTS = {
    "DEFERRED": "BEGIN DEFERRED",
    "IMMEDIATE": "BEGIN IMMEDIATE",
    "EXCLUSIVE": "BEGIN EXCLUSIVE",
}


def create_database_engine(db: DbSettings) -> Engine:
    """Create an engine for the configured database; no connection is opened yet.

    Args:
        db (DbSettings): The database settings.

    Returns:
        Engine: The engine. SQLite engines enforce foreign keys, use WAL and a busy
        timeout, and emit their own ``BEGIN`` so that transactions and savepoints behave
        as on PostgreSQL. PostgreSQL engines use psycopg 3 and ``pool_pre_ping``; behind a
        transaction pooler (``datastore_config.transaction_pooler``) psycopg prepares no
        statements.

        The in-memory SQLite database (``:memory:``) lives in one connection, so its
        engine holds exactly that one (a ``StaticPool``) and every session shares it.

    Raises:
        DatabaseConfigError: If the SQLite database's path is a directory, or its directory
            is missing or not writable.
        RuntimeError: Within ``aana.testing``'s refusal, on the database it guards.
    """
    db = settings_in_place_of(db, "")
    engine = create_engine(db.url(), **engine_arguments(db))
    if db.datastore_type is DbType.SQLITE:
        install_sqlite_transactions(engine)
    return engine


class _SettingsEngineBuilder:
    """Builds the engines of ``DbSettings.get_engine()``, as :data:`GET_ENGINE_BUILDER`."""

    def stand_in(self, settings: DbSettings, call: str) -> Engine | None:
        """Return ``aana.testing``'s engine in place of the settings' own, or None.

        See :meth:`aana.configs.db.EngineBuilder.stand_in`.
        """
        in_place: Engine | None = engine_in_place_of(settings, "", call)
        return in_place

    def build(self, settings: DbSettings) -> Engine:
        """Build the settings' own engine with :func:`create_database_engine`."""
        return create_database_engine(settings)


GET_ENGINE_BUILDER: EngineBuilder = _SettingsEngineBuilder()
"""What ``DbSettings.get_engine()`` builds its engine with: handed in by :mod:`aana`, which
imports this module when the first engine is built (see :mod:`aana.configs.db`)."""


def settings_in_place_of(db: DbSettings, kind: str) -> DbSettings:
    """Return the settings to build an engine from: ``db``, or the test's database in its place.

    Within a test run by ``aana.testing``, settings naming the database ``DB_CONFIG`` named
    when the run started are the test's database (the new engine is the caller's, to dispose
    of), or are refused in a test that holds no test database of this half.

    Args:
        db (DbSettings): The settings asked for.
        kind (str): ``""`` for a synchronous engine, ``"async_"`` for an async one.

    Returns:
        DbSettings: The settings to build from, with ``db``'s pool settings.

    Raises:
        RuntimeError: Within ``aana.testing``'s refusal, on the database it guards.
    """
    call = f"create_{kind}database_engine() on the database DB_CONFIG names"
    in_place = engine_in_place_of(db, kind, call)
    if in_place is None:
        return db
    pool = db.model_dump(include={"pool_size", "max_overflow", "pool_recycle", "connect_timeout"})
    return DbSettings.from_url(in_place.url, **pool)


def engine_arguments(db: DbSettings) -> dict[str, Any]:
    """Return the keyword arguments of ``create_engine`` for ``db``, checking an SQLite path.

    The synchronous and the asynchronous engine take the same ones.

    Args:
        db (DbSettings): The database settings.

    Returns:
        dict[str, Any]: Pool, connection and driver arguments.

    Raises:
        DatabaseConfigError: If the SQLite database's path is unusable.
    """
    pool: dict[str, Any] = {
        "pool_size": db.pool_size,
        "max_overflow": db.max_overflow,
        "pool_recycle": db.pool_recycle,
        # The most recently used connection first: a busy worker keeps reusing one warm
        # connection (psycopg prepares a statement after a few runs on the same connection),
        # and idle ones age out instead of being cycled through.
        "pool_use_lifo": True,
    }
    if db.datastore_type is DbType.SQLITE:
        assert isinstance(db.datastore_config, SQLiteConfig)
        db.datastore_config.check_writable()
        connect_args = {
            "timeout": db.datastore_config.busy_timeout,
            "check_same_thread": False,
            # Closing a connection, as SQLAlchemy does when a call is cancelled mid-statement,
            # must release its write lock at once.
            "factory": ClosingConnection,
        }
        if db.datastore_config.in_memory:
            return {"connect_args": connect_args, "poolclass": StaticPool}
        return {"connect_args": connect_args, **pool}
    assert isinstance(db.datastore_config, PostgreSQLConfig)
    driver_args: dict[str, Any] = {"connect_timeout": db.connect_timeout}
    if db.datastore_config.transaction_pooler:
        # A transaction pooler may run each transaction on another server connection, where
        # a statement psycopg prepared on the last one does not exist.
        driver_args["prepare_threshold"] = None
    return {"pool_pre_ping": True, "connect_args": driver_args, **pool}


def install_sqlite_transactions(engine: Engine) -> None:
    """Give an SQLite engine real transactions, enforced foreign keys and WAL.

    pysqlite starts transactions lazily and on its own terms, which breaks SAVEPOINT and
    makes reads run outside any transaction. This is SQLAlchemy's documented recipe: turn
    the driver's handling off and emit ``BEGIN`` ourselves, in the mode that
    :data:`SQLITE_BEGIN_OPTION` asks for.

    Args:
        engine (Engine): An engine on an SQLite database; its ``timeout`` connect argument
            is the busy timeout, the seconds a connection waits for a lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not _WAL_DEFERRED.get():
            _use_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        mode = str(options.get(SQLITE_BEGIN_OPTION, "DEFERRED")).upper()
        if mode not in _SQLITE_BEGIN_STATEMENTS:
            expected = ", ".join(_SQLITE_BEGIN_STATEMENTS)
            raise ValueError(f"{SQLITE_BEGIN_OPTION}={mode!r}: expected one of {expected}")
        connection.exec_driver_sql(_SQLITE_BEGIN_STATEMENTS[mode])


_WAL_DEFERRED: ContextVar[bool] = ContextVar("aana_sqlite_wal_deferred", default=False)


@contextmanager
def wal_deferred() -> Iterator[None]:
    """Open SQLite connections without switching their database to WAL, within the block.

    The switch is written into the database file, so a run that must leave a file exactly
    as it found it unless it succeeds (a migration, a read-only command) opens its
    connections here, and calls :func:`use_wal` once it has succeeded.

    Yields:
        None: Connections opened by this thread inside the block leave the journal mode as
        it is.
    """
    token = _WAL_DEFERRED.set(True)
    try:
        yield
    finally:
        _WAL_DEFERRED.reset(token)


def use_wal(dbapi_connection: Any) -> None:
    """Put an SQLite connection's database in WAL mode, as every aana connection does.

    Args:
        dbapi_connection (Any): The sqlite3 connection, outside any transaction.
    """
    cursor = dbapi_connection.cursor()
    try:
        _use_wal(cursor)
    finally:
        cursor.close()


_WAL_SWITCH_ATTEMPTS = 200
_WAL_SWITCH_PAUSE = 0.05


def _use_wal(cursor: Any) -> None:
    """Put the database in WAL mode, unless it already is.

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once, busy
    timeout or not, while another connection holds any lock on a database not yet in WAL
    mode: two processes opening a new database together (two ``aana migrate`` runs, say)
    would see one of them fail. A read first tells whether the switch is needed at all (the
    mode is kept in the file); the switch itself is retried for up to ten seconds.
    """
    cursor.execute("SELECT count(*) FROM sqlite_master")
    if _journal_mode(cursor) == "memory":
        return  # an in-memory database has no file to keep a WAL beside
    for attempt in range(_WAL_SWITCH_ATTEMPTS):
        if _journal_mode(cursor) == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(_WAL_SWITCH_PAUSE)


def _journal_mode(cursor: Any) -> str:
    # Two calls, as the DB-API has them: aiosqlite's adapted cursor returns no cursor from
    # execute().
    cursor.execute("PRAGMA journal_mode")
    return str(cursor.fetchone()[0])
