"""Top-level SDK settings, read from the environment."""

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from aana.configs.db import DbSettings, SQLiteConfig
from aana.exceptions.db import DatabaseConfigError

__all__ = ["ApiServiceSettings", "Settings", "load_settings", "settings"]


class ApiServiceSettings(BaseModel):
    """Settings of the Aana SDK's API service, as far as the storage layer reads them.

    Attributes:
        enabled (bool): Whether the API service runs: then sessions of
            :class:`aana.storage.op.DatabaseSessionManager` reach the API keys in
            ``api_service_db_config`` too. Read from ``API_SERVICE__ENABLED``.
    """

    enabled: bool = False

    # Aana's own fields (lago_url, lago_api_key) belong to its billing, not to storage.
    model_config = ConfigDict(extra="ignore")


class Settings(BaseSettings):
    """Settings of the Aana SDK.

    Nested fields are read from variables joined with ``__``, as the Aana SDK reads them:
    ``API_SERVICE__ENABLED=true``.

    Attributes:
        db_config (DbSettings): The database settings, read as JSON from the ``DB_CONFIG``
            environment variable. Defaults to SQLite at ``/var/lib/aana_data``.
        api_service (ApiServiceSettings): The API service's settings.
        api_service_db_config (DbSettings): The API service's own database, which holds the
            API keys (``aana.storage.models.api_key``), read as JSON from
            ``API_SERVICE_DB_CONFIG``. Defaults to SQLite at
            ``/var/lib/aana_api_service_data``.
    """

    db_config: DbSettings = DbSettings()
    api_service: ApiServiceSettings = ApiServiceSettings()
    api_service_db_config: DbSettings = DbSettings(
        datastore_config=SQLiteConfig(path="/var/lib/aana_api_service_data")
    )

    model_config = SettingsConfigDict(
        extra="ignore", hide_input_in_errors=True, env_nested_delimiter="__"
    )


settings: Settings
"""The process-wide settings, read from the environment on first use (see ``__getattr__``)."""


def load_settings() -> Settings:
    """Read the settings from the environment.

    Returns:
        Settings: The settings.

    Raises:
        DatabaseConfigError: If ``DB_CONFIG`` is not valid JSON.
        pydantic.ValidationError: If a setting is invalid; the error names the field and
            never shows the values given, so a password cannot leak through it.
    """
    try:
        return Settings()
    except SettingsError as error:
        cause = error.__cause__ or error
        raise DatabaseConfigError(f"DB_CONFIG is not valid JSON: {cause}") from None


def __getattr__(name: str) -> Any:
    """Build ``settings``, the Aana SDK's process-wide settings object, on first use.

    The Aana SDK read the environment when this module was imported; here
    ``from aana.configs.settings import settings`` reads it then, once, and every later
    import gets the same object, which code may change (``settings.db_config = ...``).
    """
    if name == "settings":
        built = globals().setdefault("settings", load_settings())
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
