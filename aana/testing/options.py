"""The plugin's options: each one a CLI flag, an ini key and an environment variable.

A value given on the command line wins over the environment variable, which wins over the
ini key, which wins over the default. The plugin reads them once, when pytest configures the
run, into :class:`aana.testing.settings.PluginSettings`.
"""

import os
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Option:
    """One plugin option.

    Attributes:
        name (str): The ini key, also the attribute name on ``config.option``.
        flag (str): The command-line flag.
        env (str): The environment variable.
        help (str): What it does.
        default (str | None): The value when none is given.
        is_flag (bool): Whether the command-line flag takes no value; the environment
            variable and the ini key then take ``1``/``true``/``yes`` or ``0``/``false``/``no``.
    """

    name: str
    flag: str
    env: str
    help: str
    default: str | None = None
    is_flag: bool = False


DB = Option(
    "aana_db",
    "--aana-db",
    "AANA_TEST_DB",
    "database backend the db_* fixtures run on: sqlite or postgresql",
    "sqlite",
)
POSTGRES_URL = Option(
    "aana_postgres_url",
    "--aana-postgres-url",
    "AANA_TEST_POSTGRES_URL",
    "URL of an existing PostgreSQL server; the plugin creates (and later drops) databases "
    "of its own there, and never writes to the database the URL names",
)
ALEMBIC_CONFIG = Option(
    "aana_alembic_config",
    "--aana-alembic-config",
    "AANA_TEST_ALEMBIC_CONFIG",
    "an app's alembic.ini (relative to the rootdir): db_engine and --test-alembic then use "
    "aana's migrations followed by the app's",
)
POSTGRES_SOURCE = Option(
    "aana_postgres_source",
    "--aana-postgres-source",
    "AANA_TEST_POSTGRES_SOURCE",
    "where the postgresql backend's server comes from: url, pg_ctl, container, or auto "
    "(the first of those that applies)",
    "auto",
)
POSTGRES_IMAGE = Option(
    "aana_postgres_image",
    "--aana-postgres-image",
    "AANA_TEST_POSTGRES_IMAGE",
    "Docker image of the PostgreSQL container the plugin starts when that is the source; "
    "it must follow the official postgres image's contract",
    "postgres:15",
)

REUSE_DB = Option(
    "aana_reuse_db",
    "--aana-reuse-db",
    "AANA_TEST_REUSE_DB",
    "keep the migrated template across runs, keyed by a hash of every migration script, "
    "so that the next run starts without migrating",
    is_flag=True,
)
CREATE_DB = Option(
    "aana_create_db",
    "--aana-create-db",
    "AANA_TEST_CREATE_DB",
    "with template reuse, rebuild the kept template once in this run",
    is_flag=True,
)

OPTIONS = (
    DB,
    POSTGRES_URL,
    POSTGRES_SOURCE,
    POSTGRES_IMAGE,
    ALEMBIC_CONFIG,
    REUSE_DB,
    CREATE_DB,
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option as a flag and an ini key.

    Args:
        parser (pytest.Parser): pytest's parser.
    """
    group = parser.getgroup("aana", "aana database fixtures")
    for option in OPTIONS:
        flag_only = {"action": "store_const", "const": "1"} if option.is_flag else {}
        group.addoption(
            option.flag,
            dest=option.name,
            default=None,
            help=f"{option.help} (env {option.env}, ini {option.name})",
            **flag_only,
        )
        parser.addini(option.name, option.help, default=None)


def get_option(config: pytest.Config, option: Option) -> str | None:
    """Return an option's value: flag, else environment variable, else ini key, else default.

    Args:
        config (pytest.Config): pytest's config.
        option (Option): The option.

    Returns:
        str | None: The value.
    """
    value = config.getoption(option.name, default=None)
    if value is None:
        value = os.environ.get(option.env) or None
    if value is None:
        value = config.getini(option.name) or None
    return value if value is not None else option.default
