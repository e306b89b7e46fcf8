"""The body of every ``env.py``: aana's and each app's."""

from typing import Any

from alembic import context
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, create_engine

from aana.storage.migrations.aana_sdk_schema import AANA_SDK_KEPT_TABLES
from aana.storage.migrations.enum_types import manage_enum_types


def run_env(target_metadata: MetaData | None = None, **configure_options: Any) -> None:
    """Run an Alembic environment; the whole body of an ``env.py``.

    It handles offline mode (SQL scripts), online mode on a connection or engine passed in
    ``config.attributes["connection"]`` (as :func:`upgrade` and pytest-alembic do) or else on
    an engine built from ``sqlalchemy.url`` or, without it, from ``DB_CONFIG``, batch mode for
    SQLite,
    type comparison for autogenerate, and the ``CREATE TYPE`` and ``DROP TYPE`` of enums
    that autogenerate leaves out (see :class:`CreateEnumTypeOp` and :class:`DropEnumTypeOp`).

    Args:
        target_metadata (MetaData | None): The metadata that autogenerate compares against;
            ``BaseEntity.metadata`` by default. An app passes the same one, after importing
            its own entities so that they are mapped on it.
        **configure_options (Any): Extra options for ``context.configure``.
    """
    from aana.storage.models import BaseEntity

    config = context.config
    metadata = target_metadata if target_metadata is not None else BaseEntity.metadata

    def include_name(name: str | None, kind: str, _parent: Any) -> bool:
        # The tables of an adopted Aana SDK database that aana does not map stay unmanaged.
        kept = name in AANA_SDK_KEPT_TABLES and name not in metadata.tables
        return not (kind == "table" and kept)

    options: dict[str, Any] = {
        "target_metadata": metadata,
        "include_name": include_name,
        "compare_type": True,
        "process_revision_directives": manage_enum_types,
        **configure_options,
    }
    if context.is_offline_mode():
        url = config.get_main_option("sqlalchemy.url") or _settings_url()
        context.configure(
            url=url,
            literal_binds=True,
            render_as_batch=url.startswith("sqlite"),
            dialect_opts={"paramstyle": "named"},
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        _run_online(connectable, options)
        return
    engine = connectable if isinstance(connectable, Engine) else _engine_from_config(config)
    try:
        with engine.connect() as connection:
            _run_online(connection, options)
            connection.commit()
    finally:
        if engine is not connectable:
            engine.dispose()


def _engine_from_config(config: Config) -> Engine:
    """Return an engine on ``sqlalchemy.url`` if the ini sets it, else on ``DB_CONFIG``."""
    from aana.configs.settings import load_settings
    from aana.storage.engine import create_database_engine

    url = config.get_main_option("sqlalchemy.url")
    if url:
        return create_engine(url)
    return create_database_engine(load_settings().db_config)


def _run_online(connection: Connection, options: dict[str, Any]) -> None:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


def _settings_url() -> str:
    from aana.configs.settings import load_settings

    return load_settings().db_config.url().render_as_string(hide_password=False)
