"""`aana tasks prune`, run as a process on a database that commits for real."""

import datetime
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aana.storage.models import Status, TaskEntity
from aana.storage.repository import TaskRepository
from aana.storage.types import utc_now
from aana.testing.backends import db_settings_for

AANA = str(Path(sys.executable).with_name("aana"))
LONG_AGO = datetime.timedelta(days=40)

pytestmark = pytest.mark.subprocesses


def aana(
    engine: Engine, *args: str, stderr: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """Run ``aana tasks prune`` on ``engine``'s database; stderr to a pipe unless given."""
    env = {**os.environ, "DB_CONFIG": db_settings_for(engine.url).model_dump_json()}
    return subprocess.run(
        [AANA, "tasks", "prune", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=120,
        check=False,
    )


def seed(engine: Engine) -> None:
    """5 completed and 3 failed tasks finished 40 days ago; 2 recent; 2 running, old."""
    now = utc_now()
    kinds = [
        (5, Status.COMPLETED, now - LONG_AGO),
        (3, Status.FAILED, now - LONG_AGO),
        (2, Status.COMPLETED, now - datetime.timedelta(hours=1)),
        (2, Status.RUNNING, now - LONG_AGO),
    ]
    with Session(engine) as session:
        TaskRepository(session).create_multiple(
            TaskEntity(endpoint="/cli", data={}, status=status, completed_at=completed_at)
            for count, status, completed_at in kinds
            for _ in range(count)
        )


def counts(engine: Engine) -> dict[Status, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(TaskEntity.status, func.count()).group_by(TaskEntity.status)
        ).all()
    return {status: number for status, number in rows}


SEEDED = {Status.COMPLETED: 7, Status.FAILED: 3, Status.RUNNING: 2}


def test_a_dry_run_counts_and_deletes_nothing(transactional_db_engine: Engine) -> None:
    seed(transactional_db_engine)

    done = aana(transactional_db_engine, "--older-than", "30d", "--dry-run")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "Would delete 8 tasks (completed: 5, failed: 3) that finished more than 30d ago"
    )
    assert "nothing was deleted (dry run)" in done.stdout
    assert counts(transactional_db_engine) == SEEDED


def test_prune_deletes_old_finished_tasks_and_says_how_many(
    transactional_db_engine: Engine,
) -> None:
    seed(transactional_db_engine)

    done = aana(transactional_db_engine, "--older-than", "2w", "--batch-size", "2")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "Deleted 8 tasks (completed: 5, failed: 3) that finished more than 2w ago, before "
    )
    assert "Deleting tasks" not in done.stderr  # no progress bar when stderr is no terminal
    assert counts(transactional_db_engine) == {Status.COMPLETED: 2, Status.RUNNING: 2}


@pytest.mark.parametrize("statuses", [["--status", "failed"], ["--status", "failed,failed"]])
def test_prune_of_one_status(transactional_db_engine: Engine, statuses: list[str]) -> None:
    seed(transactional_db_engine)

    done = aana(transactional_db_engine, "--older-than", "720h", *statuses)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Deleted 3 tasks (failed: 3)")
    assert counts(transactional_db_engine) == {Status.COMPLETED: 7, Status.RUNNING: 2}


def test_a_terminal_gets_a_progress_bar(transactional_db_engine: Engine) -> None:
    seed(transactional_db_engine)
    controller, terminal = pty.openpty()
    try:
        done = aana(
            transactional_db_engine, "--older-than", "30d", "--batch-size", "3", stderr=terminal
        )
    finally:
        os.close(terminal)
    try:
        shown = os.read(controller, 65536).decode()
    finally:
        os.close(controller)

    assert done.returncode == 0
    assert "Deleting tasks" in shown
    assert "8/8" in shown
    assert done.stdout.startswith("Deleted 8 tasks")


@pytest.mark.parametrize(
    ("args", "option", "reason"),
    [
        (["--older-than", "0d"], "--older-than", "must be positive"),
        (["--older-than", "-5d"], "--older-than", "must be positive"),
        (["--older-than", "30 days"], "--older-than", "is not a duration"),
        (["--older-than", "30"], "--older-than", "is not a duration"),
        (["--older-than", "30d", "--status", "running"], "--status", "not finished"),
        (["--older-than", "30d", "--status", "completed,created"], "--status", "not finished"),
        (["--older-than", "30d", "--status", "done"], "--status", "unknown task status 'done'"),
        (["--older-than", "30d", "--batch-size", "0"], "--batch-size", "from 1 to"),
        (["--older-than", "30d", "--batch-size", "many"], "--batch-size", "not a valid integer"),
        ([], "--older-than", "Missing option"),
    ],
)
def test_bad_arguments_name_the_option_and_delete_nothing(
    transactional_db_engine: Engine, args: list[str], option: str, reason: str
) -> None:
    seed(transactional_db_engine)

    done = aana(transactional_db_engine, *args)

    assert done.returncode == 2
    assert option in done.stderr
    assert reason in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert counts(transactional_db_engine) == SEEDED


def test_a_database_never_migrated_is_named(aana_test_databases: object) -> None:
    from aana.testing.backends import TestDatabases

    assert isinstance(aana_test_databases, TestDatabases)
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    try:
        done = aana(engine, "--older-than", "30d")
    finally:
        aana_test_databases.drop(engine)

    assert done.returncode == 1
    assert "aana migrate" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_docs_pages_prune_commands_run_as_written(transactional_db_engine: Engine) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "databases.md").read_text()
    (block,) = [body for body in page.split("```bash\n")[1:] if body.startswith("aana tasks prune")]
    commands = block.split("```")[0].splitlines()
    assert len(commands) == 3
    seed(transactional_db_engine)
    outputs = []
    for command in commands:
        _aana, _tasks, _prune, *args = command.split()
        done = aana(transactional_db_engine, *args)
        assert done.returncode == 0, (command, done.stderr)
        outputs.append(done.stdout)

    assert outputs[0].startswith("Would delete 8 tasks (completed: 5, failed: 3)")
    assert outputs[1].startswith("Deleted 8 tasks (completed: 5, failed: 3)")
    assert outputs[2].startswith("Deleted 0 tasks (failed: 0)")
