"""Where aana's migrations live, and the Alembic configuration for aana's lineage plus an app's."""

import os
from pathlib import Path

from alembic.config import Config

AANA_BRANCH = "aana"
"""Branch label of aana's own revisions; an app's first revision depends on it."""

_PATH_SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n"}
_MIGRATION_LOCK_ID = 0x61616E61  # "aana": the PostgreSQL advisory lock held while migrating


def aana_script_location() -> Path:
    """Return the folder of aana's Alembic environment.

    Returns:
        Path: ``aana/alembic`` in an installed wheel, ``alembic/`` in the source tree.
    """
    package = Path(__file__).resolve().parents[2]
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
