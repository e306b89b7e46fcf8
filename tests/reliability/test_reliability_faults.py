"""Faults: connections killed mid-run, a migration that fails halfway, a full or read-only disk.

Each test checks two things: the error is clear (a named exception, not a hang or a corrupt
file), and the data committed before the fault is all there afterwards.
"""

import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from either import CaptionRepository, VideoRepository, dispose, on_connect, open_session
from halves import Half
from reliability_workers import settings_for, start_together, terminate_backends
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from aana.core.models import Video
from aana.exceptions.db import ConnectionLostException, DatabaseConfigError, DatabaseFullException
from aana.storage.engine import create_database_engine
from aana.storage.migrations import alembic_config, current_revisions, upgrade
from aana.storage.models import CaptionEntity, MediaEntity, VideoEntity

RUN_SAVES = 300
KILLS = 3


def require(engine: Engine, dialect: str) -> None:
    if engine.dialect.name != dialect:
        pytest.skip(f"{dialect} only; this run is on {engine.dialect.name}")


def media_ids(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(MediaEntity.id)))


# --- PostgreSQL: every backend connection terminated ---------------------------------------


def test_terminated_connections_lose_no_committed_row(
    transactional_db_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    require(engine, "postgresql")
    committed = {f"committed-{n}" for n in range(50)}
    with open_session(engine) as session:
        VideoRepository(session).create_multiple([VideoEntity(id=i) for i in committed])
    pending = open_session(engine)
    pending.add(VideoEntity(id="never-committed"))
    pending.flush()  # the row is in the database, inside an open transaction
    idle = open_session(engine)
    VideoRepository(idle).check_media_exists("warm-up")
    idle.commit()  # its connection goes back to the pool, where it will be found dead

    assert terminate_backends(engine) == 2

    # The next repository call succeeds at once: pool_pre_ping replaces the dead connection.
    assert VideoRepository(idle).save(Video(media_id="after-the-kill")) == {
        "media_id": "after-the-kill"
    }
    # The open transaction is gone; the session says so, rolls back and goes on.
    with pytest.raises(OperationalError) as caught:
        pending.commit()
    assert caught.value.connection_invalidated
    pending.rollback()
    assert VideoRepository(pending).check_media_exists("never-committed") is False
    VideoRepository(pending).save(Video(media_id="pending-recovered"))
    idle.close()
    pending.close()
    assert media_ids(engine) == committed | {"after-the-kill", "pending-recovered"}


def test_connections_killed_during_a_run_of_writes(
    transactional_db_engine: Engine, half: Half
) -> None:
    """300 saves on one session; at 1/4, 1/2 and 3/4 of the run every connection is killed.

    The saves run in the test's thread (on the async half, on its event loop), the kills in a
    thread of their own.
    """
    engine = transactional_db_engine
    require(engine, "postgresql")
    saved: list[str] = []
    cut_before_commit: list[str] = []
    cut_at_commit: list[str] = []
    kills: list[int] = []
    barrier = start_together(2)

    def write() -> None:
        with open_session(engine) as session:
            repository = VideoRepository(session)
            barrier.wait()
            for n in range(RUN_SAVES):
                media_id = f"run-{n}"
                try:
                    repository.save(Video(media_id=media_id))
                    saved.append(media_id)
                except ConnectionLostException as error:
                    # No rollback by hand: the repository left the session ready to go on.
                    # A COMMIT cut off by the kill is in doubt: the server may have
                    # committed it and died before saying so, as with any lost connection.
                    failed = cut_at_commit if error.in_doubt else cut_before_commit
                    failed.append(media_id)

    def kill() -> None:
        # At a quarter, a half and three quarters of the run, whatever the machine's speed.
        barrier.wait()
        for k in range(1, KILLS + 1):
            while len(saved) + len(cut_before_commit) + len(cut_at_commit) < k * RUN_SAVES // 4:
                time.sleep(0.001)
            kills.append(terminate_backends(engine))

    killer = threading.Thread(target=kill)
    killer.start()
    try:
        write()
    finally:
        killer.join(timeout=120)
    failed = cut_before_commit + cut_at_commit
    stored = media_ids(engine)
    print(
        f"{RUN_SAVES} saves, {KILLS} kills terminating {sum(kills)} connections: "
        f"{len(saved)} saved, {len(cut_before_commit)} cut before COMMIT, "
        f"{len(cut_at_commit)} cut at COMMIT ({len(stored & set(cut_at_commit))} of them landed)"
    )
    assert len(kills) == KILLS and all(kills), kills
    assert len(saved) + len(failed) == RUN_SAVES
    assert len(failed) <= sum(kills)  # one failure per killed connection at most
    # The save after a failed one succeeded: the session recovers at once.
    for media_id in failed:
        following = f"run-{int(media_id.split('-')[1]) + 1}"
        assert following in saved or following == f"run-{RUN_SAVES}"
    # No committed row is lost; no row cut off before COMMIT was kept.
    assert set(saved) <= stored
    assert not stored & set(cut_before_commit)
    assert stored <= set(saved) | set(cut_at_commit)


# --- a migration that fails halfway ---------------------------------------------------------

GOOD_REVISION = '''
"""First app revision: fine."""
import sqlalchemy as sa
from alembic import op

revision = "reliability_a"
down_revision = None
branch_labels = ("reliability",)
depends_on = "{aana_head}"


def upgrade():
    op.create_table("reliability_first", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("reliability_first")
'''

FAILING_REVISION = '''
"""Second app revision: creates a table, fills it, then fails."""
import sqlalchemy as sa
from alembic import op

revision = "reliability_b"
down_revision = "reliability_a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("reliability_half", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO reliability_half (id) VALUES (1)")
    op.execute("ALTER TABLE media ADD COLUMN half_done INTEGER")
    {failure}


def downgrade():
    op.drop_table("reliability_half")
'''


def app_config(versions: Path) -> Config:
    """aana's Alembic config with a second version folder, as an app's would have."""
    config = alembic_config()
    aana_versions = config.get_main_option("version_locations")
    config.set_main_option("version_locations", f"{versions}{os.pathsep}{aana_versions}")
    return config


def test_migration_failing_halfway_leaves_the_previous_revision(
    transactional_db_engine: Engine, tmp_path: Path
) -> None:
    engine = transactional_db_engine
    with Session(engine) as session:
        VideoRepository(session).save(Video(media_id="before-migration", title="kept"))
    with engine.connect() as connection:
        before = current_revisions(connection)  # aana's head, as migrated by the fixture
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "reliability_a.py").write_text(GOOD_REVISION.replace("{aana_head}", before[0]))
    (versions / "reliability_b.py").write_text(
        FAILING_REVISION.format(failure='op.execute("SELECT * FROM no_such_table")')
    )
    with pytest.raises(DBAPIError, match="no_such_table"):
        upgrade(engine, app_config(versions))
    with engine.connect() as connection:
        assert current_revisions(connection) == before
        tables = set(inspect(connection).get_table_names())
        columns = {column["name"] for column in inspect(connection).get_columns("media")}
    # Neither the revision that succeeded in the same run nor the half of the failing one.
    assert not tables & {"reliability_first", "reliability_half"}
    assert "half_done" not in columns
    assert media_ids(engine) == {"before-migration"}
    # Once the revision is fixed, the same run goes through.
    (versions / "reliability_b.py").write_text(FAILING_REVISION.format(failure="pass  # fixed"))
    shutil.rmtree(versions / "__pycache__", ignore_errors=True)
    result = upgrade(engine, app_config(versions))
    assert result.after == ("reliability_b",)  # the app head implies aana's
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM reliability_half")) == 1


# --- SQLite: a full disk and a read-only directory ------------------------------------------


def fill_until_full(engine: Engine, rows: int) -> tuple[DatabaseFullException, int]:
    """Save batches of large captions until the disk is full; return the error and rows saved."""
    saved = 0
    with open_session(engine) as session:
        captions = CaptionRepository(session)
        for batch in range(10_000):
            try:
                captions.save_all("filler", ["x" * 2000] * rows, [0.0] * rows, list(range(rows)))
            except DatabaseFullException as error:
                # The session goes on: a read works and sees every batch saved before.
                count = session.scalar(select(func.count()).select_from(CaptionEntity))
                assert count == saved
                return error, saved
            saved += rows
            assert batch < 9_999, "the disk never filled up"
    raise AssertionError("unreachable")


def test_sqlite_size_limit_reached(transactional_db_engine: Engine, half: Half) -> None:
    """``PRAGMA max_page_count`` caps the file, as a full disk would."""
    engine = transactional_db_engine
    require(engine, "sqlite")
    with open_session(engine) as session:
        VideoRepository(session).create_multiple(
            [VideoEntity(id=f"before-full-{n}") for n in range(100)]
        )
        pages = session.scalar(text("PRAGMA page_count"))
    dispose(engine)

    def cap(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # the DB-API's way: aiosqlite's adapter has no execute
        cursor.execute(f"PRAGMA max_page_count = {pages + 64}")
        cursor.close()

    uncap = on_connect(engine, cap)
    error, saved = fill_until_full(engine, rows=20)
    print(f"max_page_count {pages + 64}: {saved} captions saved, then: {error}")
    assert "full" in str(error)
    assert saved > 0
    uncap()
    dispose(engine)
    assert len(media_ids(engine)) == 100
    with Session(engine) as session:
        assert session.scalar(text("PRAGMA integrity_check")) == "ok"
        assert session.scalar(select(func.count()).select_from(CaptionEntity)) == saved


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, mounted for the test; skipped where mounting is not allowed."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def sqlite_on(path: Path) -> Engine:
    engine = create_database_engine(settings_for(f"sqlite:///{path}"))
    upgrade(engine)
    return engine


def test_sqlite_on_a_full_filesystem(db_engine: Engine, tiny_filesystem: Path, half: Half) -> None:
    require(db_engine, "sqlite")
    database = tiny_filesystem / "aana.db"
    engine = sqlite_on(database)
    try:
        with open_session(engine) as session:
            VideoRepository(session).create_multiple(
                [VideoEntity(id=f"before-full-{n}") for n in range(100)]
            )
        error, saved = fill_until_full(engine, rows=20)
        print(f"1 MiB tmpfs: {saved} captions saved, then: {error}")
        assert "full" in str(error)
    finally:
        dispose(engine)
    # Reopened from scratch, the file is sound and holds everything committed.
    engine = create_database_engine(settings_for(f"sqlite:///{database}"))
    try:
        assert len(media_ids(engine)) == 100
        with Session(engine) as session:
            assert session.scalar(text("PRAGMA integrity_check")) == "ok"
            assert session.scalar(select(func.count()).select_from(CaptionEntity)) == saved
    finally:
        engine.dispose()


def read_only_count(database: Path) -> int:
    uri = f"file:{database}?mode=ro&immutable=1"
    with sqlite3.connect(uri, uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM media").fetchone()[0])


def test_sqlite_on_a_read_only_filesystem(
    db_engine: Engine, tiny_filesystem: Path, half: Half
) -> None:
    require(db_engine, "sqlite")
    database = tiny_filesystem / "aana.db"
    engine = sqlite_on(database)
    with open_session(engine) as session:
        VideoRepository(session).create_multiple([VideoEntity(id=f"kept-{n}") for n in range(10)])
    dispose(engine)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    for path in (database, tiny_filesystem / "new.db"):
        with pytest.raises(DatabaseConfigError, match="not writable") as caught:
            create_database_engine(settings_for(f"sqlite:///{path}"))
        assert str(tiny_filesystem) in str(caught.value)
    assert read_only_count(database) == 10
    assert not (tiny_filesystem / "new.db").exists()


def test_sqlite_in_a_read_only_directory_by_permissions(db_engine: Engine, tmp_path: Path) -> None:
    require(db_engine, "sqlite")
    if os.geteuid() == 0:
        pytest.skip("root bypasses permission bits; the read-only tmpfs test covers root")
    directory = tmp_path / "locked"
    directory.mkdir()
    database = directory / "aana.db"
    sqlite_on(database).dispose()
    directory.chmod(0o555)
    database.chmod(0o444)
    try:
        for path in (database, directory / "new.db"):
            with pytest.raises(DatabaseConfigError, match="not writable"):
                create_database_engine(settings_for(f"sqlite:///{path}"))
    finally:
        directory.chmod(0o755)


def test_sqlite_path_under_a_file(db_engine: Engine, tmp_path: Path) -> None:
    require(db_engine, "sqlite")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(DatabaseConfigError, match="a-file"):
        create_database_engine(settings_for(f"sqlite:///{blocker / 'aana.db'}"))
    assert blocker.read_text() == "not a directory"
