"""Top-level SDK settings, read from the environment."""

from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from aana.configs.db import DbSettings
from aana.exceptions.db import DatabaseConfigError


class Settings(BaseSettings):
    """Settings of the Aana SDK.

    Attributes:
        db_config (DbSettings): The database settings, read as JSON from the ``DB_CONFIG``
            environment variable. Defaults to SQLite at ``/var/lib/aana_data``.
    """

    db_config: DbSettings = DbSettings()

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)


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
