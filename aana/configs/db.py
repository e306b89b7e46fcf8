"""Database settings: the datastore to use, and the engine the settings hand out.

:class:`DbSettings` is what ``DB_CONFIG`` holds. The models of the datastores it names live in
:mod:`aana.configs.datastores`, the URLs it is read from and rendered as in
:mod:`aana.configs.urls`; their public names are imported here too, where the Aana SDK's code
imports them from.

The Aana SDK's API puts ``get_engine()`` on the settings, yet engines are built by
:mod:`aana.storage.engine`, which builds on these settings: the settings are the layer below,
and import nothing of it. So, as advanced-alchemy's config objects hold theirs, a
``DbSettings`` object keeps its engine itself, in the private attribute ``_engine``, built on
first call by an :class:`EngineBuilder` handed in from above with
:func:`hand_in_engine_builder`. It is handed in by the package's ``__init__`` (:mod:`aana`),
which runs before any other module of the package and is the one module that sees both
layers; it imports :mod:`aana.storage.engine` when the first engine is built. Two simpler
ways were not taken: :mod:`aana.storage.engine` handing its builder in when imported would
leave a program that never imports :mod:`aana.storage` without one, and importing it from
here by name, when an engine is asked for, would keep the dependency on the layer above,
only out of sight.
"""

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator
from sqlalchemy.engine import URL, Engine

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

__all__ = [
    "GET_ENGINE_CALL",
    "SECRET_PARAMETERS",
    "SQLITE_MEMORY",
    "TRANSACTION_POOLER_PARAMETER",
    "DbSettings",
    "DbType",
    "EngineBuilder",
    "MaskedURL",
    "PostgreSQLConfig",
    "SQLiteConfig",
    "hand_in_engine_builder",
    "masked_url",
]

GET_ENGINE_CALL = "DbSettings.get_engine() on the database DB_CONFIG names"
"""How an error names :meth:`DbSettings.get_engine` when it refuses an engine."""


class EngineBuilder(Protocol):
    """Builds the engines :meth:`DbSettings.get_engine` returns.

    The one in use is :mod:`aana.storage.engine`'s, handed in by :mod:`aana`.
    """

    def stand_in(self, settings: "DbSettings", call: str) -> Engine | None:
        """Return the engine to give in place of the settings' own, which is not kept, or None.

        Within a test run by ``aana.testing``, settings naming the database ``DB_CONFIG``
        named when the run started give the test's engine, and are refused in a test that
        holds no test database.

        Args:
            settings (DbSettings): The settings asked for their engine.
            call (str): The call, named in the error.

        Returns:
            Engine | None: The engine to give instead, or None to give the settings' own.

        Raises:
            RuntimeError: Where an engine on the database ``settings`` name is refused.
        """
        ...

    def build(self, settings: "DbSettings") -> Engine:
        """Build a new engine on the database ``settings`` name, as the settings' own.

        Args:
            settings (DbSettings): The settings.

        Returns:
            Engine: The engine; no connection is opened yet.

        Raises:
            DatabaseConfigError: If the SQLite database's path is unusable.
        """
        ...


_provide_builder: Callable[[], EngineBuilder] | None = None
_building = threading.Lock()
"""Held while an engine is built, so that threads asking at once get one engine."""


def hand_in_engine_builder(provide: Callable[[], EngineBuilder]) -> None:
    """Set what builds the engines of :meth:`DbSettings.get_engine`.

    Args:
        provide (Callable[[], EngineBuilder]): Returns the builder. It is called each time
            an engine is asked for, so that the module holding the builder is imported only
            once one is.
    """
    global _provide_builder
    _provide_builder = provide


def _engine_builder() -> EngineBuilder:
    assert _provide_builder is not None, "the aana package hands in the builder when imported"
    return _provide_builder()


def _dispose(engine: "weakref.ref[Engine]") -> None:
    alive = engine()
    if alive is not None:
        alive.dispose()


_CONFIG_TYPES: dict[DbType, type[BaseModel]] = {
    DbType.SQLITE: SQLiteConfig,
    DbType.POSTGRESQL: PostgreSQLConfig,
}


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

    _engine: Engine | None = PrivateAttr(default=None)

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

    def get_engine(self) -> Engine:
        """Return the engine of these settings, built on first call and kept.

        Each settings object builds at most one engine, with
        :func:`aana.storage.engine.create_database_engine`, however many threads ask at once,
        and keeps it in ``_engine``: setting that to None makes the next call build a new
        one. A copy of the settings, or an unpickled one, builds its own. The engine is
        disposed of with the object.

        Within a test run by ``aana.testing``, settings naming the database ``DB_CONFIG``
        named when the run started give the test's engine, as ``get_engine()`` does, and are
        refused in a test that holds no test database.

        Returns:
            Engine: The engine.

        Raises:
            DatabaseConfigError: If the SQLite database's path is unusable.
            RuntimeError: Within ``aana.testing``'s refusal, on the database it guards.
        """
        builder = _engine_builder()
        # In a test run by aana.testing, the database DB_CONFIG names is the test's (or
        # refused), as with aana.storage.session.get_engine(); never kept: the test's engine
        # does not outlive the test.
        stand_in = builder.stand_in(self, GET_ENGINE_CALL)
        if stand_in is not None:
            return stand_in
        engine = self._engine
        if engine is None:
            with _building:
                engine = self._engine
                if engine is None:
                    engine = builder.build(self)
                    # Held weakly: an engine dropped with `_engine = None` is not kept alive.
                    weakref.finalize(self, _dispose, weakref.ref(engine))
                    self._engine = engine
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

    # The engine is the object's, not a setting: a copy or an unpickled object builds its own,
    # and settings are equal whether or not they have built theirs.

    def __copy__(self) -> Self:
        """Return a shallow copy, without the engine."""
        copied = super().__copy__()
        copied._engine = None
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """Return a deep copy, without the engine (an engine's pool cannot be copied)."""
        return super(DbSettings, self.__copy__()).__deepcopy__(memo)

    def __getstate__(self) -> dict[Any, Any]:
        """Return the state to pickle, without the engine (an engine cannot be pickled)."""
        state = super().__getstate__()
        state["__pydantic_private__"] = {**state["__pydantic_private__"], "_engine": None}
        return state

    def __eq__(self, other: object) -> bool:
        """Whether ``other`` is settings of the same class with the same fields."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


def _check_agreement(db_type: DbType, config: BaseModel) -> None:
    expected = _CONFIG_TYPES[db_type]
    if not isinstance(config, expected):
        raise ValueError(
            f"datastore_config is a {type(config).__name__} but datastore_type "
            f"{db_type.value!r} needs a {expected.__name__}; to switch datastores, build new "
            "DbSettings with both"
        )
