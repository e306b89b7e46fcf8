"""Database settings: which datastore to use and how to connect to it."""

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import URL, make_url

from aana.exceptions.db import DatabaseConfigError


class DbType(StrEnum):
    """The supported datastores."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class SQLiteConfig(BaseModel):
    """Configuration of an SQLite datastore.

    Attributes:
        path (Path): Path of the database file. Its directory must exist and be writable.
        busy_timeout (float): Seconds a connection waits for another one's write lock before
            failing with "database is locked". SQLite does not queue waiters fairly: under
            steady write load one connection can wait several seconds, hence the generous
            default.
    """

    path: Path = Path("/var/lib/aana_data")
    busy_timeout: float = Field(default=60.0, gt=0)

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    def url(self) -> URL:
        """Return the SQLAlchemy URL of the database file."""
        return URL.create("sqlite+pysqlite", database=str(self.path))

    def check_writable(self) -> None:
        """Check that the database file can be created or opened for writing.

        Raises:
            DatabaseConfigError: If the directory of ``path`` does not exist or is not
                writable, naming the path.
        """
        directory = self.path.expanduser().resolve().parent
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


class PostgreSQLConfig(BaseModel):
    """Configuration of a PostgreSQL datastore.

    Attributes:
        host (str): Host name or address of the server.
        port (int): TCP port of the server.
        user (str): User to connect as.
        password (SecretStr): Password of the user; never shown in reprs, logs or errors.
        database (str): Name of the database.
    """

    host: str
    port: int = Field(default=5432, ge=1, le=65535)
    user: str = "postgres"
    password: SecretStr = SecretStr("")
    database: str = "aana"

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    def url(self) -> URL:
        """Return the SQLAlchemy URL; its string form hides the password."""
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password.get_secret_value() or None,
            host=self.host,
            port=self.port,
            database=self.database,
        )


_CONFIG_TYPES: dict[DbType, type[BaseModel]] = {
    DbType.SQLITE: SQLiteConfig,
    DbType.POSTGRESQL: PostgreSQLConfig,
}


class DbSettings(BaseModel):
    """Database settings.

    ``DbSettings`` is a plain model, not a settings source of its own: it is filled only from
    the ``DB_CONFIG`` JSON read by :class:`aana.configs.Settings`, so bare environment variables
    such as ``POOL_SIZE`` never leak into it.

    Attributes:
        datastore_type (DbType): ``sqlite`` or ``postgresql``.
        datastore_config (SQLiteConfig | PostgreSQLConfig): Connection settings for that type.
        pool_size (int): Connections kept open in the pool.
        max_overflow (int): Connections allowed beyond ``pool_size`` under load.
        pool_recycle (int): Seconds after which a pooled connection is replaced.
        connect_timeout (int): Seconds to wait for a PostgreSQL connection before failing.
    """

    datastore_type: DbType = DbType.SQLITE
    datastore_config: SQLiteConfig | PostgreSQLConfig = Field(default_factory=SQLiteConfig)
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_recycle: int = Field(default=3600, ge=-1)
    connect_timeout: int = Field(default=10, ge=1)

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    @field_validator("datastore_config", mode="before")
    @classmethod
    def _config_matches_type(cls, config: Any, info: ValidationInfo) -> Any:
        """Validate ``datastore_config`` with the model of ``datastore_type``.

        A union would report the errors of every member; choosing the model first makes a
        missing ``host`` read as ``datastore_config.host: Field required``.
        """
        db_type = info.data.get("datastore_type")
        if isinstance(config, dict) and db_type is not None:
            return _CONFIG_TYPES[db_type].model_validate(config)
        return config

    @model_validator(mode="after")
    def _type_and_config_agree(self) -> "DbSettings":
        expected = _CONFIG_TYPES[self.datastore_type]
        if not isinstance(self.datastore_config, expected):
            raise ValueError(
                f"datastore_config is a {type(self.datastore_config).__name__} but "
                f"datastore_type {self.datastore_type.value!r} needs a {expected.__name__}"
            )
        return self

    def url(self) -> URL:
        """Return the SQLAlchemy URL of the configured database."""
        return self.datastore_config.url()

    @classmethod
    def from_url(cls, url: str | URL, **options: Any) -> "DbSettings":
        """Return the settings that name the database at a SQLAlchemy URL.

        Args:
            url (str | URL): An ``sqlite:///path`` or ``postgresql://...`` URL.
            **options (Any): Other settings, such as ``pool_size`` or ``connect_timeout``.

        Returns:
            DbSettings: The settings.

        Raises:
            DatabaseConfigError: If the URL is neither an SQLite file nor PostgreSQL.
        """
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite" and parsed.database:
            config: SQLiteConfig | PostgreSQLConfig = SQLiteConfig(path=Path(parsed.database))
            return cls(datastore_type=DbType.SQLITE, datastore_config=config, **options)
        if backend == "postgresql":
            config = PostgreSQLConfig(
                host=parsed.host or "localhost",
                port=parsed.port or 5432,
                user=parsed.username or "postgres",
                password=parsed.password or "",
                database=parsed.database or "postgres",
            )
            return cls(datastore_type=DbType.POSTGRESQL, datastore_config=config, **options)
        raise DatabaseConfigError(f"{parsed!r} is neither an SQLite file nor a PostgreSQL URL")
