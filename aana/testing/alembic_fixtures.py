"""The fixtures pytest-alembic asks for: ``alembic_config`` and ``alembic_engine``.

The plugin registers this module in ``pytest_configure``, after pytest-alembic's own
defaults, so that these take precedence over them.
"""

from collections.abc import Iterator

import pytest
from alembic.config import Config
from pytest_alembic.config import Config as PytestAlembicConfig
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
