"""Migrations: head matches the models, down and up again, and `aana migrate` from the CLI."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, func, inspect, select, table, text
from sqlalchemy.orm import Session

from aana.cli import cli
from aana.configs import Settings
from aana.exceptions.db import DowngradeWouldDropData
from aana.sdk import AanaSDK
from aana.storage.migrations import current_revisions, downgrade, pending_revisions, upgrade
from aana.storage.models import BaseEntity, MediaEntity
from aana.storage.repository import MediaRepository, TaskRepository
from aana.testing.backends import db_settings_for
from tests.aana_revisions import AANA_HEAD as HEAD
from tests.aana_revisions import AANA_REVISIONS

TABLES = {"alembic_version", "caption", "media", "tasks", "transcript", "video", "webhooks"}
AANA = str(Path(sys.executable).with_name("aana"))


def db_config(engine: Engine) -> str:
    # Test servers use trust authentication, so the masked password in the dump is never needed.
    return db_settings_for(engine.url).model_dump_json()


def run_aana(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DB_CONFIG": db_config(engine)}
    return subprocess.run(
        [AANA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def enum_types(engine: Engine) -> list[str]:
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT typname FROM pg_type WHERE typtype = 'e'")))


def test_head_matches_the_models_down_to_nothing_and_up_again(alembic_engine: Engine) -> None:
    assert pending_revisions(alembic_engine) == AANA_REVISIONS
    result = upgrade(alembic_engine)
    assert (result.before, result.after) == ((), (HEAD,))
    with alembic_engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == TABLES
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, BaseEntity.metadata) == []
    assert pending_revisions(alembic_engine) == []

    assert downgrade(alembic_engine).after == ()
    with alembic_engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    assert enum_types(alembic_engine) == []

    assert upgrade(alembic_engine).after == (HEAD,)


def test_check_constraints_are_in_the_migrated_schema(alembic_engine: Engine) -> None:
    upgrade(alembic_engine)
    with alembic_engine.connect() as connection:
        names = {
            constraint["name"]
            for table in ("caption", "transcript")
            for constraint in inspect(connection).get_check_constraints(table)
        }
    assert names == {
        "ck_caption_frame_id_non_negative",
        "ck_caption_timestamp_non_negative",
        "ck_transcript_language_confidence_range",
    }


@pytest.mark.subprocesses
def test_aana_migrate_says_what_it_did_and_a_second_run_is_a_no_op(
    alembic_engine: Engine,
) -> None:
    first = run_aana(alembic_engine, "migrate")
    assert first.returncode == 0, first.stderr
    assert f"Migrated database from empty database to {HEAD}." in first.stdout
    second = run_aana(alembic_engine, "migrate")
    assert second.returncode == 0, second.stderr
    assert f"Database already at head ({HEAD}); nothing to do." in second.stdout


@pytest.mark.subprocesses
def test_two_migrate_processes_started_together_both_succeed(alembic_engine: Engine) -> None:
    env = {**os.environ, "DB_CONFIG": db_config(alembic_engine)}
    processes = [
        subprocess.Popen(
            [AANA, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    said = sorted(stdout.strip() for stdout, _ in outputs)
    assert said == [
        f"Database already at head ({HEAD}); nothing to do.",
        f"Migrated database from empty database to {HEAD}.",
    ]
    with alembic_engine.connect() as connection:
        assert current_revisions(connection) == (HEAD,)


def test_sdk_migrate_applies_the_same_migrations(alembic_engine: Engine) -> None:
    settings = Settings(db_config=db_settings_for(alembic_engine.url))
    result = AanaSDK(name="test_app").migrate(settings)
    assert result.after == (HEAD,)
    assert not AanaSDK(name="test_app").migrate(settings).changed


@pytest.mark.subprocesses
def test_cli_help_lists_migrate() -> None:
    result = subprocess.run([AANA, "--help"], capture_output=True, text=True, check=True)
    assert "migrate" in result.stdout


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("not json", "DB_CONFIG is not valid JSON"),
        ('{"datastore_type": "oracle"}', "invalid DB_CONFIG: datastore_type: Input should be"),
        ('{"datastore_type": "postgresql", "datastore_config": {}}', "datastore_config.host"),
    ],
)
@pytest.mark.subprocesses
def test_cli_names_the_bad_setting(config: str, expected: str) -> None:
    env = {**os.environ, "DB_CONFIG": config}
    result = subprocess.run([AANA, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.subprocesses
def test_cli_hides_the_password_when_the_server_is_unreachable() -> None:
    secret = "hunter2-secret"
    config = {
        "datastore_type": "postgresql",
        "datastore_config": {"host": "127.0.0.1", "port": 1, "password": secret},
        "connect_timeout": 2,
    }
    env = {**os.environ, "DB_CONFIG": json.dumps(config)}
    result = subprocess.run([AANA, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "127.0.0.1" in result.stderr
    assert secret not in result.stdout + result.stderr


@pytest.mark.subprocesses
def test_alembic_from_the_repository_root_sees_no_pending_model_changes(
    alembic_engine: Engine,
) -> None:
    # The spec page tells developers to run `alembic revision --autogenerate` from the root:
    # the root alembic.ini must find aana's environment and compare against DB_CONFIG.
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DB_CONFIG": db_config(alembic_engine)}
    alembic = str(Path(sys.executable).with_name("alembic"))
    upgraded = subprocess.run(
        [alembic, "upgrade", "heads"], cwd=root, env=env, capture_output=True, text=True
    )
    assert upgraded.returncode == 0, upgraded.stderr
    checked = subprocess.run([alembic, "check"], cwd=root, env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_migrate_refuses_the_in_memory_database_that_would_vanish() -> None:
    config = '{"datastore_type": "sqlite", "datastore_config": {"path": ":memory:"}}'
    result = CliRunner().invoke(cli, ["migrate"], env={"DB_CONFIG": config})
    assert result.exit_code == 2
    assert "':memory:', which is gone when aana migrate exits" in result.output


def test_0002_backfills_the_retry_key_and_the_attempt_and_goes_back(
    alembic_engine: Engine,
) -> None:
    upgrade(alembic_engine, revision="0001_initial")
    rows = {
        "retryable": ("failed", '{"error": "InferenceException"}', 2),
        "not a string": ("failed", '{"error": true}', 1),
        "unreadable": ("failed", '{"error": "Boom", "note": "\\u0000"}', 1),
        "surrogate": ("failed", '{"error": "\\ud800"}', 1),
        "not failed": ("completed", '{"error": "InferenceException"}', 1),
        "no result": ("created", None, 0),
    }
    with alembic_engine.begin() as connection:
        for name, (status, result, retries) in rows.items():
            connection.execute(
                text(
                    "INSERT INTO tasks (id, endpoint, data, status, priority, progress, "
                    "result, num_retries, user_id, created_at, updated_at) VALUES (:id, '/e', "
                    "'{}', :status, 0, 0, :result, :retries, :name, :now, :now)"
                ),
                {
                    "id": uuid.uuid4().hex,
                    "status": status,
                    "result": result,
                    "retries": retries,
                    "name": name,
                    "now": "2026-01-01 00:00:00",
                },
            )

    assert upgrade(alembic_engine).after == (HEAD,)
    with alembic_engine.connect() as connection:
        found = {
            user: (named, attempt)
            for user, named, attempt in connection.execute(
                text("SELECT user_id, error_name = 'InferenceException', attempt FROM tasks")
            )
        }
        named = set(
            connection.scalars(text("SELECT user_id FROM tasks WHERE error_name IS NOT NULL"))
        )
    # PostgreSQL cannot read JSON holding \u0000 or an unpaired surrogate, so those rows get no
    # key (and are never retried); SQLite reads them, as the claim did before 0002.
    unreadable_on_postgres = {"unreadable", "surrogate"}
    if alembic_engine.dialect.name == "postgresql":
        assert named == {"retryable"}
    else:
        assert named == {"retryable", *unreadable_on_postgres}
    assert found["retryable"] == (True, 2)
    assert found["no result"][1] == 0
    with Session(alembic_engine) as session:
        claimed = TaskRepository(session).fetch_unprocessed_tasks(
            max_retries=3, retryable_exceptions=["InferenceException", "Boom"]
        )
        expected = {"retryable", "no result"}
        if alembic_engine.dialect.name == "sqlite":
            expected.add("unreadable")  # its error, "Boom", is retryable
        assert {task.user_id for task in claimed} == expected

    assert downgrade(alembic_engine, revision="0001_initial").after == ("0001_initial",)
    with alembic_engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("tasks")}
        indexes = {index["name"] for index in inspect(connection).get_indexes("tasks")}
    assert not {"attempt", "error_name"} & columns
    assert indexes == {"ix_tasks_status", "ix_tasks_user_id"}


def table_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names()) - {"alembic_version"}
        return {
            name: connection.scalar(select(func.count()).select_from(table(name)))
            for name in sorted(names)
        }


@pytest.mark.subprocesses
def test_a_downgrade_that_would_drop_rows_names_them_and_needs_drop_data(
    alembic_engine: Engine,
) -> None:
    upgrade(alembic_engine)
    with Session(alembic_engine) as session:
        MediaRepository(session).create_multiple([MediaEntity(id="m1"), MediaEntity(id="m2")])
        TaskRepository(session).save("/e", {})
    stored = table_rows(alembic_engine)
    assert stored["media"] == 2 and stored["tasks"] == 1

    refused = run_aana(alembic_engine, "downgrade", "--to", "base")
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    assert (
        "would drop 2 table(s) holding 3 row(s): media (2 rows), tasks (1 row); nothing was "
        "changed" in refused.stderr
    )
    assert "--drop-data" in refused.stderr
    with alembic_engine.connect() as connection:
        assert current_revisions(connection) == (HEAD,)
    assert table_rows(alembic_engine) == stored  # every table, every row
    with pytest.raises(DowngradeWouldDropData) as raised:
        AanaSDK().downgrade("base", Settings(db_config=db_settings_for(alembic_engine.url)))
    assert raised.value.tables == {"media": 2, "tasks": 1}
    assert table_rows(alembic_engine) == stored

    done = run_aana(alembic_engine, "downgrade", "--to", "base", "--drop-data")
    assert done.returncode == 0, done.stderr
    assert "Dropped 6 table(s): caption (0 rows), media (2 rows), tasks (1 row)" in done.stdout
    assert table_rows(alembic_engine) == {}


@pytest.mark.subprocesses
def test_a_downgrade_that_drops_only_empty_tables_needs_no_flag_and_says_so(
    alembic_engine: Engine,
) -> None:
    upgrade(alembic_engine)
    done = run_aana(alembic_engine, "downgrade", "--to", "base")
    assert done.returncode == 0, done.stderr
    assert "Dropped 6 table(s): caption (0 rows), media (0 rows)" in done.stdout
    assert table_rows(alembic_engine) == {}
