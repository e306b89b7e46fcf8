"""DbSettings as Aana SDK 0.2.4 code uses it; the URLs and paths it takes (issue 10: 7, 9)."""

import ast
import copy
import gc
import pickle
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from aana.configs import DbSettings, DbType, PostgreSQLConfig, SQLiteConfig
from aana.core.models import Video
from aana.exceptions.db import DatabaseConfigError
from aana.storage.engine import create_database_engine
from aana.storage.models import BaseEntity
from aana.storage.repository import VideoRepository
from aana.testing.backends import db_settings_for


def only_on(engine: Engine, dialect: str) -> None:
    if engine.dialect.name != dialect:
        pytest.skip(f"{dialect} only; this run is on {engine.dialect.name}")


# get_engine (issue 11, item 2)


def test_get_engine_builds_one_engine_per_settings_object_across_threads(
    db_engine: Engine,
) -> None:
    settings = db_settings_for(db_engine.url)
    barrier = threading.Barrier(8)

    def engine_of_this_thread(_: int) -> Engine:
        barrier.wait()
        return settings.get_engine()

    with ThreadPoolExecutor(8) as pool:
        engines = list(pool.map(engine_of_this_thread, range(8)))
    assert len({id(engine) for engine in engines}) == 1
    engine = engines[0]
    assert engine is settings.get_engine()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    other = db_settings_for(db_engine.url)
    assert other.get_engine() is not engine
    assert settings.model_copy().get_engine() is not engine
    unpickled = pickle.loads(pickle.dumps(settings))
    assert unpickled == settings
    assert unpickled.get_engine() is not engine
    deep = copy.deepcopy(settings)
    assert deep == settings
    assert deep.get_engine() is not engine
    assert str(engine.url) == str(create_database_engine(settings).url)


def test_get_engine_is_disposed_of_with_its_settings(tmp_path: Path) -> None:
    settings = DbSettings(datastore_config={"path": str(tmp_path / "a.db")})
    engine = settings.get_engine()
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert engine.pool.checkedin() == 1
    del settings
    gc.collect()
    assert engine.pool.checkedin() == 0


def test_get_engine_builds_sqlite_engines_like_create_database_engine(tmp_path: Path) -> None:
    engine = DbSettings(datastore_config={"path": str(tmp_path / "b.db")}).get_engine()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_get_engine_builds_anew_once_the_engine_is_reset_as_aanas_tests_do(
    db_engine: Engine,
) -> None:
    # The Aana SDK's own tests set `db_config._engine = None` to have the next call rebuild.
    settings = db_settings_for(db_engine.url)
    first = settings.get_engine()
    settings._engine = None
    second = settings.get_engine()
    assert second is not first
    assert settings.get_engine() is second
    with second.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.subprocesses
def test_get_engine_works_in_a_program_that_never_imported_aana_storage(tmp_path: Path) -> None:
    program = f"""
import sys
from aana.configs import DbSettings

assert not [name for name in sys.modules if name.startswith("aana.storage")]
engine = DbSettings(datastore_config={{"path": {str(tmp_path / "c.db")!r}}}).get_engine()
with engine.connect() as connection:
    print(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
"""
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"


def test_aana_configs_imports_nothing_of_the_layers_above() -> None:
    # get_engine() is handed its builder (aana/__init__.py): the settings import no engine.
    configs = Path(DbSettings.__module__.replace(".", "/")).parent
    root = Path(__file__).resolve().parent.parent
    upward = []
    for module in sorted((root / configs).glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            upward += [
                f"{module.name}: {name}"
                for name in names
                if name.startswith(("aana.storage", "aana.testing"))
            ]
    assert upward == []


# Read by key (item 3)


def test_datastore_config_reads_by_key_like_aanas_typed_dicts() -> None:
    sqlite = DbSettings(datastore_config={"path": "/tmp/a.db"})
    assert sqlite.datastore_config["path"] == Path("/tmp/a.db")
    assert sqlite.datastore_config["busy_timeout"] == 60.0
    assert sqlite.datastore_config.get("host", "none") == "none"
    assert "path" in sqlite.datastore_config
    postgres = DbSettings(
        datastore_type="postgresql",
        datastore_config={"host": "db", "port": 6543, "password": "pw"},
    )
    assert postgres.datastore_config["host"] == "db"
    assert postgres.datastore_config["port"] == 6543
    assert postgres.datastore_config["password"].get_secret_value() == "pw"
    with pytest.raises(KeyError, match="'hostname'"):
        postgres.datastore_config["hostname"]


# Validation on assignment (item 4)


def test_assigning_a_config_of_the_other_type_is_refused_naming_the_field(
    tmp_path: Path,
) -> None:
    sqlite = DbSettings(datastore_config={"path": str(tmp_path / "a.db")})
    with pytest.raises(ValidationError, match=r"datastore_config\n.*needs a SQLiteConfig"):
        sqlite.datastore_config = PostgreSQLConfig(host="db")
    assert sqlite.datastore_config == SQLiteConfig(path=tmp_path / "a.db")
    with pytest.raises(ValidationError, match=r"datastore_type\n.*needs a PostgreSQLConfig"):
        sqlite.datastore_type = DbType.POSTGRESQL
    assert sqlite.datastore_type is DbType.SQLITE
    postgres = DbSettings(datastore_type="postgresql", datastore_config={"host": "db"})
    with pytest.raises(ValidationError, match=r"datastore_config\n.*needs a PostgreSQLConfig"):
        postgres.datastore_config = SQLiteConfig(path=tmp_path / "a.db")
    assert isinstance(postgres.datastore_config, PostgreSQLConfig)
    with pytest.raises(ValidationError, match=r"datastore_config\.port"):
        postgres.datastore_config = {"host": "db", "port": 70000}  # type: ignore[assignment]
    postgres.datastore_config = {"host": "other"}  # type: ignore[assignment]
    assert postgres.datastore_config == PostgreSQLConfig(host="other")
    with pytest.raises(ValidationError, match="pool_size"):
        postgres.pool_size = 0


# from_url keeps or refuses every query parameter (issue 10, fault 7)


def test_from_url_reads_host_and_port_from_the_query() -> None:
    settings = DbSettings.from_url(
        "postgresql://u@/aana?host=/var/run/postgresql&port=55432&sslmode=require"
        "&application_name=worker&connect_timeout=3"
    )
    config = settings.datastore_config
    assert isinstance(config, PostgreSQLConfig)
    assert (config.host, config.port, config.database) == ("/var/run/postgresql", 55432, "aana")
    assert config.parameters == {"sslmode": "require", "application_name": "worker"}
    assert settings.connect_timeout == 3
    assert settings.url().translate_connect_args() == {"database": "aana", "username": "u"}
    assert dict(settings.url().query) == {
        "sslmode": "require",
        "application_name": "worker",
        "host": "/var/run/postgresql",
        "port": "55432",
    }


def test_the_test_plugin_keeps_the_query_of_its_server_url() -> None:
    settings = db_settings_for(
        make_url("postgresql://postgres@/aana_test?host=/tmp/pg&port=5433&sslmode=require")
    )
    assert settings.datastore_config == PostgreSQLConfig(
        host="/tmp/pg", port=5433, database="aana_test", parameters={"sslmode": "require"}
    )


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql://u@db/aana?sslmod=require", "'sslmod'"),
        ("postgresql://u@db:5432/aana?port=6543", "'port'"),
        ("postgresql://u@db/aana?port=5432,5433", "datastore_config.port"),
        ("postgresql://u@db/aana?sslmode=require&sslmode=disable", "'sslmode'"),
        ("sqlite:///a.db?mode=ro", "'mode'"),
        ("mysql://u@db/aana", "neither"),
    ],
)
def test_from_url_refuses_a_parameter_it_cannot_use_naming_it(url: str, named: str) -> None:
    with pytest.raises(DatabaseConfigError, match=named):
        DbSettings.from_url(url)


def test_from_url_passes_sqlite_timeout_as_the_busy_timeout(tmp_path: Path) -> None:
    settings = DbSettings.from_url(f"sqlite:///{tmp_path}/a.db?timeout=2.5")
    assert isinstance(settings.datastore_config, SQLiteConfig)
    assert settings.datastore_config.busy_timeout == 2.5


def test_sslmode_and_query_host_reach_the_driver(db_engine: Engine) -> None:
    only_on(db_engine, "postgresql")
    url = db_engine.url
    base = f"postgresql://{url.username}@/{url.database}?host={url.host}&port={url.port}"
    plain = DbSettings.from_url(f"{base}&sslmode=disable", connect_timeout=5).get_engine()
    with plain.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
        assert connection.connection.dbapi_connection.pgconn.ssl_in_use is False  # type: ignore[union-attr]
    with plain.connect() as connection:
        server_has_ssl = connection.execute(text("SHOW ssl")).scalar() == "on"
    required = DbSettings.from_url(f"{base}&sslmode=require", connect_timeout=5).get_engine()
    if server_has_ssl:
        with required.connect() as connection:
            assert connection.connection.dbapi_connection.pgconn.ssl_in_use is True  # type: ignore[union-attr]
    else:
        with pytest.raises(OperationalError, match="SSL"):
            required.connect()
    wrong_port = DbSettings.from_url(
        f"postgresql://{url.username}@/{url.database}?host={url.host}&port=1", connect_timeout=5
    ).get_engine()
    with pytest.raises(OperationalError, match="port 1"):
        wrong_port.connect()


# SQLite paths (issue 10, fault 9)


@pytest.mark.parametrize(
    "settings",
    [
        DbSettings(datastore_config={"path": ":memory:"}),
        DbSettings.from_url("sqlite:///:memory:"),
        DbSettings.from_url("sqlite://"),
    ],
    ids=["config", "url", "bare-url"],
)
def test_in_memory_sqlite_is_one_database_that_every_session_and_thread_shares(
    settings: DbSettings,
) -> None:
    engine = create_database_engine(settings)
    BaseEntity.metadata.create_all(engine)
    with Session(engine) as session:
        media_id = VideoRepository(session).save(Video(url="https://example.com/a.mp4"))["media_id"]

    def read_in_another_thread() -> str | None:
        with Session(engine) as session:
            return VideoRepository(session).read(media_id).url

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(read_in_another_thread).result() == "https://example.com/a.mp4"
    engine.dispose()


def test_home_in_a_sqlite_path_is_expanded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = DbSettings(datastore_config={"path": "~/aana.db"})
    assert settings.datastore_config["path"] == tmp_path / "aana.db"
    engine = create_database_engine(settings)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    assert (tmp_path / "aana.db").is_file()
    assert not Path("~").exists()


def test_every_sqlite_path_error_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatabaseConfigError, match=f"'{tmp_path}' is a directory"):
        create_database_engine(DbSettings(datastore_config={"path": str(tmp_path)}))
    with pytest.raises(DatabaseConfigError, match=f"'{tmp_path}' is a directory"):
        create_database_engine(DbSettings.from_url(f"sqlite:///{tmp_path}"))
    missing = tmp_path / "missing" / "a.db"
    with pytest.raises(DatabaseConfigError, match=str(missing)):
        create_database_engine(DbSettings(datastore_config={"path": str(missing)}))
    for empty in ("", "  "):
        with pytest.raises(ValidationError, match=r"datastore_config\.path\n.*path is empty"):
            DbSettings(datastore_config={"path": empty})
