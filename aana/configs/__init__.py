"""Settings of the Aana SDK."""

from typing import TYPE_CHECKING, Any

from aana.configs.db import DbSettings, DbType, PostgreSQLConfig, SQLiteConfig

if TYPE_CHECKING:
    from aana.configs.settings import Settings, load_settings

__all__ = ["DbSettings", "DbType", "PostgreSQLConfig", "SQLiteConfig", "Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: pydantic-settings, with the dotenv and argparse it imports, would
    # add a tenth to the import of the repositories, which only need DbSettings from here.
    if name in ("Settings", "load_settings"):
        from aana.configs import settings

        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
