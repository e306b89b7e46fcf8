"""Shared pieces of the transaction-rule tests (issue 10): engines, raw writes, checks."""

import datetime
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, String, cast, delete, func, insert, literal, select, update
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session
from transaction_workers import sqlite_engine_with_timeout, sqlite_write_lock_is_free

from aana.storage.models import BaseEntity, CaptionEntity, MediaEntity, TaskEntity, VideoEntity
from aana.storage.models.task import Status
from aana.storage.types import utc_now

TASKS = TaskEntity.__table__
MEDIA = MediaEntity.__table__
VIDEOS = VideoEntity.__table__
CAPTIONS = CaptionEntity.__table__


@contextmanager
def rule_engine(transactional_db_engine: Engine) -> Iterator[Engine]:
    """The test database, through an engine that cannot hang a failing test on a lock.

    SQLite: aana's engine with a 2-second busy timeout (the default 60 s would make every lock
    a fault leaves behind cost a minute). PostgreSQL: the fixture's engine.
    """
    if transactional_db_engine.dialect.name != "sqlite":
        yield transactional_db_engine
        return
    engine = sqlite_engine_with_timeout(str(transactional_db_engine.url.database))
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def emptied(engine: Engine) -> Iterator[None]:
    """Empty every table of aana's after the block, as if the database were new.

    Keys start again from 1, as in a new database. A test that left a transaction open
    fails here, within the lock timeout, instead of hanging.
    """
    try:
        yield
    finally:
        tables = [table.name for table in BaseEntity.metadata.sorted_tables]
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
                names = ", ".join(tables)
                connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            else:
                for name in reversed(tables):
                    connection.exec_driver_sql(f"DELETE FROM {name}")
                sequences = connection.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"
                ).scalar()
                if sequences:
                    connection.exec_driver_sql("DELETE FROM sqlite_sequence")


def connection_lost_exception(raised: BaseException | None = None) -> type[Exception]:
    """Return ``aana.exceptions.db.ConnectionLostException``; fail the test if it is missing."""
    from aana.exceptions import db

    lost = getattr(db, "ConnectionLostException", None)
    if lost is None:
        said = f" (the call raised {type(raised).__name__}: {raised})" if raised else ""
        pytest.fail(f"aana.exceptions.db.ConnectionLostException does not exist{said}")
    assert issubclass(lost, db.DatabaseException)
    return lost


# --- raw writes: Core, each in a committed transaction of its own ----------------------------


def raw_insert_video(engine: Engine, media_id: str, title: str | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(insert(MEDIA).values(id=media_id, media_type="video"))
        connection.execute(insert(VIDEOS).values(id=media_id, title=title))


def raw_set_title(engine: Engine, media_id: str, title: str | None) -> int:
    with engine.begin() as connection:
        return connection.execute(
            update(VIDEOS).where(VIDEOS.c.id == media_id).values(title=title)
        ).rowcount


def raw_delete_media(engine: Engine, media_id: str) -> int:
    """Delete a media row; its video row goes with it (ON DELETE CASCADE)."""
    with engine.begin() as connection:
        return connection.execute(delete(MEDIA).where(MEDIA.c.id == media_id)).rowcount


def raw_insert_caption(engine: Engine, model: str, frame_id: int, text: str = "raw") -> int:
    with engine.begin() as connection:
        connection.execute(
            insert(CAPTIONS).values(
                model=model, frame_id=frame_id, caption=text, timestamp=1.0, caption_type="caption"
            )
        )
        return int(connection.scalar(select(func.max(CAPTIONS.c.id))))


def raw_set_caption(engine: Engine, caption_id: int, text: str) -> int:
    with engine.begin() as connection:
        return connection.execute(
            update(CAPTIONS).where(CAPTIONS.c.id == caption_id).values(caption=text)
        ).rowcount


def raw_delete_caption(engine: Engine, caption_id: int) -> int:
    with engine.begin() as connection:
        return connection.execute(delete(CAPTIONS).where(CAPTIONS.c.id == caption_id)).rowcount


def raw_insert_task(
    engine: Engine,
    status: Status = Status.CREATED,
    priority: int = 0,
    num_retries: int = 0,
    result: Any = None,
    raw_result: str | None = None,
) -> uuid.UUID:
    """Insert a task with Core; ``raw_result`` is stored as JSON text exactly as given."""
    task_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(TASKS).values(
                id=task_id,
                endpoint="raw",
                data={"raw": True},
                status=status,
                priority=priority,
                progress=0.0,
                num_retries=num_retries,
                result=result,
            )
        )
        if raw_result is not None:
            value: Any = literal(raw_result, String())
            if engine.dialect.name == "postgresql":
                value = cast(value, JSON)
            connection.execute(update(TASKS).where(TASKS.c.id == task_id).values(result=value))
    return task_id


def raw_set_task(engine: Engine, task_id: uuid.UUID, **values: Any) -> int:
    with engine.begin() as connection:
        return connection.execute(
            update(TASKS).where(TASKS.c.id == task_id).values(**values)
        ).rowcount


def raw_age_task(engine: Engine, task_id: uuid.UUID, seconds: float) -> None:
    """Make a task look assigned and silent for ``seconds``."""
    past = utc_now() - datetime.timedelta(seconds=seconds)
    raw_set_task(engine, task_id, assigned_at=past, updated_at=past)


def raw_delete_task(engine: Engine, task_id: uuid.UUID) -> int:
    with engine.begin() as connection:
        return connection.execute(delete(TASKS).where(TASKS.c.id == task_id)).rowcount


def raw_task(engine: Engine, task_id: uuid.UUID) -> Any:
    with engine.connect() as connection:
        # Every column but the generated error_name, which is never read: SQLite decodes a
        # stored unpaired surrogate escape into text Python cannot decode.
        columns = [column for column in TASKS.c if column.key != "error_name"]
        return connection.execute(select(*columns).where(TASKS.c.id == task_id)).one_or_none()


def raw_media_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(MEDIA.c.id)))


def raw_task_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(TASKS)))


# --- checks -------------------------------------------------------------------------------------


def assert_nothing_held(session: Session, engine: Engine) -> None:
    """The session holds no transaction and, on SQLite, no lock another writer would wait for."""
    assert not session.in_transaction(), "the repository call left a transaction open"
    if engine.dialect.name == "sqlite":
        free, error = sqlite_write_lock_is_free(str(engine.url.database))
        assert free, f"another connection cannot take the write lock: {error}"


@contextmanager
def no_sa_warning() -> Iterator[list[warnings.WarningMessage]]:
    """Record SAWarnings in the block and fail if there was any."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    messages = [str(w.message) for w in caught if issubclass(w.category, SAWarning)]
    assert messages == [], messages
