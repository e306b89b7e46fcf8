"""The plugin's options for one run, read and checked once, when pytest configures.

:func:`read_settings` resolves every option of :mod:`aana.testing.options` (flag, else
environment variable, else ini key, else default), checks it, and returns a frozen
:class:`PluginSettings`; the plugin keeps it in ``config.stash`` and its fixtures and hooks read
it with :func:`plugin_settings`. A bad value stops the run before any test, with a usage error
naming the option's three forms.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from aana.testing.backends import postgres_url
from aana.testing.options import (
    ALEMBIC_CONFIG,
    CREATE_DB,
    DB,
    POSTGRES_IMAGE,
    POSTGRES_SOURCE,
    POSTGRES_URL,
    REUSE_DB,
    Option,
    get_option,
)

BACKENDS = ("sqlite", "postgresql")
POSTGRES_SOURCES = ("auto", "url", "pg_ctl", "container")

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class PluginSettings:
    """What the plugin's options say for this run, checked.

    Not to be confused with :class:`aana.configs.Settings` (``DB_CONFIG``): these settings say
    where the test databases live, not which database the application uses.

    Attributes:
        backend (str): ``sqlite`` or ``postgresql``.
        postgres_source (str): Where the PostgreSQL server comes from: ``auto``, ``url``,
            ``pg_ctl`` or ``container``.
        postgres_url (URL | None): The server's URL, with the ``postgresql+psycopg`` driver
            (its repr masks the password); None when none is given, or when the backend is
            SQLite, which does not use it.
        ignored_postgres_url (bool): A URL is given but the backend is SQLite.
        postgres_image (str): The Docker image of the container the plugin may start.
        alembic_config (Path | None): The app's ``alembic.ini``, absolute, or None for aana's
            migrations alone.
        reuse_db (bool): Keep the migrated template across runs (``--aana-reuse-db``).
        create_db (bool): With reuse, rebuild the kept template once (``--aana-create-db``).
    """

    backend: str
    postgres_source: str
    postgres_url: URL | None
    ignored_postgres_url: bool
    postgres_image: str
    alembic_config: Path | None
    reuse_db: bool
    create_db: bool


_SETTINGS = pytest.StashKey[PluginSettings]()


def read_settings(config: pytest.Config) -> PluginSettings:
    """Resolve and check every option of the plugin.

    Args:
        config (pytest.Config): pytest's config, after its command line and ini are parsed.

    Returns:
        PluginSettings: The options' values for this run.

    Raises:
        pytest.UsageError: If a backend or source is unknown, a PostgreSQL URL is malformed
            (shown with its password masked), a yes/no option is neither, or the app's
            ``alembic.ini`` is not a file; the message names the option.
    """
    backend = _one_of(config, DB, "backend", BACKENDS)
    source = _one_of(config, POSTGRES_SOURCE, "source", POSTGRES_SOURCES)
    url = get_option(config, POSTGRES_URL)
    parsed = _postgres_url(url) if url and backend == "postgresql" else None
    reuse_db = _flag(config, REUSE_DB)
    create_db = _flag(config, CREATE_DB)
    image = get_option(config, POSTGRES_IMAGE)
    assert image is not None  # the option has a default
    return PluginSettings(
        backend=backend,
        postgres_source=source,
        postgres_url=parsed,
        ignored_postgres_url=bool(url) and backend == "sqlite",
        postgres_image=image,
        alembic_config=_alembic_config(config),
        reuse_db=reuse_db,
        create_db=create_db,
    )


def store_settings(config: pytest.Config, settings: PluginSettings) -> None:
    """Keep the run's settings in pytest's stash, for :func:`plugin_settings`.

    Args:
        config (pytest.Config): pytest's config.
        settings (PluginSettings): What :func:`read_settings` returned.
    """
    config.stash[_SETTINGS] = settings


def plugin_settings(config: pytest.Config) -> PluginSettings:
    """Return the settings the plugin read when pytest configured this run.

    Args:
        config (pytest.Config): pytest's config.

    Returns:
        PluginSettings: The run's settings.

    Raises:
        RuntimeError: If the ``aana.testing`` plugin has not configured this run (it is not
            loaded, or its ``pytest_configure`` has not run yet).
    """
    settings = config.stash.get(_SETTINGS, None)
    if settings is None:
        raise RuntimeError(
            "the aana.testing plugin has not read its options in this run: load it with "
            '-p aana.testing or pytest_plugins = ["aana.testing"], and read its settings '
            "after pytest_configure"
        )
    return settings


def _one_of(config: pytest.Config, option: Option, what: str, choices: tuple[str, ...]) -> str:
    """Return an option's value, refusing anything but ``choices`` with a usage error."""
    value = (get_option(config, option) or "").lower()
    if value not in choices:
        raise pytest.UsageError(
            f"{option.flag} / {option.env} / {option.name}: unknown {what} {value!r}; "
            f"expected one of {', '.join(choices)}"
        )
    return value


def _flag(config: pytest.Config, option: Option) -> bool:
    """Return a yes/no option's value; the environment variable or ini key must be one."""
    value = (get_option(config, option) or "").strip().lower()
    if value not in TRUE + FALSE:
        raise pytest.UsageError(
            f"{option.env} / {option.name}: {value!r} is neither a yes "
            f"({', '.join(TRUE)}) nor a no ({', '.join(FALSE[1:])})"
        )
    return value in TRUE


def _postgres_url(url: str) -> URL:
    """Parse the server's URL, naming the option's three forms if it is malformed."""
    try:
        return postgres_url(url)
    except ValueError as error:
        raise pytest.UsageError(
            f"{POSTGRES_URL.flag} / {POSTGRES_URL.env} / {POSTGRES_URL.name}: {error}"
        ) from None


def _alembic_config(config: pytest.Config) -> Path | None:
    """Return the app's ``alembic.ini`` (relative to the rootdir if not absolute), or None."""
    value = get_option(config, ALEMBIC_CONFIG)
    if value is None:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = config.rootpath / path
    if not path.is_file():
        raise pytest.UsageError(f"{ALEMBIC_CONFIG.flag} / {ALEMBIC_CONFIG.env}: no file {path}")
    return path
