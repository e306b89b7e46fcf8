"""The library behind a real PgBouncer in transaction pooling mode (issue 19, item 3).

PgBouncer runs in front of the run's PostgreSQL server, whatever its source (URL, pg_ctl,
container), with a pool of ``POOL_SIZE`` server connections (see ``pgbouncer``). Without
``transaction_pooler`` the repositories fail as soon as psycopg prepares a statement; with it
32 worker processes, on both halves, share the pool: no error, no task claimed twice, none
lost.
"""

import multiprocessing
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pooler_workers
import pytest
from either import TaskRepository, dispose_twins, on_async_half, open_session, remember_settings
from halves import Half
from pgbouncer import POOL_SIZE, running_pgbouncer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only
from task_workers import Report

from aana.configs import DbSettings
from aana.storage.engine import create_database_engine
from aana.storage.migrations import check, pending_revisions, upgrade
from aana.storage.models import CaptionEntity, Status, TaskEntity, VideoEntity
from aana.testing.backends import PostgresDatabases, TestDatabases

PROCESSES = 32
SEEDED = 320
SAVES = 5
"""Tasks each process saves before claiming: 480 tasks in all with the seeded ones."""
LIMIT = 2
JOIN_TIMEOUT = 300
# Fresh processes, as with "spawn", but forked from a server process that imported the
# workers' modules once: 32 processes importing SQLAlchemy each would take most of the test.
FORKSERVER = multiprocessing.get_context("forkserver")
FORKSERVER.set_forkserver_preload(["pooler_workers"])


@pytest.fixture(scope="module")
def pgbouncer(aana_test_databases: TestDatabases) -> Iterator[URL]:
    """PgBouncer in front of the run's server; its URL, without a database."""
    if not isinstance(aana_test_databases, PostgresDatabases):
        pytest.skip("PgBouncer pools PostgreSQL connections; this run is on SQLite")
    # Not under pytest's temporary folder: PgBouncer runs as nobody, who cannot enter it.
    directory = Path(tempfile.mkdtemp(prefix="aana-pgbouncer-"))
    try:
        with running_pgbouncer(aana_test_databases.admin_url, directory) as url:
            yield url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def pooled(pgbouncer: URL, engine: Engine, transaction_pooler: bool) -> DbSettings:
    """Settings of ``engine``'s database through PgBouncer, from a URL as a deployment gives it."""
    query = {"transaction_pooler": "true"} if transaction_pooler else {}
    return DbSettings.from_url(pgbouncer.set(database=engine.url.database, query=query))


def pooled_engine(settings: DbSettings) -> Engine:
    """An engine as production builds it, whose async twin is built from the same settings."""
    return remember_settings(create_database_engine(settings), settings)


def hammer(engine: Engine, rounds: int) -> str | None:
    """Save and read tasks, each call a transaction of its own; return the first error."""
    try:
        with open_session(engine) as session:
            tasks = TaskRepository(session)
            for n in range(rounds):
                task = tasks.save("/pooled", {"n": n})
                assert tasks.read(task.id).data == {"n": n}
                tasks.count()
    except Exception as error:
        return f"{error!r} caused by {error.__cause__!r}"
    return None


def count_on_another_server_connection(pgbouncer: URL, settings: DbSettings) -> None:
    """Count tasks, 10 times on one server connection, then once more on another.

    PgBouncer hands a transaction an idle server connection, the one used last first. A
    worker's counts all run on the pool's one connection until another client holds it in a
    transaction; the next count then runs on a second server connection.
    """
    engine = pooled_engine(settings)
    holder = create_database_engine(settings)  # another client: a pool of its own
    try:
        with open_session(engine) as session:
            tasks = TaskRepository(session)
            for _ in range(10):  # psycopg prepares a statement on its fifth run by default
                tasks.count()
            with holder.connect() as held:
                held.execute(text("SELECT 1"))  # holds the first server connection
                tasks.count()
    finally:
        holder.dispose()
        engine.dispose()


def test_without_the_setting_psycopg_prepared_statements_break_behind_the_pooler(
    pgbouncer: URL, transactional_db_engine: Engine, half: Half
) -> None:
    """Proves that the tests go through a transaction pooler: the failure the setting fixes."""
    settings = pooled(pgbouncer, transactional_db_engine, transaction_pooler=False)

    with pytest.raises(Exception, match=r"prepared statement \"_pg3_\d+\" does not exist"):
        count_on_another_server_connection(pgbouncer, settings)


def test_with_the_setting_a_transaction_may_run_on_any_server_connection(
    pgbouncer: URL, transactional_db_engine: Engine, half: Half
) -> None:
    settings = pooled(pgbouncer, transactional_db_engine, transaction_pooler=True)

    count_on_another_server_connection(pgbouncer, settings)


def test_with_the_setting_the_same_work_goes_through_the_pooler(
    pgbouncer: URL, transactional_db_engine: Engine, half: Half
) -> None:
    engine = pooled_engine(pooled(pgbouncer, transactional_db_engine, transaction_pooler=True))
    try:
        errors = half.concurrently(lambda _: hammer(engine, rounds=200), 4)
    finally:
        engine.dispose()

    assert errors == [None] * 4
    with Session(transactional_db_engine) as session:
        assert session.scalar(select(func.count()).select_from(TaskEntity)) == 800


def test_the_setting_reaches_psycopg_on_both_halves(
    pgbouncer: URL, transactional_db_engine: Engine, half: Half
) -> None:
    for transaction_pooler, threshold in ((True, None), (False, 5)):
        settings = pooled(pgbouncer, transactional_db_engine, transaction_pooler)
        engine = pooled_engine(settings)
        try:
            with open_session(engine) as session:
                psycopg_connection = session.connection().connection.driver_connection
                assert psycopg_connection.prepare_threshold == threshold  # type: ignore[union-attr]
                assert session.scalar(text("SELECT 1")) == 1
        finally:
            engine.dispose()
            if on_async_half():
                # The async twin is kept by URL, which the setting is not part of.
                await_only(dispose_twins())


def assert_no_errors(reports: list[Report]) -> None:
    errors = [report.error for report in reports if report.error]
    assert not errors, f"{len(errors)} workers failed:\n\n" + "\n\n".join(errors)


@pytest.mark.subprocesses
def test_32_processes_on_both_halves_share_the_pool_without_error_double_claim_or_loss(
    pgbouncer: URL, transactional_db_engine: Engine
) -> None:
    with Session(transactional_db_engine) as session:
        seeded = {str(TaskRepository(session).save("/pooled", {"n": n}).id) for n in range(SEEDED)}
    url = pgbouncer.set(
        database=transactional_db_engine.url.database, query={"transaction_pooler": "true"}
    ).render_as_string(hide_password=False)
    start = FORKSERVER.Barrier(PROCESSES)

    with ProcessPoolExecutor(
        PROCESSES, mp_context=FORKSERVER, initializer=pooler_workers.share, initargs=(start,)
    ) as pool:
        # Half the processes on each half; each blocks at the start line until all 32 have
        # saved their tasks, so the 32 jobs land on 32 processes.
        futures = [
            pool.submit(
                pooler_workers.in_process,
                "sync" if worker % 2 == 0 else "async",
                url,
                worker,
                SAVES,
                LIMIT,
            )
            for worker in range(PROCESSES)
        ]
        reports = [future.result(timeout=JOIN_TIMEOUT) for future in futures]

    assert_no_errors(reports)
    saved = {task_id for report in reports for task_id in report.saved}
    expected = seeded | saved
    assert len(expected) == SEEDED + PROCESSES * SAVES
    claims = Counter(task_id for report in reports for task_id in report.claimed)
    assert [task_id for task_id, n in claims.items() if n > 1] == [], "claimed twice"
    assert set(claims) == expected, f"{len(expected - set(claims))} tasks never claimed"
    claimers = [index for index, report in enumerate(reports) if report.claimed]
    assert {index % 2 for index in claimers} == {0, 1}, "both halves claimed"
    assert len(claimers) > POOL_SIZE, "more workers than server connections took part"

    claimed_by = {
        task_id: index for index, report in enumerate(reports) for task_id in report.claimed
    }
    with Session(transactional_db_engine) as session:
        stored = {str(task.id): task for task in session.scalars(select(TaskEntity))}
        assert set(stored) == expected
        for task_id, task in stored.items():
            assert task.status is Status.COMPLETED, task_id
            assert task.result == {"worker": claimed_by[task_id]}
            assert task.num_retries == 1
        videos = set(session.scalars(select(VideoEntity.id)))
        assert videos == expected
        captions = session.scalar(select(func.count()).select_from(CaptionEntity))
        assert captions == len(expected) * pooler_workers.CAPTIONS


def test_migrations_run_through_the_pooler(
    pgbouncer: URL, aana_test_databases: TestDatabases
) -> None:
    """``aana migrate``'s code, lock and all, from an empty database to head."""
    direct = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    engine = pooled_engine(pooled(pgbouncer, direct, transaction_pooler=True))
    try:
        result = upgrade(engine)
        assert result.before == ()
        assert pending_revisions(engine) == []
        assert check(engine).ok
    finally:
        engine.dispose()
        aana_test_databases.drop(direct)
