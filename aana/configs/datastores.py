"""The datastores: which one to use, and how to connect to each.

:class:`~aana.configs.DbSettings` holds one of these as its ``datastore_config``.
"""

import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, SecretStr, field_serializer, field_validator
from sqlalchemy.engine import URL

from aana.configs.by_key import ReadByKey
from aana.configs.urls import SECRET_PARAMETERS, SQLITE_MEMORY, MaskedURL, check_parameters
from aana.exceptions.db import DatabaseConfigError


class DbType(StrEnum):
    """The supported datastores."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class SQLiteConfig(ReadByKey):
    """Configuration of an SQLite datastore.

    Attributes:
        path (Path): Path of the database file, with ``~`` expanded. Its directory must exist
            and be writable. ``:memory:`` is an in-memory database held by one connection
            that every session shares, gone when the engine is disposed of.
        busy_timeout (float): Seconds a connection waits for another one's write lock before
            failing with "database is locked". SQLite does not queue waiters fairly: under
            steady write load one connection can wait several seconds, hence the generous
            default.
    """

    path: Path = Path("/var/lib/aana_data")
    busy_timeout: float = Field(default=60.0, gt=0)

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    @field_validator("path", mode="before")
    @classmethod
    def _path_not_empty(cls, path: Any) -> Any:
        # Path("") is Path("."), the current directory: refuse it before it becomes one.
        if isinstance(path, str) and not path.strip():
            raise ValueError("the SQLite database path is empty")
        return path

    @field_validator("path")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()

    @property
    def in_memory(self) -> bool:
        """Whether this is the in-memory database ``:memory:``."""
        return str(self.path) == SQLITE_MEMORY

    def url(self) -> URL:
        """Return the SQLAlchemy URL of the database file, ``sqlite:///<path>`` as Aana's.

        ``sqlite`` without a driver name is SQLAlchemy's pysqlite (the standard ``sqlite3``).
        """
        return URL.create("sqlite", database=str(self.path))

    def check_writable(self) -> None:
        """Check that the database file can be created or opened for writing.

        Raises:
            DatabaseConfigError: If ``path`` is a directory, or its directory does not exist
                or is not writable, naming the path.
        """
        if self.in_memory:
            return
        if self.path.is_dir():
            raise DatabaseConfigError(
                f"datastore_config.path: {str(self.path)!r} is a directory, not an SQLite "
                "database file"
            )
        directory = self.path.resolve().parent
        if not directory.is_dir():
            raise DatabaseConfigError(
                f"datastore_config.path: directory {str(directory)!r} of the SQLite database "
                f"{str(self.path)!r} does not exist"
            )
        target = self.path if self.path.exists() else directory
        if not os.access(target, os.W_OK):
            raise DatabaseConfigError(
                f"datastore_config.path: {str(target)!r} is not writable, so the SQLite "
                f"database {str(self.path)!r} cannot be written"
            )


class PostgreSQLConfig(ReadByKey):
    """Configuration of a PostgreSQL datastore.

    Attributes:
        host (str): Host name or address of the server, or the directory of its Unix socket.
        port (int): TCP port of the server.
        user (str): User to connect as.
        password (SecretStr): Password of the user; never shown in reprs, logs or errors.
        database (str): Name of the database.
        parameters (dict[str, str]): Other libpq connection parameters, passed to the
            driver as given: ``{"sslmode": "verify-full", "sslrootcert": "/etc/ca.pem"}``.
        async_driver (str): The driver of the async engine: ``psycopg`` (psycopg 3's async
            connection) or ``asyncpg`` (the ``aana-storage[asyncpg]`` extra). The synchronous
            engine always uses psycopg.
        transaction_pooler (bool): Connections go through a pooler in transaction mode
            (PgBouncer's ``pool_mode = transaction``), which may hand each transaction another
            server connection. psycopg then prepares no statement: a statement prepared on
            one server connection does not exist on the next. Nothing else changes; aana
            keeps no other state in a server session. Off by default: behind no pooler, or
            one in session mode, prepared statements save the server the planning of the
            statements a worker repeats.
    """

    host: str
    port: int = Field(default=5432, ge=1, le=65535)
    user: str = "postgres"
    password: SecretStr = SecretStr("")
    database: str = "aana"
    parameters: dict[str, str] = Field(default_factory=dict)
    async_driver: Literal["psycopg", "asyncpg"] = "psycopg"
    transaction_pooler: bool = False

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    @field_serializer("parameters")
    def _mask_secret_parameters(self, parameters: dict[str, str]) -> dict[str, str | SecretStr]:
        """Dump secret parameters as the password is dumped: as ``SecretStr``, masked in JSON."""
        return {
            name: SecretStr(value) if name in SECRET_PARAMETERS else value
            for name, value in parameters.items()
        }

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The fields shown by ``repr()``, with secret parameters masked."""
        for name, value in super().__repr_args__():
            if name == "parameters":
                value = self._mask_secret_parameters(value)
            yield name, value

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, parameters: dict[str, str]) -> dict[str, str]:
        """Refuse a parameter libpq does not know, or one that a setting of its own holds."""
        check_parameters(parameters)
        return parameters

    def url(self) -> URL:
        """Return the SQLAlchemy URL; its string form hides the password."""
        host: str | None = self.host
        port: int | None = self.port
        query = dict(self.parameters)
        if self.host.startswith("/"):
            # A socket directory cannot be the URL's host: it goes where libpq reads it too.
            query.update(host=self.host, port=str(self.port))
            host = port = None
        return MaskedURL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password.get_secret_value() or None,
            host=host,
            port=port,
            database=self.database,
            query=query,
        )
