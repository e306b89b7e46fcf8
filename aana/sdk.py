"""The SDK's entry point for applications."""

from pathlib import Path

from aana.configs.settings import Settings, load_settings
from aana.storage.engine import create_database_engine
from aana.storage.migrations import MigrationResult, alembic_config, upgrade


class AanaSDK:
    """An Aana application.

    Attributes:
        name (str): Name of the application.
        alembic_config (Path | None): The app's ``alembic.ini``, when the app has migrations of
            its own; they are applied after aana's.
    """

    def __init__(self, name: str = "app", alembic_config: str | Path | None = None) -> None:
        """Constructor.

        Args:
            name (str): Name of the application.
            alembic_config (str | Path | None): Path of the app's ``alembic.ini``, if the app
                has its own migrations.
        """
        self.name = name
        self.alembic_config = Path(alembic_config) if alembic_config is not None else None

    def migrate(self, settings: Settings | None = None) -> MigrationResult:
        """Migrate the database named by ``DB_CONFIG`` to head: aana's revisions, then the app's.

        Running it again is a no-op; concurrent runs apply each revision once.

        Args:
            settings (Settings | None): The settings to use; read from the environment if None.

        Returns:
            MigrationResult: The revisions before and after.
        """
        settings = settings or load_settings()
        engine = create_database_engine(settings.db_config)
        try:
            return upgrade(engine, alembic_config(self.alembic_config))
        finally:
            engine.dispose()
