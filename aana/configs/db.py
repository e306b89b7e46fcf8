"""Database settings: which datastore to use and how to connect to it."""

import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote_plus

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from sqlalchemy.engine import URL, make_url

from aana.exceptions.db import DatabaseConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

SQLITE_MEMORY = ":memory:"
"""The path of an in-memory SQLite database: one connection, shared by every session."""


class _ReadByKey(BaseModel):
    """Lets a config be read by key, as the typed dicts of Aana SDK 0.2.4 were.

    ``config["path"]`` is ``config.path``; an unknown key raises ``KeyError`` naming it.
    """

    def __getitem__(self, key: str) -> Any:
        """Return the field named ``key``."""
        if key not in type(self).model_fields:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` names a field."""
        return key in type(self).model_fields

    def get(self, key: str, default: Any = None) -> Any:
        """Return the field named ``key``, or ``default`` if there is none."""
        return getattr(self, key) if key in self else default


class DbType(StrEnum):
    """The supported datastores."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class SQLiteConfig(_ReadByKey):
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


SECRET_PARAMETERS = frozenset(
    {"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}
)
"""The libpq connection parameters that are secrets, masked wherever settings are shown.

``password``, ``sslpassword`` (the passphrase of the client key ``sslkey``) and
``oauth_client_secret`` are the ones libpq itself marks as secret (``dispchar`` ``*``);
``scram_client_key`` and ``scram_server_key`` log in as the password does. Paths to files that
hold secrets (``passfile``, ``sslkey``) are not secrets themselves, and are shown.
"""

_MASK = "***"
"""What a secret is shown as: SQLAlchemy's mask of a URL's password."""


class MaskedURL(URL):
    """A SQLAlchemy URL whose string form masks every secret of :data:`SECRET_PARAMETERS`.

    ``str()`` and ``repr()`` (and so ``repr(engine)``, an engine's logs and aana's messages)
    show the password and secret query parameters as ``***``;
    ``render_as_string(hide_password=False)`` shows them. Changed copies (``url.set(...)``)
    are masked too.
    """

    def render_as_string(self, hide_password: bool = True) -> str:
        """Render the URL, its secrets masked unless ``hide_password`` is False."""
        if not hide_password or not SECRET_PARAMETERS.intersection(self.query):
            return super().render_as_string(hide_password)
        shown = URL.render_as_string(self.difference_update_query(self.query))
        pairs = [
            f"{quote_plus(name)}={_MASK if name in SECRET_PARAMETERS else quote_plus(value)}"
            for name in sorted(self.query)
            for value in _values(self.query[name])
        ]
        return f"{shown}?{'&'.join(pairs)}"


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def masked_url(url: str | URL) -> MaskedURL:
    """Return ``url`` as a :class:`MaskedURL`.

    Args:
        url (str | URL): A URL, or its string.

    Returns:
        MaskedURL: The same URL, shown with its secrets masked.
    """
    parsed = make_url(url)
    return MaskedURL(*parsed)


_QUERY_FIELDS = {
    "host": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "dbname": "database",
}
"""libpq parameters of a URL's query that fill a field of PostgreSQLConfig, and which."""

TRANSACTION_POOLER_PARAMETER = "transaction_pooler"
"""The query parameter of a PostgreSQL URL that sets ``datastore_config.transaction_pooler``
(``?transaction_pooler=true``); it is aana's, never passed to libpq."""

_OWN_FIELDS = {
    TRANSACTION_POOLER_PARAMETER: "datastore_config.transaction_pooler",
    "host": "datastore_config.host",
    "port": "datastore_config.port",
    "user": "datastore_config.user",
    "password": "datastore_config.password",
    "dbname": "datastore_config.database",
    "connect_timeout": "connect_timeout",
}
"""libpq parameters that settings of their own hold, and the setting that does."""


class PostgreSQLConfig(_ReadByKey):
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
        from psycopg.pq import Conninfo

        known = {option.keyword.decode() for option in Conninfo.get_defaults()}
        for name in parameters:
            if name in _OWN_FIELDS:
                raise ValueError(f"{name!r} is set by {_OWN_FIELDS[name]}, not in parameters")
            if name not in known:
                raise ValueError(f"{name!r} is not a PostgreSQL (libpq) connection parameter")
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


_CONFIG_TYPES: dict[DbType, type[BaseModel]] = {
    DbType.SQLITE: SQLiteConfig,
    DbType.POSTGRESQL: PostgreSQLConfig,
}


GET_ENGINE_CALL = "DbSettings.get_engine() on the database DB_CONFIG names"

_engines: dict[int, "Engine"] = {}
_engines_lock = threading.Lock()


class DbSettings(BaseModel):
    """Database settings.

    ``DbSettings`` is a plain model, not a settings source of its own: it is filled only from
    the ``DB_CONFIG`` JSON read by :class:`aana.configs.Settings`, so bare environment variables
    such as ``POOL_SIZE`` never leak into it. Assignments are validated as construction is:
    a ``datastore_config`` that does not fit ``datastore_type`` is refused, naming the field.

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

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, validate_assignment=True)

    @field_validator("datastore_config", mode="before")
    @classmethod
    def _config_matches_type(cls, config: Any, info: ValidationInfo) -> Any:
        """Validate ``datastore_config`` with the model of ``datastore_type``.

        A union would report the errors of every member; choosing the model first makes a
        missing ``host`` read as ``datastore_config.host: Field required``.
        """
        db_type = info.data.get("datastore_type")
        if isinstance(config, Mapping) and db_type is not None:
            return _CONFIG_TYPES[db_type].model_validate(config)
        return config

    @field_validator("datastore_config")
    @classmethod
    def _config_fits_type(
        cls, config: SQLiteConfig | PostgreSQLConfig, info: ValidationInfo
    ) -> SQLiteConfig | PostgreSQLConfig:
        # A field validator, not a model one: a refused assignment leaves the object as it was.
        db_type = info.data.get("datastore_type")
        if db_type is not None:
            _check_agreement(db_type, config)
        return config

    @field_validator("datastore_type")
    @classmethod
    def _type_fits_config(cls, db_type: DbType, info: ValidationInfo) -> DbType:
        config = info.data.get("datastore_config")  # only there on assignment
        if config is not None:
            _check_agreement(db_type, config)
        return db_type

    def url(self) -> URL:
        """Return the SQLAlchemy URL of the configured database."""
        return self.datastore_config.url()

    def get_engine(self) -> "Engine":
        """Return the engine of these settings, built on first call and kept.

        Each settings object builds at most one engine, with
        :func:`aana.storage.engine.create_database_engine`, however many threads ask at once;
        a copy of the settings builds its own. The engine is disposed of with the object.

        Within a test run by ``aana.testing``, settings naming the database ``DB_CONFIG``
        named when the run started give the test's engine, as ``get_engine()`` does, and are
        refused in a test that holds no test database.

        Returns:
            Engine: The engine.

        Raises:
            DatabaseConfigError: If the SQLite database's path is unusable.
            RuntimeError: Within ``aana.testing``'s refusal, on the database it guards.
        """
        # Imported here, not at the top: the engine module builds on these settings, and
        # Aana SDK 0.2.4's API puts this method on them.
        from aana.storage.engine import create_database_engine
        from aana.storage.process_engine import engine_in_place_of

        # In a test run by aana.testing, the database DB_CONFIG names is the test's (or
        # refused), as with get_engine(); never cached, since the test's engine is not kept.
        in_place: Engine | None = engine_in_place_of(self, "", GET_ENGINE_CALL)
        if in_place is not None:
            return in_place
        key = id(self)
        engine = _engines.get(key)
        if engine is not None:
            return engine
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                engine = create_database_engine(self)
                _engines[key] = engine
                # id() is reused once the object is gone: forget its engine with it.
                weakref.finalize(self, _forget_engine, key)
        return engine

    @classmethod
    def from_url(cls, url: str | URL, **options: Any) -> "DbSettings":
        """Return the settings that name the database at a SQLAlchemy URL.

        Every query parameter is used or refused. On PostgreSQL, ``host``, ``port``,
        ``user``, ``password`` and ``dbname`` fill the fields of those names (a Unix socket
        directory as ``host`` included), ``connect_timeout`` the setting, and any other
        libpq parameter (``sslmode``, ``sslrootcert``, ``application_name``...) goes to
        ``datastore_config.parameters``, except ``transaction_pooler`` (``true`` or
        ``false``), which is aana's setting of that name. On SQLite, ``timeout`` is the busy
        timeout.
        ``sqlite://`` and ``sqlite:///:memory:`` are the in-memory database.

        Args:
            url (str | URL): An ``sqlite:///path`` or ``postgresql://...`` URL.
            **options (Any): Other settings, such as ``pool_size`` or ``connect_timeout``.

        Returns:
            DbSettings: The settings.

        Raises:
            DatabaseConfigError: If the URL is neither SQLite nor PostgreSQL, or has a query
                parameter that cannot be used, naming it.
        """
        parsed = masked_url(url)  # shown in errors
        backend = parsed.get_backend_name()
        query = {name: _single(name, value) for name, value in parsed.query.items()}
        if backend == "sqlite":
            return cls._sqlite_from_url(parsed, query, options)
        if backend == "postgresql":
            return cls._postgresql_from_url(parsed, query, options)
        raise DatabaseConfigError(f"{parsed!r} is neither an SQLite nor a PostgreSQL URL")

    @classmethod
    def _sqlite_from_url(
        cls, parsed: URL, query: dict[str, str], options: dict[str, Any]
    ) -> "DbSettings":
        config: dict[str, Any] = {"path": parsed.database or SQLITE_MEMORY}
        for name, value in query.items():
            if name != "timeout":
                raise DatabaseConfigError(
                    f"{parsed!r}: query parameter {name!r} is not supported for SQLite "
                    "(only timeout, the busy timeout in seconds)"
                )
            config["busy_timeout"] = value
        return cls(datastore_type=DbType.SQLITE, datastore_config=config, **options)

    @classmethod
    def _postgresql_from_url(
        cls, parsed: URL, query: dict[str, str], options: dict[str, Any]
    ) -> "DbSettings":
        fields: dict[str, Any] = {
            "host": parsed.host,
            "port": parsed.port,
            "user": parsed.username,
            "password": parsed.password,
            "database": parsed.database,
        }
        parameters = dict(query)
        own: dict[str, Any] = {}
        if TRANSACTION_POOLER_PARAMETER in parameters:
            own["transaction_pooler"] = parameters.pop(TRANSACTION_POOLER_PARAMETER)
        for name, field in _QUERY_FIELDS.items():
            if name not in parameters:
                continue
            value = parameters.pop(name)
            if fields[field] is not None and str(fields[field]) != value:
                raise DatabaseConfigError(
                    f"{parsed!r}: query parameter {name!r} contradicts the URL's {field}"
                )
            fields[field] = value
        if "connect_timeout" in parameters:
            options = {"connect_timeout": parameters.pop("connect_timeout"), **options}
        defaults = {"host": "localhost", "port": 5432, "user": "postgres", "database": "postgres"}
        config = {
            name: value if value is not None else defaults.get(name, "")
            for name, value in fields.items()
        }
        try:
            pg_config = PostgreSQLConfig(**config, **own, parameters=parameters)
        except ValueError as error:
            raise DatabaseConfigError(f"{parsed!r}: {_first_error(error)}") from None
        return cls(datastore_type=DbType.POSTGRESQL, datastore_config=pg_config, **options)


def _check_agreement(db_type: DbType, config: BaseModel) -> None:
    expected = _CONFIG_TYPES[db_type]
    if not isinstance(config, expected):
        raise ValueError(
            f"datastore_config is a {type(config).__name__} but datastore_type "
            f"{db_type.value!r} needs a {expected.__name__}; to switch datastores, build new "
            "DbSettings with both"
        )


def _single(name: str, value: str | tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value
    raise DatabaseConfigError(f"query parameter {name!r} is given {len(value)} times")


def _first_error(error: ValueError) -> str:
    """Name the field and the problem of a validation error, without the value given."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        return f"datastore_config.{location}: {first['msg']}"
    return str(error)


def _forget_engine(key: int) -> None:
    with _engines_lock:
        engine = _engines.pop(key, None)
    if engine is not None:
        engine.dispose()
