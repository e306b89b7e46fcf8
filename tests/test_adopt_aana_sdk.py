"""Adopting databases aana did not create: Aana SDK 0.2.4's, and create_all's (issue 10, 8)."""

import base64
import datetime
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.util import CommandError
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from aana.core.models import Video
from aana.storage.migrations import check, current_revisions, upgrade
from aana.storage.migrations.aana_sdk_task_values import TaskValueReport, task_data
from aana.storage.migrations.adoption import AdoptionError
from aana.storage.models import BaseEntity, Status, WebhookEntity
from aana.storage.repository import (
    CaptionRepository,
    TaskRepository,
    TranscriptRepository,
    VideoRepository,
    WebhookRepository,
)
from aana.testing.backends import db_settings_for
from tests.aana_revisions import AANA_HEAD as HEAD
from tests.aana_revisions import AANA_REVISIONS
from tests.aana_sdk_0_2_4_database import T0, create_aana_sdk_database

AANA = str(Path(sys.executable).with_name("aana"))


def run_aana(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DB_CONFIG": db_settings_for(engine.url).model_dump_json()}
    return subprocess.run(
        [AANA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def schema_and_rows(engine: Engine) -> dict[str, object]:
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: (
                [column["name"] for column in inspector.get_columns(table)],
                sorted(map(str, connection.execute(text(f'SELECT * FROM "{table}"')).all())),
            )
            for table in sorted(inspector.get_table_names())
        }


@pytest.mark.subprocesses
def test_aana_migrate_adopts_an_aana_sdk_database_keeping_every_row(
    alembic_engine: Engine,
) -> None:
    rows = create_aana_sdk_database(alembic_engine)

    assert "Aana SDK database (revision acb40dabc2c0); adopt it" in check(alembic_engine).describe()
    result = run_aana(alembic_engine, "migrate")

    assert result.returncode == 0, result.stderr
    assert f"Migrated database from acb40dabc2c0 to {HEAD}." in result.stdout
    with alembic_engine.connect() as connection:
        assert current_revisions(connection) == (HEAD,)
    with Session(alembic_engine) as session:
        videos = VideoRepository(session)
        for index, media_id in enumerate(rows.video_ids):
            video = videos.read(media_id)
            assert video.url == f"https://example.com/{index}.mp4"
            assert video.title == f"Video {index}"
            assert video.path == (f"/data/{index}.mp4" if index else None)
            assert video.created_at == T0
    with Session(alembic_engine) as session:
        for caption_id, frame in ((1, 0), (2, 1), (3, 2)):
            caption = CaptionRepository(session).read(caption_id)
            assert (caption.frame_id, caption.caption, caption.timestamp) == (
                frame,
                f"A frame {frame}",
                frame * 0.5,
            )
        for transcript_id in (1, 2, 3):
            transcript = TranscriptRepository(session).read(transcript_id)
            assert transcript.transcript == f"Hello {transcript_id - 1}"
            assert transcript.segments[0]["time_interval"] == {"start": 0.0, "end": 1.5}
            assert transcript.language_confidence == 0.9
        tasks = TaskRepository(session)
        for task_id, expected in rows.tasks.items():
            task = tasks.read(task_id)
            assert task.status is Status(expected["status"])
            assert task.result == expected["result"]
            assert task.created_at.tzinfo is not None
            if task_id == rows.not_plain_task:
                kept = base64.b64decode(task.data["aana_sdk_pickle"])
                assert kept == expected["data"]
            else:
                assert task.data == expected["data"]
        assert tasks.count()["total"] == len(rows.tasks)
        assert len(tasks.get_tasks(user_id="user-1")) == 4  # indexes 1, 3, 5 and 7
    with Session(alembic_engine) as session:
        webhooks = WebhookRepository(session)
        webhook = webhooks.read(rows.webhook_id)
        assert (webhook.user_id, webhook.url, webhook.events) == (
            "u1",
            "https://hooks.example.com/aana",
            ["task.completed"],
        )
        assert webhooks.get_webhooks("u1", "task.completed") == [webhook]
        assert webhooks.get_webhooks("u1", "task.failed") == []
    with alembic_engine.connect() as connection:
        # Revision 0002's retry key, computed for the adopted rows: the failed task's error.
        keyed = connection.execute(
            text("SELECT status, error_name FROM tasks WHERE error_name IS NOT NULL")
        ).all()
        assert [tuple(row) for row in keyed] == [("failed", "Timeout")]

    drift = check(alembic_engine)
    assert drift.ok, drift.describe()
    again = run_aana(alembic_engine, "migrate")
    assert f"Database already at head ({HEAD}); nothing to do." in again.stdout


def test_adopted_database_takes_new_rows_and_cascades_deletes(alembic_engine: Engine) -> None:
    rows = create_aana_sdk_database(alembic_engine)
    upgrade(alembic_engine)
    with Session(alembic_engine) as session:
        TaskRepository(session).save(endpoint="/next", data={"n": 1})
        VideoRepository(session).delete(rows.video_ids[0])
        session.commit()
    with alembic_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM video")) == 2
        assert connection.scalar(text("SELECT count(*) FROM tasks")) == len(rows.tasks) + 1


def test_an_adopted_databases_webhooks_take_new_rows(alembic_engine: Engine) -> None:
    rows = create_aana_sdk_database(alembic_engine)
    upgrade(alembic_engine)
    with Session(alembic_engine) as session:
        webhooks = WebhookRepository(session)
        system = webhooks.save(
            WebhookEntity(user_id=None, url="https://ops.example.com", events=None)
        )
        assert [hook.id for hook in webhooks.get_webhooks("u1")] == [rows.webhook_id]
        assert webhooks.get_webhooks(None, "task.failed") == [system]
        assert webhooks.delete(str(rows.webhook_id)).url == "https://hooks.example.com/aana"
        assert webhooks.get_webhooks("u1") == []


def test_a_webhooks_table_that_is_not_aanas_is_refused_and_left_alone(
    alembic_engine: Engine,
) -> None:
    # A database migrated before aana mapped webhooks, where an app made a table of that name.
    before_webhooks = AANA_REVISIONS[AANA_REVISIONS.index("0004_webhooks") - 1]
    upgrade(alembic_engine, revision=before_webhooks)
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("CREATE TABLE webhooks (id INTEGER PRIMARY KEY, target TEXT)"))
        connection.execute(text("INSERT INTO webhooks (id, target) VALUES (1, 'https://x')"))
    with pytest.raises(
        CommandError, match=r"table webhooks that is not Aana SDK 0\.2\.4's"
    ) as refused:
        upgrade(alembic_engine)
    assert "missing columns: created_at, events, updated_at, url, user_id" in str(refused.value)
    assert "other columns: target" in str(refused.value)
    with alembic_engine.connect() as connection:
        assert connection.execute(text("SELECT id, target FROM webhooks")).all() == [
            (1, "https://x")
        ]
        assert current_revisions(connection) == (before_webhooks,)


def test_an_older_aana_sdk_revision_is_refused_and_left_alone(alembic_engine: Engine) -> None:
    create_aana_sdk_database(alembic_engine, revision="d40eba8ebc4c")
    before = schema_and_rows(alembic_engine)
    with pytest.raises(AdoptionError, match=r"d40eba8ebc4c, not Aana SDK 0\.2\.4's last one"):
        upgrade(alembic_engine)
    assert schema_and_rows(alembic_engine) == before


@pytest.mark.subprocesses
def test_an_aana_sdk_database_that_differs_from_its_head_is_refused_naming_the_difference(
    alembic_engine: Engine,
) -> None:
    create_aana_sdk_database(alembic_engine)
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("DROP INDEX ix_tasks_user_id"))
        connection.execute(text("ALTER TABLE video ADD COLUMN rating INTEGER"))
    before = schema_and_rows(alembic_engine)
    result = run_aana(alembic_engine, "migrate")
    assert result.returncode == 1
    assert "its schema is not the one that revision leaves" in result.stderr
    assert "add_index ix_tasks_user_id" in result.stderr
    assert "remove_column video rating" in result.stderr
    assert "Traceback" not in result.stderr
    assert schema_and_rows(alembic_engine) == before


def test_rows_aanas_schema_refuses_are_named_and_nothing_changes(alembic_engine: Engine) -> None:
    create_aana_sdk_database(alembic_engine)
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("UPDATE caption SET frame_id = -1 WHERE id = 2"))
        connection.execute(text("UPDATE media SET media_type = :long"), {"long": "v" * 51})
        connection.execute(
            text("INSERT INTO media (id, media_type) VALUES ('clip 1.mp4', 'media')")
        )
    before = schema_and_rows(alembic_engine)
    with pytest.raises(AdoptionError) as refused:
        upgrade(alembic_engine)
    assert "media.media_type: 3 row(s) longer than 50 characters" in str(refused.value)
    assert "media.id: 1 id(s) with characters other than" in str(refused.value)
    assert "'clip 1.mp4'" in str(refused.value)
    assert "caption: 1 row(s) break ck_caption_frame_id_non_negative" in str(refused.value)
    assert schema_and_rows(alembic_engine) == before


def test_task_data_pickles_are_never_loaded_beyond_plain_data() -> None:
    calls: list[str] = []

    class Hostile:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (calls.append, ("ran",))

    report = TaskValueReport()
    hostile = pickle.dumps({"x": Hostile()})
    assert task_data("t1", hostile, report) == {
        "aana_sdk_pickle": base64.b64encode(hostile).decode()
    }
    assert calls == []
    when = pickle.dumps({"at": datetime.datetime(2025, 1, 1)})
    assert "aana_sdk_pickle" in task_data("t2", when, report)
    assert task_data("t3", pickle.dumps({"a": (1, 2.5, None)}), report) == {"a": [1, 2.5, None]}
    assert "aana_sdk_pickle" in task_data("t4", pickle.dumps({"a": float("nan")}), report)
    assert "aana_sdk_pickle" in task_data("t5", b"not a pickle", report)
    assert report.pickles == ["t1", "t2", "t4", "t5"]
    assert report.tuples == ["t3"]


# A database made by create_all (issue 10, fault 8)


@pytest.mark.subprocesses
def test_aana_migrate_on_a_create_all_database_says_so_in_one_message(
    alembic_engine: Engine,
) -> None:
    BaseEntity.metadata.create_all(alembic_engine)
    result = run_aana(alembic_engine, "migrate")
    assert result.returncode == 1
    # The line naming the database, then the one message.
    database, error = result.stderr.splitlines()
    assert database.startswith("Database: "), result.stderr
    assert "no migration history" in error
    assert "aana migrate --adopt-unversioned" in result.stderr
    with alembic_engine.connect() as connection:
        assert current_revisions(connection) == ()


@pytest.mark.subprocesses
def test_adopt_unversioned_records_a_matching_create_all_database_at_head(
    alembic_engine: Engine,
) -> None:
    BaseEntity.metadata.create_all(alembic_engine)
    with Session(alembic_engine) as session:
        media_id = VideoRepository(session).save(Video(url="https://example.com/kept.mp4"))[
            "media_id"
        ]
    result = run_aana(alembic_engine, "migrate", "--adopt-unversioned")
    assert result.returncode == 0, result.stderr
    assert f"Migrated database from empty database to {HEAD}." in result.stdout
    assert check(alembic_engine).ok
    with Session(alembic_engine) as session:
        assert VideoRepository(session).read(media_id).url == "https://example.com/kept.mp4"
    assert "nothing to do" in run_aana(alembic_engine, "migrate").stdout


@pytest.mark.subprocesses
def test_adopt_unversioned_refuses_a_database_that_differs_from_the_models(
    alembic_engine: Engine,
) -> None:
    BaseEntity.metadata.create_all(alembic_engine)
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("ALTER TABLE video ADD COLUMN rating INTEGER"))
    result = run_aana(alembic_engine, "migrate", "--adopt-unversioned")
    assert result.returncode == 1
    assert "differs from the models" in result.stderr
    assert "video rating" in result.stderr
    with alembic_engine.connect() as connection:
        assert current_revisions(connection) == ()
