"""The SDK's entry point for applications."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.script import Script
from sqlalchemy import Engine

from aana.configs.settings import Settings, load_settings
from aana.storage.engine import create_database_engine, wal_deferred
from aana.storage.migrations import (
    MigrationCheck,
    MigrationResult,
    alembic_config,
    check,
    current_revisions,
    downgrade,
    new_revision,
    upgrade,
)
from aana.storage.migrations.failures import MIGRATION_LOCK_TIMEOUT


class AanaSDK:
    """An Aana application.

    Attributes:
        name (str): Name of the application; also the branch label of its own migrations.
        alembic_config (Path | None): The app's ``alembic.ini``, when the app has migrations of
            its own; they are applied after aana's.
    """

    def __init__(self, name: str = "app", alembic_config: str | Path | None = None) -> None:
        """Name the application and, if it has migrations of its own, their ``alembic.ini``.

        Args:
            name (str): Name of the application.
            alembic_config (str | Path | None): Path of the app's ``alembic.ini``, if the app
                has its own migrations.
        """
        self.name = name
        self.alembic_config = Path(alembic_config) if alembic_config is not None else None

    def migrate(
        self,
        settings: Settings | None = None,
        adopt_unversioned: bool = False,
        adopt: bool = False,
        lock_timeout: float = MIGRATION_LOCK_TIMEOUT,
    ) -> MigrationResult:
        """Migrate the database named by ``DB_CONFIG`` to head: aana's revisions, then the app's.

        Running it again is a no-op; concurrent runs apply each revision once. A database of
        Aana SDK 0.2.4 is adopted on the way (see ``docs/aana-compat.md``).

        Args:
            settings (Settings | None): The settings to use; read from the environment if None.
            adopt_unversioned (bool): Record a database made by ``create_all`` at head once
                it is checked to match the models, instead of refusing it.
            adopt (bool): Adopt the database of the app under the Aana SDK, its own tables
                included: they are checked against the app's lineage and recorded at the
                revision they match (see ``docs/aana-compat.md``).
            lock_timeout (float): On PostgreSQL, the seconds a statement waits for a lock
                another session holds before the run fails, naming that session.

        Returns:
            MigrationResult: The revisions before and after, and what an adoption did.
        """
        with _engine(settings) as engine:
            return upgrade(
                engine,
                alembic_config(self.alembic_config),
                adopt_unversioned=adopt_unversioned,
                adopt=adopt,
                lock_timeout=lock_timeout,
            )

    def check_migrations(self, settings: Settings | None = None) -> MigrationCheck:
        """Check that the database named by ``DB_CONFIG`` is at head and matches the models.

        Args:
            settings (Settings | None): The settings to use; read from the environment if None.

        Returns:
            MigrationCheck: What was found; ``ok`` when nothing is pending or missing.
        """
        with _engine(settings) as engine:
            return check(engine, alembic_config(self.alembic_config))

    def downgrade(
        self, revision: str, settings: Settings | None = None, drop_data: bool = False
    ) -> MigrationResult:
        """Downgrade the database named by ``DB_CONFIG`` to a revision, in one transaction.

        Args:
            revision (str): The target, as Alembic takes it: a revision id, ``base``, or
                relative to a branch such as ``my_app@-1``.
            settings (Settings | None): The settings to use; read from the environment if None.
            drop_data (bool): Let the downgrade drop tables that hold rows.

        Returns:
            MigrationResult: The revisions before and after, and the tables dropped.

        Raises:
            DowngradeWouldDropData: If the downgrade would drop tables holding rows and
                ``drop_data`` is False, naming them and their row counts; nothing was changed.
        """
        with _engine(settings) as engine:
            return downgrade(engine, alembic_config(self.alembic_config), revision, drop_data)

    def current_revisions(self, settings: Settings | None = None) -> tuple[str, ...]:
        """Return the revisions the database named by ``DB_CONFIG`` is at.

        Args:
            settings (Settings | None): The settings to use; read from the environment if None.

        Returns:
            tuple[str, ...]: The revision ids, sorted; empty for an unmigrated database.
        """
        # A read leaves an SQLite file as it is, journal mode included.
        with _engine(settings) as engine, wal_deferred(), engine.connect() as connection:
            return current_revisions(connection)

    def new_revision(
        self,
        message: str,
        autogenerate: bool = False,
        settings: Settings | None = None,
        allow_drop: bool = False,
    ) -> Script | None:
        """Write a new revision on the app's own lineage.

        Args:
            message (str): The revision's message.
            autogenerate (bool): Fill the revision with the differences between the models
                and the database named by ``DB_CONFIG``, which must be at head.
            settings (Settings | None): The settings to use; read from the environment if None.
            allow_drop (bool): Let an autogenerated revision drop tables.

        Returns:
            Script | None: The new revision; None when autogenerate found no difference.

        Raises:
            ValueError: If the app has no ``alembic_config``.
        """
        if self.alembic_config is None:
            raise ValueError(f"app {self.name!r} has no alembic_config, so no migrations")
        config = alembic_config(self.alembic_config)
        if not autogenerate:
            return new_revision(config, message, self.name)
        with _engine(settings) as engine:
            return new_revision(config, message, self.name, engine, allow_drop)


@contextmanager
def _engine(settings: Settings | None) -> Iterator[Engine]:
    """Yield an engine on the database named by the settings, disposed of afterwards."""
    engine = create_database_engine((settings or load_settings()).db_config)
    try:
        yield engine
    finally:
        engine.dispose()
