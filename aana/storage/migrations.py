"""Running Alembic migrations: aana's own lineage, and an app's chained after it.

aana's revisions live in the ``alembic/`` folder of the source tree, shipped inside the
wheel as ``aana/alembic``. Their branch label is :data:`AANA_BRANCH`. An app keeps its own
revisions in its own folder, as a second lineage whose first revision depends on aana's;
:func:`alembic_config` puts both folders on Alembic's version path so that
``upgrade heads`` applies aana's revisions, then the app's, in dependency order.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, text

from aana.storage.engine import SQLITE_BEGIN_OPTION

AANA_BRANCH = "aana"
"""Branch label of aana's own revisions; an app's first revision depends on it."""

_PATH_SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n"}
_MIGRATION_LOCK_ID = 0x61616E61  # "aana": the PostgreSQL advisory lock held while migrating


def aana_script_location() -> Path:
    """Return the folder of aana's Alembic environment.

    Returns:
        Path: ``aana/alembic`` in an installed wheel, ``alembic/`` in the source tree.
    """
    package = Path(__file__).resolve().parents[1]
    installed = package / "alembic"
    return installed if installed.is_dir() else package.parent / "alembic"


def alembic_config(app_config: str | Path | None = None) -> Config:
    """Build the Alembic configuration for aana's lineage, plus an app's if given.

    Args:
        app_config (str | Path | None): Path of the app's ``alembic.ini``. Its
            ``script_location`` holds the app's ``env.py``; its ``version_locations`` (or
            ``<script_location>/versions``) its revisions. aana's revisions are added to the
            version path, so the app's ini never names them.

    Returns:
        Config: The configuration, ready for :mod:`alembic.command`.
    """
    aana_versions = str(aana_script_location() / "versions")
    if app_config is None:
        config = Config()
        config.set_main_option("script_location", str(aana_script_location()))
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", aana_versions)
        return config
    config = Config(str(app_config))
    script_location = config.get_main_option("script_location")
    if not script_location:
        raise ValueError(f"{app_config}: script_location is not set")
    own = config.get_main_option("version_locations") or str(Path(script_location) / "versions")
    # Without path_separator, Alembic splits version_locations on spaces: keep that meaning.
    separator_name = config.get_main_option("path_separator") or "space"
    config.set_main_option("path_separator", separator_name)
    separator = _PATH_SEPARATORS.get(separator_name, separator_name)
    config.set_main_option("version_locations", f"{own}{separator}{aana_versions}")
    return config


@dataclass(frozen=True)
class MigrationResult:
    """What a migration run did.

    Attributes:
        before (tuple[str, ...]): The revisions the database was at.
        after (tuple[str, ...]): The revisions it is at now.
    """

    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """Whether any revision was applied."""
        return set(self.before) != set(self.after)

    def describe(self) -> str:
        """Say from which revisions to which the database moved."""
        before = ", ".join(self.before) or "empty database"
        after = ", ".join(self.after) or "empty database"
        if not self.changed:
            return f"Database already at head ({after}); nothing to do."
        return f"Migrated database from {before} to {after}."


def upgrade(
    engine: Engine, config: Config | None = None, revision: str = "heads"
) -> MigrationResult:
    """Migrate a database, safely against concurrent runs.

    The whole run is one transaction (DDL is transactional on PostgreSQL and SQLite), so a
    failing revision leaves the database where it was. Concurrent runs are serialized: by an
    advisory lock on PostgreSQL, by ``BEGIN IMMEDIATE`` on SQLite; the later one finds
    the work done.

    Args:
        engine (Engine): The database to migrate.
        config (Config | None): The Alembic configuration; aana's own by default.
        revision (str): The target; every head by default.

    Returns:
        MigrationResult: The revisions before and after.
    """
    config = config or alembic_config()
    with _migration_connection(engine) as connection:
        before = current_revisions(connection)
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, revision)
        finally:
            config.attributes.pop("connection", None)
        return MigrationResult(before, current_revisions(connection))


def downgrade(
    engine: Engine, config: Config | None = None, revision: str = "base"
) -> MigrationResult:
    """Downgrade a database, in one transaction.

    Args:
        engine (Engine): The database to downgrade.
        config (Config | None): The Alembic configuration; aana's own by default.
        revision (str): The target; ``base`` (nothing) by default.

    Returns:
        MigrationResult: The revisions before and after.
    """
    config = config or alembic_config()
    with _migration_connection(engine) as connection:
        before = current_revisions(connection)
        config.attributes["connection"] = connection
        try:
            command.downgrade(config, revision)
        finally:
            config.attributes.pop("connection", None)
        return MigrationResult(before, current_revisions(connection))


def pending_revisions(engine: Engine, config: Config | None = None) -> list[str]:
    """Return the revisions that ``upgrade`` would apply.

    Args:
        engine (Engine): The database.
        config (Config | None): The Alembic configuration; aana's own by default.

    Returns:
        list[str]: Revision ids not yet applied, oldest first.
    """
    config = config or alembic_config()
    script = ScriptDirectory.from_config(config)
    with engine.connect() as connection:
        current = current_revisions(connection)
    applied = {rev.revision for rev in script.revision_map.iterate_revisions(current, "base")}
    return [
        rev.revision
        for rev in reversed(list(script.revision_map.iterate_revisions("heads", "base")))
        if rev.revision not in applied
    ]


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """Return the revisions recorded in the database, sorted.

    Args:
        connection (Connection): A connection to the database.

    Returns:
        tuple[str, ...]: The revision ids; empty for an unmigrated database.
    """
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _MIGRATION_LOCK_ID}
                )
            yield connection


def run_env(target_metadata: MetaData | None = None, **configure_options: Any) -> None:
    """Run an Alembic environment; the whole body of an ``env.py``.

    It handles offline mode (SQL scripts), online mode on a connection passed in
    ``config.attributes["connection"]`` (as :func:`upgrade` and pytest-alembic do) or on an
    engine built from ``sqlalchemy.url`` or else from ``DB_CONFIG``, batch mode for SQLite,
    and type comparison for autogenerate.

    Args:
        target_metadata (MetaData | None): The metadata that autogenerate compares against;
            ``BaseEntity.metadata`` by default. An app passes the same one, after importing
            its own entities so that they are mapped on it.
        **configure_options (Any): Extra options for ``context.configure``.
    """
    from aana.storage.models import BaseEntity

    config = context.config
    metadata = target_metadata if target_metadata is not None else BaseEntity.metadata
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "compare_type": True,
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
