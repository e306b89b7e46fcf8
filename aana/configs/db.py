"""Database settings: which datastore to use and how to connect to it.

:class:`DbSettings` is what ``DB_CONFIG`` holds. The models of the datastores it names live in
:mod:`aana.configs.datastores`, the URLs it is read from and rendered as in
:mod:`aana.configs.urls`; their public names are imported here too, where the Aana SDK's code
imports them from.
"""

import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy.engine import URL

from aana.configs.datastores import DbType, PostgreSQLConfig, SQLiteConfig
from aana.configs.urls import (
    SECRET_PARAMETERS,
    SQLITE_MEMORY,
    TRANSACTION_POOLER_PARAMETER,
    MaskedURL,
    fields_from_url,
    invalid_url_settings,
    masked_url,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "GET_ENGINE_CALL",
    "SECRET_PARAMETERS",
    "SQLITE_MEMORY",
    "TRANSACTION_POOLER_PARAMETER",
    "DbSettings",
    "DbType",
    "MaskedURL",
    "PostgreSQLConfig",
    "SQLiteConfig",
    "masked_url",
]

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
        kind, config, url_options = fields_from_url(url)
        datastore_config: dict[str, Any] | PostgreSQLConfig = config
        if kind == "postgresql":
            try:
                datastore_config = PostgreSQLConfig(**config)
            except ValueError as error:
                raise invalid_url_settings(url, error) from None
        return cls(
            datastore_type=DbType(kind),
            datastore_config=datastore_config,
            **{**url_options, **options},
        )


def _check_agreement(db_type: DbType, config: BaseModel) -> None:
    expected = _CONFIG_TYPES[db_type]
    if not isinstance(config, expected):
        raise ValueError(
            f"datastore_config is a {type(config).__name__} but datastore_type "
            f"{db_type.value!r} needs a {expected.__name__}; to switch datastores, build new "
            "DbSettings with both"
        )


def _forget_engine(key: int) -> None:
    with _engines_lock:
        engine = _engines.pop(key, None)
    if engine is not None:
        engine.dispose()
