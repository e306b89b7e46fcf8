"""Building async engines from :class:`~aana.configs.DbSettings`."""

import importlib.util
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aana.configs.db import DbSettings, DbType, PostgreSQLConfig, SQLiteConfig
from aana.exceptions.db import DatabaseConfigError
from aana.storage.engine import (
    engine_arguments,
    install_sqlite_transactions,
    settings_in_place_of,
)

_ASYNC_SQLITE_DRIVER = "sqlite+aiosqlite"
_ASYNCPG_DRIVER = "postgresql+asyncpg"
_ASYNCPG_SOCKET_QUERY = ("host", "port")
"""Query entries of aana's URL that asyncpg reads too: a Unix socket directory and its port."""


def create_async_database_engine(db: DbSettings) -> AsyncEngine:
    """Create an async engine for the configured database; no connection is opened yet.

    It is configured as :func:`~aana.storage.engine.create_database_engine` configures the
    synchronous one, pool and all. SQLite goes through aiosqlite, with the same ``BEGIN``
    handling (``BEGIN IMMEDIATE`` for writes), foreign keys, WAL and busy timeout;
    PostgreSQL through psycopg 3's own async connection, or asyncpg when
    ``datastore_config.async_driver`` is ``"asyncpg"``.

    Args:
        db (DbSettings): The database settings.

    Returns:
        AsyncEngine: The engine.

    Raises:
        DatabaseConfigError: If the SQLite database's path is a directory, or its directory
            is missing or not writable, or is the in-memory database ``:memory:``; or if
            asyncpg is asked for but not installed, or given a libpq parameter it has no
            equivalent of.
        RuntimeError: Within ``aana.testing``'s refusal, on the database it guards.
    """
    db = settings_in_place_of(db, "async_")
    url = db.url()
    arguments = engine_arguments(db)
    if db.datastore_type is DbType.SQLITE:
        assert isinstance(db.datastore_config, SQLiteConfig)
        if db.datastore_config.in_memory:
            raise DatabaseConfigError(
                "datastore_config.path ':memory:': the in-memory database lives in the one "
                "connection of the synchronous engine, which the async engine cannot share; "
                "use a database file for async code"
            )
        url = url.set(drivername=_ASYNC_SQLITE_DRIVER)
    elif (
        isinstance(db.datastore_config, PostgreSQLConfig)
        and db.datastore_config.async_driver == "asyncpg"
    ):
        url, arguments["connect_args"] = _asyncpg(url, db)
    # psycopg's URL needs no change: create_async_engine picks its async dialect.
    engine = create_async_engine(url, **arguments)
    if db.datastore_type is DbType.SQLITE:
        install_sqlite_transactions(engine.sync_engine)
    return engine


def _asyncpg(url: URL, db: DbSettings) -> tuple[URL, dict[str, Any]]:
    """Return asyncpg's URL and connect arguments for aana's PostgreSQL URL.

    asyncpg takes no libpq parameters: ``sslmode`` becomes its ``ssl``, ``application_name``
    a server setting, and the connect timeout its ``timeout``; any other is refused.
    """
    if importlib.util.find_spec("asyncpg") is None:
        raise DatabaseConfigError(
            "datastore_config.async_driver is 'asyncpg', which is not installed: "
            "pip install 'aana-storage[asyncpg]'"
        )
    connect_args: dict[str, Any] = {"timeout": db.connect_timeout}
    server_settings: dict[str, str] = {}
    query: dict[str, str] = {}
    for name, value in url.query.items():
        assert isinstance(value, str)
        if name in _ASYNCPG_SOCKET_QUERY:
            query[name] = value
        elif name == "sslmode":
            connect_args["ssl"] = value
        elif name == "application_name":
            server_settings[name] = value
        else:
            raise DatabaseConfigError(
                f"datastore_config.parameters: {name!r} has no asyncpg equivalent (asyncpg "
                "takes sslmode and application_name); use async_driver 'psycopg'"
            )
    if server_settings:
        connect_args["server_settings"] = server_settings
    return url.set(drivername=_ASYNCPG_DRIVER, query=query), connect_args
