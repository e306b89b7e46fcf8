"""The async Aana SDK's session API: DatabaseSessionManager, settings, API keys, asyncpg.

The tests on PostgreSQL run on both async drivers, psycopg and asyncpg.
"""

import importlib.util
import json
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session

import aana.configs.settings as settings_module
from aana.configs import DbSettings, Settings
from aana.configs.settings import ApiServiceSettings, load_settings
from aana.core.models import Video
from aana.exceptions.db import CheckViolation, DatabaseConfigError, MediaIdAlreadyExistsException
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.aio.repository import (
    CaptionRepository,
    TaskRepository,
    VideoRepository,
    WebhookRepository,
)
from aana.storage.models import TaskEntity, WebhookEntity
from aana.storage.models.api_key import ApiKeyEntity, ApiServiceBase
from aana.storage.op import DatabaseSessionManager
from aana.testing.backends import db_settings_for


@pytest.fixture(params=["psycopg", "asyncpg"])
def app_settings(request: pytest.FixtureRequest, transactional_db_engine: Engine) -> Settings:
    """Settings naming a committing test database, with the async driver of the parameter."""
    db_config = db_settings_for(transactional_db_engine.url)
    if transactional_db_engine.dialect.name == "sqlite":
        if request.param == "asyncpg":
            pytest.skip("asyncpg is a PostgreSQL driver; SQLite's async driver is aiosqlite")
    else:
        db_config.datastore_config.async_driver = request.param  # type: ignore[union-attr]
    return Settings(db_config=db_config)


def expected_driver(settings: Settings) -> str:
    config = settings.db_config.datastore_config
    if settings.db_config.datastore_type == "sqlite":
        return "sqlite+aiosqlite"
    return f"postgresql+{config.async_driver}"  # type: ignore[union-attr]


async def test_sessions_write_and_read_through_aanas_repositories(app_settings: Settings) -> None:
    manager = DatabaseSessionManager(app_settings)
    assert str(manager._engine.url).startswith(f"{expected_driver(app_settings)}://")  # type: ignore[union-attr]
    try:
        async with manager.session() as session:
            task = await TaskRepository(session).save(endpoint="/e", data={"n": [1, 2]})
            hook = await WebhookRepository(session).save(
                WebhookEntity(user_id="u", url="https://h.example", events=None)
            )
        async with manager.session() as session:
            assert (await TaskRepository(session).read(task.id)).data == {"n": [1, 2]}
            found = await WebhookRepository(session).get_webhooks("u", "task.failed")
            assert [webhook.id for webhook in found] == [hook.id]
    finally:
        await manager.close()


async def test_constraint_violations_name_table_and_constraint_on_either_driver(
    app_settings: Settings,
) -> None:
    manager = DatabaseSessionManager(app_settings)
    try:
        async with manager.session() as session:
            videos = VideoRepository(session)
            await videos.save(Video(media_id="taken-id", url="https://v.example/1.mp4"))
            with pytest.raises(MediaIdAlreadyExistsException):
                await videos.save(Video(media_id="taken-id", url="https://v.example/2.mp4"))
            captions = CaptionRepository(session)
            with pytest.raises(CheckViolation) as refused:
                await captions.save("m", "a cat", timestamp=0.5, frame_id=-1)
            assert refused.value.table_name == "caption"
            assert refused.value.constraint_name == "ck_caption_frame_id_non_negative"
            saved = await captions.save("m", "a cat", timestamp=0.5, frame_id=1)
            assert saved.id is not None
    finally:
        await manager.close()


async def test_connect_commits_the_block_or_rolls_it_back(app_settings: Settings) -> None:
    manager = DatabaseSessionManager(app_settings)
    insert = text("INSERT INTO media (id, media_type) VALUES (:id, 'media')")
    try:
        async with manager.connect() as connection:
            await connection.execute(insert, {"id": "kept"})
        with pytest.raises(ZeroDivisionError):
            async with manager.connect() as connection:
                await connection.execute(insert, {"id": "dropped"})
                1 / 0  # noqa: B018
        async with manager.connect() as connection:
            ids = (await connection.scalars(text("SELECT id FROM media ORDER BY id"))).all()
        assert ids == ["kept"]
    finally:
        await manager.close()


async def test_a_closed_manager_refuses_use_and_closing_twice_is_harmless(
    app_settings: Settings,
) -> None:
    manager = DatabaseSessionManager(app_settings)
    async with manager.session() as session:
        assert await session.scalar(text("SELECT 1")) == 1
    engine = manager._engine
    assert engine is not None
    await manager.close()
    await manager.close()
    assert engine.sync_engine.pool.checkedin() == 0
    with pytest.raises(RuntimeError, match="DatabaseSessionManager is closed"):
        async with manager.session():
            pass
    with pytest.raises(RuntimeError, match="DatabaseSessionManager is closed"):
        async with manager.connect():
            pass


async def test_with_the_api_service_api_keys_go_to_their_own_database(
    app_settings: Settings, tmp_path: Path
) -> None:
    api_db = DbSettings(datastore_config={"path": str(tmp_path / "api_service.db")})
    # The documented way of creating the API service's database, as Aana SDK 0.2.4 does.
    ApiServiceBase.metadata.create_all(api_db.get_engine())
    settings = app_settings.model_copy(
        update={"api_service": ApiServiceSettings(enabled=True), "api_service_db_config": api_db}
    )
    manager = DatabaseSessionManager(settings)
    expires = datetime.now(UTC) + timedelta(days=30)
    try:
        async with manager.session() as session:
            session.add(
                ApiKeyEntity(
                    key_id="k1",
                    user_id="u1",
                    api_key="secret-key",
                    subscription_id="s1",
                    expired_at=expires,
                )
            )
            session.add(TaskEntity(endpoint="/e", data={}, user_id="u1"))
            await session.commit()
        async with manager.session() as session:
            key = await session.scalar(select(ApiKeyEntity))
            assert key is not None
            assert (key.is_subscription_active, key.is_admin, key.expired_at) == (
                True,
                False,
                expires,
            )
            assert await session.scalar(select(func.count()).select_from(TaskEntity)) == 1
    finally:
        await manager.close()
    with api_db.get_engine().connect() as connection:
        assert inspect(connection).get_table_names() == ["api_keys"]
    app_engine = settings.db_config.get_engine()
    with app_engine.connect() as connection:
        assert "api_keys" not in inspect(connection).get_table_names()


def test_api_keys_keep_their_secrets_out_of_reprs() -> None:
    key = ApiKeyEntity(
        id=1,
        key_id="k1",
        user_id="u1",
        api_key="sk-live-123",
        subscription_id="s1",
        is_subscription_active=True,
        is_admin=False,
        hmac_secret="hmac-456",
        expired_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    model = key.to_model()
    assert (model.api_key, model.hmac_secret, model.user_id) == ("sk-live-123", "hmac-456", "u1")
    for shown in (repr(key), repr(model), str(model)):
        assert "sk-live-123" not in shown and "hmac-456" not in shown
    assert "u1" in repr(key)


def test_api_keys_are_not_in_aanas_metadata_and_keep_utc_timestamps() -> None:
    from aana.storage.models import BaseEntity
    from aana.storage.types import UtcDateTime

    assert "api_keys" not in BaseEntity.metadata.tables
    columns = ApiKeyEntity.__table__.columns
    for name in ("created_at", "updated_at", "expired_at"):
        assert isinstance(columns[name].type, UtcDateTime), name


def test_settings_is_one_object_read_from_the_environment_on_first_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delattr(settings_module, "settings", raising=False)
    app_db = {"datastore_type": "sqlite", "datastore_config": {"path": str(tmp_path / "a.db")}}
    api_db = {"datastore_type": "sqlite", "datastore_config": {"path": str(tmp_path / "k.db")}}
    monkeypatch.setenv("DB_CONFIG", json.dumps(app_db))
    monkeypatch.setenv("API_SERVICE_DB_CONFIG", json.dumps(api_db))
    monkeypatch.setenv("API_SERVICE__ENABLED", "true")
    monkeypatch.setenv("API_SERVICE__LAGO_URL", "http://billing.example")
    from aana.configs.settings import settings

    assert settings.db_config.datastore_config["path"] == tmp_path / "a.db"
    assert settings.api_service_db_config.datastore_config["path"] == tmp_path / "k.db"
    assert settings.api_service.enabled is True
    monkeypatch.setenv("DB_CONFIG", json.dumps({"datastore_type": "sqlite"}))
    from aana.configs.settings import settings as again

    assert again is settings
    assert load_settings().db_config.datastore_config["path"] == Path("/var/lib/aana_data")


def test_get_db_dependency_is_fastapis_annotated_session() -> None:
    pytest.importorskip("fastapi")
    from sqlalchemy.ext.asyncio import AsyncSession

    from aana.storage import session as sync_session
    from aana.storage.aio import session as async_session

    for module, session_class in ((sync_session, Session), (async_session, AsyncSession)):
        annotated, dependency = typing.get_args(module.GetDbDependency)
        assert annotated is session_class
        assert dependency.dependency is module.get_db


def test_asyncpg_refuses_a_libpq_parameter_it_has_no_equivalent_of() -> None:
    settings = DbSettings.from_url(
        "postgresql://u@db/aana?sslmode=require&application_name=w&sslrootcert=/ca.pem"
    )
    settings.datastore_config.async_driver = "asyncpg"  # type: ignore[union-attr]
    with pytest.raises(DatabaseConfigError, match="'sslrootcert' has no asyncpg equivalent"):
        create_async_database_engine(settings)
    settings.datastore_config.parameters = {"sslmode": "require", "application_name": "w"}  # type: ignore[union-attr]
    engine = create_async_database_engine(settings)
    assert engine.url.drivername == "postgresql+asyncpg"
    assert dict(engine.url.query) == {}


def test_asyncpg_not_installed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = DbSettings.from_url("postgresql://u@db/aana")
    settings.datastore_config.async_driver = "asyncpg"  # type: ignore[union-attr]
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a)
    )
    with pytest.raises(DatabaseConfigError, match=r"pip install 'aana-storage\[asyncpg\]'"):
        create_async_database_engine(settings)


def test_an_unknown_async_driver_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"datastore_config\.async_driver"):
        DbSettings(
            datastore_type="postgresql",
            datastore_config={"host": "db", "async_driver": "aiopg"},
        )


def test_sqlite_urls_render_as_aanas(tmp_path: Path) -> None:
    settings = DbSettings(datastore_config={"path": str(tmp_path / "x.db")})
    assert str(settings.get_engine().url) == f"sqlite:///{tmp_path / 'x.db'}"
    assert settings.get_engine().dialect.driver == "pysqlite"
