"""Every public name of Aana SDK 0.2.4's aana.storage and aana.configs: here, or in the doc."""

import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from aana.storage.types import MediaIdSqlType, UtcDateTime, timestamp

# Listed from Aana SDK 0.2.4's modules: their classes, functions and module-level names.
AANA_SDK_0_2_4_NAMES = {
    "aana.configs": [
        "DbSettings",
        "DbType",
        "PostgreSQLConfig",
        "SQLiteConfig",
        "Settings",
        "TaskQueueSettings",
        "TestSettings",
    ],
    "aana.configs.db": ["DbSettings", "PostgreSQLConfig", "SQLiteConfig"],
    "aana.configs.settings": [
        "ApiServiceSettings",
        "Settings",
        "TaskQueueSettings",
        "TestSettings",
        "WebhookSettings",
        "settings",
    ],
    "aana.storage.models": [
        "BaseEntity",
        "CaptionEntity",
        "MediaEntity",
        "TaskEntity",
        "TranscriptEntity",
        "VideoEntity",
        "WebhookEntity",
    ],
    "aana.storage.models.api_key": ["ApiKeyEntity", "ApiServiceBase"],
    "aana.storage.models.base": [
        "BaseEntity",
        "InheritanceReuseMixin",
        "TimeStampEntity",
        "timestamp",
    ],
    "aana.storage.models.caption": ["CaptionEntity"],
    "aana.storage.models.media": ["MediaEntity"],
    "aana.storage.models.task": ["Status", "TaskEntity"],
    "aana.storage.models.transcript": ["TranscriptEntity"],
    "aana.storage.models.video": ["VideoEntity"],
    "aana.storage.models.webhook": ["WebhookEntity", "WebhookEventType"],
    "aana.storage.op": [
        "DbType",
        "create_database_engine",
        "create_postgresql_engine",
        "create_sqlite_engine",
        "drop_all_tables",
        "get_alembic_config",
        "run_alembic_migrations",
    ],
    "aana.storage.repository.base": ["BaseRepository"],
    "aana.storage.repository.caption": ["CaptionRepository"],
    "aana.storage.repository.media": ["MediaRepository"],
    "aana.storage.repository.task": ["TaskRepository"],
    "aana.storage.repository.transcript": ["TranscriptRepository"],
    "aana.storage.repository.video": ["VideoRepository"],
    "aana.storage.repository.webhook": ["WebhookRepository"],
    "aana.storage.session": ["GetDbDependency", "engine", "get_db", "get_session"],
    "aana.storage.types": ["MediaIdSqlType"],
    "aana.core.models.media": ["MediaId"],
    "aana.exceptions.runtime": ["InvalidWebhookEventType"],
}

# Names of the async Aana SDK (after 0.2.4) that its storage tests and apps use.
ASYNC_AANA_SDK_NAMES = {
    "aana.storage.op": ["DatabaseSessionManager"],
    "aana.storage.aio.session": ["GetDbDependency", "get_db", "get_session"],
    "aana.storage.aio.repository": ["WebhookRepository"],
}

COMPAT_DOC = Path(__file__).resolve().parents[1] / "docs" / "aana-compat.md"


def left_out() -> set[str]:
    section = COMPAT_DOC.read_text().split("Left out, each with the reason", 1)[1]
    section = section.split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`(aana\.[\w.]+)`", cell)}


def importable(module_name: str, name: str) -> bool:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return False
    return hasattr(module, name)


@pytest.mark.parametrize(
    "qualified",
    [f"{module}.{name}" for module, names in AANA_SDK_0_2_4_NAMES.items() for name in names],
)
def test_every_aana_sdk_name_is_importable_or_documented_as_left_out(qualified: str) -> None:
    module, _, name = qualified.rpartition(".")
    here = importable(module, name)
    documented = qualified in left_out()
    assert here != documented, (
        f"{qualified}: importable={here}, listed as left out in docs/aana-compat.md={documented}"
    )


def test_aanas_column_helpers_map_as_they_did() -> None:
    class Base(DeclarativeBase):
        pass

    class Clip(Base):
        __tablename__ = "clip"
        id: Mapped[str] = mapped_column(MediaIdSqlType, primary_key=True)
        seen_at: Mapped[timestamp]
        expires_at: Mapped[timestamp | None]

    columns = Clip.__table__.columns
    assert columns["id"].type.length == 36  # type: ignore[attr-defined]
    assert isinstance(columns["seen_at"].type, UtcDateTime)
    assert columns["seen_at"].nullable is False
    assert columns["expires_at"].nullable is True


def test_get_db_yields_a_working_session_and_closes_it(db_session: Session) -> None:
    from aana.storage.session import get_db

    dependency = get_db()
    session = next(dependency)
    assert session.execute(text("SELECT 1")).scalar() == 1
    with pytest.raises(StopIteration):
        next(dependency)


@pytest.mark.parametrize(
    "qualified",
    [f"{module}.{name}" for module, names in ASYNC_AANA_SDK_NAMES.items() for name in names],
)
def test_the_async_aana_sdks_session_names_are_importable(qualified: str) -> None:
    module, _, name = qualified.rpartition(".")
    assert importable(module, name), qualified
