"""The fixtures the migration checks ask for: alembic config, engine and runner.

The plugin registers this module in ``pytest_configure``, after pytest-alembic's own
defaults, so that these take precedence over them. ``alembic_runner`` is defined here too, so
that the migration checks run when pytest-alembic's plugin is disabled (``-p no:pytest_alembic``).
"""

from collections.abc import Iterator

import pytest
from alembic.config import Config
from pytest_alembic.config import Config as PytestAlembicConfig
from pytest_alembic.runner import MigrationContext, runner
from sqlalchemy import Engine

from aana.testing.backends import TestDatabases


@pytest.fixture
def alembic_config(aana_migrations_config: Config) -> PytestAlembicConfig:
    """Aana's migrations, and an app's when ``aana_alembic_config`` names one."""
    return PytestAlembicConfig.from_raw_config(aana_migrations_config)


@pytest.fixture
def alembic_engine(aana_test_databases: TestDatabases) -> Iterator[Engine]:
    """An empty database on the selected backend, outside any test transaction."""
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    yield engine
    aana_test_databases.drop(engine)


@pytest.fixture
def alembic_runner(
    alembic_config: PytestAlembicConfig, alembic_engine: Engine
) -> Iterator[MigrationContext]:
    """pytest-alembic's runner of the migrations in ``alembic_config`` on ``alembic_engine``."""
    with runner(config=alembic_config, engine=alembic_engine) as context:
        yield context
