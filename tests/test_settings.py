"""Settings: DB_CONFIG parsing, errors that name the field, secrets that stay secret."""

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from aana.configs import DbSettings, DbType, PostgreSQLConfig, Settings, SQLiteConfig, load_settings
from aana.exceptions.db import DatabaseConfigError
from aana.storage.engine import create_database_engine

SECRET = "s3cr3t-Pa55"


def test_default_is_the_spec_pages_sqlite_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_CONFIG", raising=False)
    settings = load_settings()
    assert settings.db_config.datastore_type is DbType.SQLITE
    assert settings.db_config.datastore_config == SQLiteConfig(path=Path("/var/lib/aana_data"))


def test_db_config_is_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {
        "datastore_type": "postgresql",
        "datastore_config": {"host": "db.internal", "port": 6543, "database": "media"},
        "pool_size": 7,
    }
    monkeypatch.setenv("DB_CONFIG", json.dumps(config))
    db = load_settings().db_config
    assert db.datastore_type is DbType.POSTGRESQL
    assert isinstance(db.datastore_config, PostgreSQLConfig)
    assert (db.datastore_config.host, db.datastore_config.port) == ("db.internal", 6543)
    assert db.pool_size == 7


def test_bare_environment_variables_do_not_leak_into_db_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DB_CONFIG", raising=False)
    monkeypatch.setenv("POOL_SIZE", "99")
    monkeypatch.setenv("DATASTORE_TYPE", "postgresql")
    monkeypatch.setenv("MAX_OVERFLOW", "77")
    db = load_settings().db_config
    assert db.pool_size == 5
    assert db.max_overflow == 10
    assert db.datastore_type is DbType.SQLITE


def test_db_config_that_is_not_json_names_db_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONFIG", "{datastore_type: sqlite")
    with pytest.raises(DatabaseConfigError, match="DB_CONFIG is not valid JSON"):
        load_settings()


def test_unknown_datastore_type_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONFIG", json.dumps({"datastore_type": "mysql"}))
    with pytest.raises(DatabaseConfigError, match="datastore_type"):
        load_settings()


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"datastore_config": {"pth": "/tmp/a.db"}}, "datastore_config.pth: Extra inputs"),
        ({"poolsize": 3}, "poolsize: Extra inputs"),
        (
            {"datastore_type": "postgresql", "datastore_config": {"hots": "db"}},
            "datastore_config.host: Field required; datastore_config.hots: Extra inputs",
        ),
    ],
)
def test_a_misspelled_key_in_db_config_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, object], named: str
) -> None:
    monkeypatch.setenv("DB_CONFIG", json.dumps(config))
    for read in (load_settings, Settings):
        with pytest.raises(DatabaseConfigError) as raised:
            read()
        assert f"invalid DB_CONFIG: {named}" in str(raised.value)
        # Callers that caught pydantic's error as a ValueError still do; its details are kept.
        assert isinstance(raised.value, ValueError)
        assert isinstance(raised.value.__cause__, ValidationError)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deeply_nested_db_config_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, depth: int
) -> None:
    nested = '{"a":' * depth + "1" + "}" * depth
    monkeypatch.setenv("DB_CONFIG", f'{{"datastore_config": {nested}}}')
    with pytest.raises(DatabaseConfigError, match="DB_CONFIG is not valid JSON: recursion limit"):
        load_settings()


def test_postgresql_config_without_host_names_the_host_field() -> None:
    with pytest.raises(ValidationError) as raised:
        DbSettings.model_validate(
            {"datastore_type": "postgresql", "datastore_config": {"user": "aana"}}
        )
    assert [error["loc"] for error in raised.value.errors()] == [("datastore_config", "host")]


def test_config_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="datastore_config is a SQLiteConfig"):
        DbSettings(datastore_type=DbType.POSTGRESQL, datastore_config=SQLiteConfig())


def test_unknown_keys_are_refused_instead_of_ignored() -> None:
    with pytest.raises(ValidationError, match="poolsize"):
        DbSettings.model_validate({"poolsize": 3})


def test_sqlite_directory_that_does_not_exist_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "aana.db"
    settings = DbSettings(datastore_config=SQLiteConfig(path=path))
    with pytest.raises(DatabaseConfigError, match=r"datastore_config\.path") as raised:
        create_database_engine(settings)
    assert str(path.parent) in str(raised.value)
    assert not path.parent.exists()


def test_sqlite_path_under_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = DbSettings(datastore_config=SQLiteConfig(path=blocker / "aana.db"))
    with pytest.raises(DatabaseConfigError, match="not-a-directory"):
        create_database_engine(settings)


def _postgres_settings() -> DbSettings:
    return DbSettings.model_validate(
        {
            "datastore_type": "postgresql",
            "datastore_config": {"host": "127.0.0.1", "password": SECRET, "port": 1},
        }
    )


def test_password_is_hidden_in_reprs_and_urls() -> None:
    settings = _postgres_settings()
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in repr(Settings(db_config=settings))
    assert SECRET not in str(settings.url())
    assert settings.datastore_config.password.get_secret_value() == SECRET  # type: ignore[union-attr]


def test_password_is_hidden_in_validation_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"datastore_type": "postgresql", "datastore_config": {"password": SECRET}}
    monkeypatch.setenv("DB_CONFIG", json.dumps(config))
    with pytest.raises(DatabaseConfigError) as raised:
        load_settings()
    assert SECRET not in str(raised.value)
    assert SECRET not in str(raised.value.__cause__)


def test_password_is_hidden_when_the_connection_fails(caplog: pytest.LogCaptureFixture) -> None:
    engine = create_database_engine(_postgres_settings())
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    with pytest.raises(Exception) as raised:
        engine.connect()
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(engine)
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////data/aana.db", {"datastore_type": "sqlite", "path": "/data/aana.db"}),
        (
            "postgresql+psycopg://aana:pw@db.internal:6543/media",
            {"datastore_type": "postgresql", "host": "db.internal", "port": 6543},
        ),
    ],
)
def test_settings_from_a_url(url: str, expected: dict[str, object]) -> None:
    settings = DbSettings.from_url(url, pool_size=3)
    dumped = {
        "datastore_type": settings.datastore_type.value,
        **settings.datastore_config.model_dump(),
    }
    assert {key: dumped[key] for key in expected} == {
        key: Path(value) if key == "path" else value for key, value in expected.items()
    }
    assert settings.pool_size == 3
    assert (
        settings.url().render_as_string(hide_password=False).split("://")[1] == url.split("://")[1]
    )


def test_settings_from_an_unsupported_url_name_it() -> None:
    with pytest.raises(DatabaseConfigError, match="mysql"):
        DbSettings.from_url("mysql://root@localhost/db")


def test_transaction_pooler_is_off_by_default_and_read_from_db_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _postgres_settings().datastore_config.transaction_pooler is False
    config = {"datastore_type": "postgresql", "datastore_config": {"host": "pgbouncer"}}
    config["datastore_config"]["transaction_pooler"] = True  # type: ignore[index]
    monkeypatch.setenv("DB_CONFIG", json.dumps(config))
    assert load_settings().db_config.datastore_config.transaction_pooler is True


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("false", False)])
def test_transaction_pooler_from_a_url_query_parameter_is_not_passed_to_libpq(
    value: str, expected: bool
) -> None:
    settings = DbSettings.from_url(
        f"postgresql://aana@pgbouncer:6432/aana?sslmode=require&transaction_pooler={value}"
    )
    config = settings.datastore_config
    assert isinstance(config, PostgreSQLConfig)
    assert config.transaction_pooler is expected
    assert config.parameters == {"sslmode": "require"}
    assert dict(settings.url().query) == {"sslmode": "require"}


def test_transaction_pooler_that_is_not_a_boolean_is_named() -> None:
    with pytest.raises(DatabaseConfigError, match=r"datastore_config\.transaction_pooler"):
        DbSettings.from_url("postgresql://aana@pgbouncer/aana?transaction_pooler=maybe")


def test_transaction_pooler_in_libpq_parameters_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match=r"datastore_config\.transaction_pooler"):
        PostgreSQLConfig(host="pgbouncer", parameters={"transaction_pooler": "true"})
