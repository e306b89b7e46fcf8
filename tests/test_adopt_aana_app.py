"""Adopting an Aana app's database, its own tables included (issue 21, items 6 and 7).

The databases are the ones the real Aana SDK 0.2.4 made (``tests/data``): Aana's tables, the
docs' ``extended_video`` made by ``create_all`` or by the app's own revision stacked on
Aana's, and rows in every table. The app is a copy of ``examples/video_app``, only ever
imported by ``aana`` subprocesses (see ``tests/test_extending.py``).
"""

import base64
import hashlib
import json
import pickle
import shutil
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from aana.storage.migrations import current_revisions, upgrade
from aana.storage.migrations.failures import MigrationLockTimeout
from aana.storage.models import Status
from aana.storage.repository import TaskRepository
from tests.aana_revisions import AANA_HEAD
from tests.aana_sdk_app_database import (
    APP_REVISION,
    LAYOUTS,
    load_aana_sdk_app,
    sqlite_file,
    task_ids,
)
from tests.app_lineage import lineage_config
from tests.test_adopt_aana_sdk import run_aana, schema_and_rows
from tests.test_extending import APP_SPEC, aana_cli, copy_app

APP_HEAD = "e728f0de584c"

LATER_REVISION = '''"""Add extended_video.rating: a revision the app wrote after moving to aana."""

import sqlalchemy as sa
from alembic import op

revision = "f00d0000a001"
down_revision = "e728f0de584c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("extended_video") as batch:
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True, comment="Rating"))


def downgrade() -> None:
    with op.batch_alter_table("extended_video") as batch:
        batch.drop_column("rating")
'''

RATING = """
    rating: Mapped[int | None] = mapped_column(comment="Rating")
"""


def extended_videos(engine: Engine) -> list[tuple[str, float, str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT e.id, e.duration, e.status, v.url, m.media_type FROM extended_video e "
                "JOIN video v ON v.id = e.id JOIN media m ON m.id = e.id ORDER BY e.id"
            )
        ).all()
    return [tuple(row) for row in rows]


def stored_revisions(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        return current_revisions(connection)


@pytest.mark.subprocesses
@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_aana_apps_database_is_adopted_with_its_own_tables(
    alembic_engine: Engine, tmp_path: Path, layout: str
) -> None:
    written = load_aana_sdk_app(alembic_engine, layout)
    app = copy_app(tmp_path)
    before = schema_and_rows(alembic_engine)

    # Without --adopt: refused, saying what to do, with nothing changed.
    plain = aana_cli("migrate", APP_SPEC, app=app, engine=alembic_engine)
    assert plain.returncode == 1
    assert "--adopt" in plain.stderr
    for wrong in ("cannot reach the database", "an app's revision?", "Traceback"):
        assert wrong not in plain.stderr, plain.stderr
    assert schema_and_rows(alembic_engine) == before

    adopted = aana_cli("migrate", APP_SPEC, "--adopt", app=app, engine=alembic_engine)
    assert adopted.returncode == 0, adopted.stderr
    source = "acb40dabc2c0" if layout == "create_all" else APP_REVISION
    assert f"Migrated database from {source} to {APP_HEAD}." in adopted.stdout
    assert f"The app's tables (extended_video) match its revision {APP_HEAD}: recorded there." in (
        adopted.stdout
    )
    if layout == "revisions":
        assert f"The app's own revision(s) {APP_REVISION}, stacked on Aana SDK" in adopted.stdout
    assert stored_revisions(alembic_engine) == (APP_HEAD,)
    assert extended_videos(alembic_engine) == [
        (
            video["id"],
            video["duration"],
            video["status"],
            f"https://example.com/{index}.mp4",
            "extended_video",
        )
        for index, video in enumerate(written["extended_videos"])
    ]
    with Session(alembic_engine) as session:
        tasks = TaskRepository(session)
        for task_id, what in written["tasks"].items():
            assert tasks.read(task_id).status is Status(what["status"].lower())
    with alembic_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM webhooks")) == 2

    checked = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=alembic_engine)
    assert checked.returncode == 0, checked.stderr
    again = aana_cli("migrate", APP_SPEC, "--adopt", app=app, engine=alembic_engine)
    assert f"Database already at head ({APP_HEAD}); nothing to do." in again.stdout


@pytest.mark.subprocesses
def test_app_tables_in_an_aana_database_without_the_apps_lineage_are_adopted(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    """The app's tables made beside aana's migrated ones, its lineage not recorded."""
    app = copy_app(tmp_path)
    assert aana_cli("migrate", APP_SPEC, app=app, engine=alembic_engine).returncode == 0
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(
            text("UPDATE alembic_version SET version_num = :aana"), {"aana": AANA_HEAD}
        )
    refused = aana_cli("migrate", APP_SPEC, app=app, engine=alembic_engine)
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
    assert "cannot reach the database" not in refused.stderr

    adopted = aana_cli("migrate", APP_SPEC, "--adopt", app=app, engine=alembic_engine)

    assert adopted.returncode == 0, adopted.stderr
    assert f"match its revision {APP_HEAD}: recorded there." in adopted.stdout
    assert stored_revisions(alembic_engine) == (APP_HEAD,)
    assert aana_cli("migrate", "--check", APP_SPEC, app=app, engine=alembic_engine).returncode == 0


@pytest.mark.subprocesses
def test_two_adoptions_at_once_adopt_once(alembic_engine: Engine, tmp_path: Path) -> None:
    """Two operators run the same adoption together: one adopts, the other finds it done."""
    load_aana_sdk_app(alembic_engine, "create_all")
    app = copy_app(tmp_path)
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda _: aana_cli("migrate", APP_SPEC, "--adopt", app=app, engine=alembic_engine),
                range(2),
            )
        )
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    outputs = sorted(run.stdout for run in runs)
    assert sum("match its revision" in output for output in outputs) == 1
    assert sum("nothing to do" in output for output in outputs) == 1
    assert stored_revisions(alembic_engine) == (APP_HEAD,)
    assert len(extended_videos(alembic_engine)) == 4


@pytest.mark.subprocesses
def test_the_apps_later_revisions_apply_once_its_tables_are_adopted(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    load_aana_sdk_app(alembic_engine, "create_all")
    app = copy_app(tmp_path)
    (app / "video_app" / "migrations" / "versions" / "f00d0000a001_rating.py").write_text(
        LATER_REVISION
    )
    models = app / "video_app" / "models.py"
    models.write_text(
        models.read_text().replace("\n    __mapper_args__", RATING + "\n    __mapper_args__")
    )

    adopted = aana_cli("migrate", APP_SPEC, "--adopt", app=app, engine=alembic_engine)

    assert adopted.returncode == 0, adopted.stderr
    assert (
        f"match its revision {APP_HEAD}: recorded there; its later revision(s) f00d0000a001 "
        "are applied." in adopted.stdout
    )
    assert stored_revisions(alembic_engine) == ("f00d0000a001",)
    with alembic_engine.connect() as connection:
        ratings = connection.scalars(text("SELECT rating FROM extended_video")).all()
    assert ratings == [None] * 4
    assert aana_cli("migrate", "--check", APP_SPEC, app=app, engine=alembic_engine).returncode == 0


@pytest.mark.subprocesses
def test_app_tables_matching_no_revision_are_refused_naming_the_differences(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    load_aana_sdk_app(alembic_engine, "create_all")
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("ALTER TABLE extended_video ADD COLUMN rating INTEGER"))
    before = schema_and_rows(alembic_engine)

    refused = aana_cli(
        "migrate", APP_SPEC, "--adopt", app=copy_app(tmp_path), engine=alembic_engine
    )

    assert refused.returncode == 1
    assert "The app's tables (extended_video) match no revision of its lineage" in refused.stderr
    assert f"What differs from its last revision, {APP_HEAD}" in refused.stderr
    assert "remove_column extended_video rating" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert schema_and_rows(alembic_engine) == before


@pytest.mark.subprocesses
def test_a_stacked_revision_over_a_schema_that_is_not_aanas_is_refused(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    load_aana_sdk_app(alembic_engine, "revisions")
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("DROP INDEX ix_tasks_user_id"))
    before = schema_and_rows(alembic_engine)
    refused = aana_cli(
        "migrate", APP_SPEC, "--adopt", app=copy_app(tmp_path), engine=alembic_engine
    )
    assert refused.returncode == 1
    assert f"at revision(s) {APP_REVISION}, which neither aana's migrations" in refused.stderr
    assert "add_index ix_tasks_user_id" in refused.stderr
    assert schema_and_rows(alembic_engine) == before


@pytest.mark.subprocesses
def test_adopt_needs_the_app(alembic_engine: Engine) -> None:
    result = run_aana(alembic_engine, "migrate", "--adopt")
    assert result.returncode == 2
    assert "--adopt adopts an app's tables: name the app" in result.stderr


@pytest.mark.subprocesses
@pytest.mark.parametrize(
    ("revision", "release", "way_forward"),
    [
        ("6d95f693a277", "Aana SDK 0.2.0 or 0.2.1", "Create a new database with aana migrate"),
        ("5ad873484aa3", "Aana SDK 0.2.2", "Upgrade the app to Aana SDK 0.2.4 and start it"),
        ("b9860676dd49", "Aana SDK 0.2.3", "Upgrade the app to Aana SDK 0.2.4 and start it"),
    ],
)
def test_an_older_aana_sdk_database_is_told_its_release_and_the_way_forward(
    alembic_engine: Engine, revision: str, release: str, way_forward: str
) -> None:
    with alembic_engine.connect() as connection, connection.begin():
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
        connection.execute(text("CREATE TABLE media (id VARCHAR(36) PRIMARY KEY)"))
    before = schema_and_rows(alembic_engine)

    migrated = run_aana(alembic_engine, "migrate")
    current = run_aana(alembic_engine, "current")
    checked = run_aana(alembic_engine, "migrate", "--check")

    assert migrated.returncode == 1
    for output in (migrated.stderr, current.stdout, checked.stderr):
        assert release in output
        assert way_forward in output
        assert "Can't locate revision" not in output
        assert "an app's revision?" not in output
    assert "Traceback" not in migrated.stderr
    assert schema_and_rows(alembic_engine) == before


@pytest.mark.subprocesses
def test_adoption_reports_the_task_values_it_kept_and_the_app_writes_them_back(
    alembic_engine: Engine,
) -> None:
    written = load_aana_sdk_app(alembic_engine, "create_all")
    # Aana's tables only, as `aana migrate` adopts them without the app.
    adopted = run_aana(alembic_engine, "migrate")
    assert adopted.returncode == 0, adopted.stderr
    lines = adopted.stdout.splitlines()

    def line(start: str) -> str:
        return next(found for found in lines if start in found)

    pickles = task_ids(written, "pydantic") + task_ids(written, "datetime")
    kept = line("task data value(s) are not plain JSON data")
    assert kept.startswith(f"{len(pickles)} task data value(s)")
    assert sorted(kept.split(": ")[-1].split(", ")) == sorted(pickles)
    unstorable = [*task_ids(written, "nul"), *task_ids(written, "surrogate")]
    unstorable += task_ids(written, "result_nul")
    held = line("held NUL or an unpaired surrogate")
    assert held.startswith(f"{len(unstorable)} task(s)")
    assert sorted(held.split(": ")[-1].split(", ")) == sorted(unstorable)
    assert line("held tuples, stored as JSON lists").endswith(task_ids(written, "tuple")[0])

    with Session(alembic_engine) as session:
        tasks = TaskRepository(session)
        (nul,) = task_ids(written, "nul")
        kept_pickle = base64.b64decode(tasks.read(nul).data["aana_sdk_pickle"])
        assert pickle.loads(kept_pickle) == {"text": "before\x00after"}
        (result_nul,) = task_ids(written, "result_nul")
        kept_json = tasks.read(result_nul).result["aana_sdk_json"]
        assert json.loads(kept_json) == {"text": "nul\x00 in result"}
        (with_tuple,) = task_ids(written, "tuple")
        assert tasks.read(with_tuple).data == {"frames": [1, 2, 3], "size": [640, 480]}
        # Every adopted value goes back through the repository, as the app would write it.
        for task_id in written["tasks"]:
            task = tasks.read(task_id)
            copy = tasks.save(endpoint=task.endpoint, data=task.data)
            # A finished task is final (fencing): its result goes back on a copy that runs.
            tasks.update_status(copy.id, Status.ASSIGNED)
            tasks.update_status(copy.id, Status.COMPLETED, task.progress, result=task.result)
        session.commit()


def file_state(path: Path) -> tuple[str, list[str]]:
    """The file's bytes (hashed) and the files next to it (a WAL, a journal)."""
    siblings = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))
    return hashlib.sha256(path.read_bytes()).hexdigest(), siblings


def sqlite_env_engine(path: Path) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(f"sqlite:///{path}")


@pytest.mark.subprocesses
@pytest.mark.parametrize("refusal", ["app tables differ", "older Aana SDK", "statement refused"])
def test_a_refused_run_leaves_the_sqlite_file_byte_for_byte(tmp_path: Path, refusal: str) -> None:
    database = tmp_path / "aana_app.db"
    shutil.copy(sqlite_file("create_all"), database)
    with sqlite3.connect(database) as connection:
        if refusal == "app tables differ":
            connection.execute("ALTER TABLE extended_video ADD COLUMN rating INTEGER")
        if refusal == "older Aana SDK":
            connection.execute("UPDATE alembic_version SET version_num = 'b9860676dd49'")
    connection.close()
    before = file_state(database)
    engine = sqlite_env_engine(database)
    app = copy_app(tmp_path)
    command = {
        "app tables differ": ("migrate", APP_SPEC, "--adopt"),
        "older Aana SDK": ("migrate",),
        "statement refused": ("migrate", APP_SPEC),
    }[refusal]

    refused = aana_cli(*command, app=app, engine=engine)

    assert refused.returncode == 1, refused.stdout
    assert file_state(database) == before
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()


@pytest.mark.subprocesses
def test_a_successful_adoption_leaves_the_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    database = tmp_path / "aana_app.db"
    shutil.copy(sqlite_file("create_all"), database)
    engine = sqlite_env_engine(database)
    adopted = aana_cli("migrate", APP_SPEC, "--adopt", app=copy_app(tmp_path), engine=engine)
    assert adopted.returncode == 0, adopted.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


@pytest.mark.subprocesses
def test_a_refused_statement_is_not_called_an_unreachable_database(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    load_aana_sdk_app(alembic_engine, "create_all")
    refused = aana_cli("migrate", APP_SPEC, app=copy_app(tmp_path), engine=alembic_engine)
    assert refused.returncode == 1
    assert "cannot reach the database" not in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "The database refused a statement, so nothing was changed" in refused.stderr
    # The app's first revision's first statement: CREATE TYPE on PostgreSQL, CREATE TABLE on
    # SQLite.
    assert "already exists" in refused.stderr
    assert "Statement: CREATE" in refused.stderr
    assert "aana migrate APP --adopt" in refused.stderr


ALTER_VIDEO = '''"""Add video.rating, which needs a lock on video."""

import sqlalchemy as sa
from alembic import op

revision = "lock_0001"
down_revision = None
branch_labels = ("app",)
depends_on = "0001_initial"


def upgrade():
    op.add_column("video", sa.Column("rating", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("video", "rating")
'''


def test_a_migration_waiting_on_a_lock_stops_and_names_the_blocking_session(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    if alembic_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no lock held by an idle session: its busy timeout bounds waits")
    upgrade(alembic_engine)
    folder = tmp_path / "lock_app"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(
        "from aana.storage.migrations import run_env\nfrom aana.storage.models import "
        "BaseEntity\n\nrun_env(BaseEntity.metadata)\n"
    )
    (folder / "versions" / "lock_0001.py").write_text(ALTER_VIDEO)
    ini = folder / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = %(here)s\npath_separator = os\n")
    outcome: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(alembic_engine, lineage_config(ini), lock_timeout=1.0)
        except BaseException as error:
            outcome.append(error)

    blocker = alembic_engine.connect()
    blocker.begin()
    blocker.exec_driver_sql("SET application_name = 'aana-test-blocker'")
    pid = blocker.scalar(text("SELECT pg_backend_pid()"))
    blocker.execute(text("SELECT count(*) FROM video"))  # holds a lock on video, idle
    thread = threading.Thread(target=migrate)
    try:
        thread.start()
        thread.join(timeout=30)
        waited_forever = thread.is_alive()
    finally:
        blocker.rollback()
        blocker.close()
        thread.join()

    assert not waited_forever
    (error,) = outcome
    assert isinstance(error, MigrationLockTimeout), error
    message = str(error)
    assert f"pid {pid}, application_name 'aana-test-blocker', state 'idle in transaction'" in (
        message
    )
    assert "query started 2" in message
    assert "SELECT count(*) FROM video" in message
    assert stored_revisions(alembic_engine) == (AANA_HEAD,)
