"""Building async engines from :class:`~aana.configs.DbSettings`."""

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aana.configs.db import DbSettings, DbType, SQLiteConfig
from aana.exceptions.db import DatabaseConfigError
from aana.storage.engine import (
    engine_arguments,
    install_sqlite_transactions,
    settings_in_place_of,
)

_ASYNC_SQLITE_DRIVER = "sqlite+aiosqlite"


def create_async_database_engine(db: DbSettings) -> AsyncEngine:
    """Create an async engine for the configured database; no connection is opened yet.

    It is configured as :func:`~aana.storage.engine.create_database_engine` configures the
    synchronous one, pool and all. SQLite goes through aiosqlite, with the same ``BEGIN``
    handling (``BEGIN IMMEDIATE`` for writes), foreign keys, WAL and busy timeout;
    PostgreSQL through psycopg 3's own async connection.

    Args:
        db (DbSettings): The database settings.

    Returns:
        AsyncEngine: The engine.

    Raises:
        DatabaseConfigError: If the SQLite database's path is a directory, or its directory
            is missing or not writable, or is the in-memory database ``:memory:``.
        RuntimeError: Within ``aana.testing``'s refusal, on the database it guards.
    """
    db = settings_in_place_of(db, "async_")
    url = db.url()
    if db.datastore_type is DbType.SQLITE:
        assert isinstance(db.datastore_config, SQLiteConfig)
        if db.datastore_config.in_memory:
            raise DatabaseConfigError(
                "datastore_config.path ':memory:': the in-memory database lives in the one "
                "connection of the synchronous engine, which the async engine cannot share; "
                "use a database file for async code"
            )
        url = url.set(drivername=_ASYNC_SQLITE_DRIVER)
    # psycopg's URL needs no change: create_async_engine picks its async dialect.
    engine = create_async_engine(url, **engine_arguments(db))
    if db.datastore_type is DbType.SQLITE:
        install_sqlite_transactions(engine.sync_engine)
    return engine
