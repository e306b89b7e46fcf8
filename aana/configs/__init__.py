"""Settings of the Aana SDK."""

from aana.configs.db import DbSettings, DbType, PostgreSQLConfig, SQLiteConfig
from aana.configs.settings import Settings, load_settings

__all__ = ["DbSettings", "DbType", "PostgreSQLConfig", "SQLiteConfig", "Settings", "load_settings"]
