"""Top-level SDK settings, read from the environment."""

from typing import Any

import pydantic_core
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

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


class _EnvironmentSource(EnvSettingsSource):
    """The environment, its JSON (``DB_CONFIG``) read by pydantic's parser.

    Python's ``json`` overflows the stack on a document nested a thousand levels deep and raises
    ``RecursionError``; pydantic's parser refuses such nesting with a ``ValueError``, which
    becomes "not valid JSON" as any other malformed ``DB_CONFIG`` does.
    """

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        """Parse the JSON of a structured setting."""
        return pydantic_core.from_json(value)


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

    def __init__(self, *args: Any, **values: Any) -> None:
        """Read the settings from the environment, as a ``BaseSettings`` does, and ``values``.

        Raises:
            DatabaseConfigError: If ``DB_CONFIG`` is not valid JSON, or a setting is invalid,
                naming every setting at fault and never the values given; the
                ``pydantic.ValidationError`` is its cause. It is a ``ValueError``, as pydantic's
                is.
        """
        try:
            super().__init__(*args, **values)
        except SettingsError as error:
            cause = error.__cause__ or error
            raise DatabaseConfigError(f"DB_CONFIG is not valid JSON: {cause}") from None
        except ValidationError as error:
            raise DatabaseConfigError(f"invalid DB_CONFIG: {_faults(error)}") from error

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The default sources, the environment read by :class:`_EnvironmentSource`."""
        return (
            init_settings,
            _EnvironmentSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


def _faults(error: ValidationError) -> str:
    """Each setting at fault and what is wrong with it, as ``DB_CONFIG``'s keys name it."""
    faults = []
    for fault in error.errors():
        location = [str(part) for part in fault["loc"]]
        if location[:1] == ["db_config"]:
            location = location[1:]
        faults.append(f"{'.'.join(location)}: {fault['msg']}" if location else fault["msg"])
    return "; ".join(faults)


settings: Settings
"""The process-wide settings, read from the environment on first use (see ``__getattr__``)."""


def load_settings() -> Settings:
    """Read the settings from the environment.

    Returns:
        Settings: The settings.

    Raises:
        DatabaseConfigError: If ``DB_CONFIG`` is not valid JSON, or a setting is invalid; the
            error names the setting and never shows the values given, so a password cannot
            leak through it.
    """
    return Settings()


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
