"""Case: claim latency while a prune of old finished tasks runs, against claims alone.

The table holds ``FINISHED`` tasks that finished 40 days ago and a backlog of ``BACKLOG``
queued ones. A worker claims one task at a time, timing each claim, and puts it back
(``retry_task``) so the backlog stays the same. It claims first with nothing else running,
then while another process runs ``TaskRepository.prune(30 days)`` over the whole table, as
``aana tasks prune --older-than 30d`` does, until the prune is done.
"""

import datetime
import multiprocessing
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from aana.configs import DbSettings
from aana.storage.engine import create_database_engine
from aana.storage.models import Status, TaskEntity
from aana.storage.repository import TaskRepository
from aana.storage.types import utc_now
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Profile, Stats

FINISHED = 1_000_000
QUICK_FINISHED = 2_000
BACKLOG = 1_000
ALONE = 2_000
"""Claims timed with nothing else running (a tenth in quick mode)."""
CHUNK = 50_000


def prune_in_process(url: str, pruning: Any) -> None:
    """Prune every task that finished more than 30 days ago: a spawned process's target.

    ``pruning`` (an event) is set once the process has started and is about to prune.
    """
    engine = create_database_engine(DbSettings.from_url(url))
    try:
        with Session(engine) as session:
            pruning.set()
            TaskRepository(session).prune(datetime.timedelta(days=30))
    finally:
        engine.dispose()


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    engine = databases.migrated()
    try:
        finished = QUICK_FINISHED if profile.quick else FINISHED
        _fill(engine, finished)
        return _compare(engine, finished, ALONE // 10 if profile.quick else ALONE)
    finally:
        databases.drop(engine)


def _fill(engine: Engine, finished: int) -> None:
    """Queue the backlog and add ``finished`` tasks, half completed, half failed, 40 days ago."""
    now = utc_now()
    long_ago = now - datetime.timedelta(days=40)
    with Session(engine) as session:
        TaskRepository(session).create_multiple(
            TaskEntity(endpoint="/bench", data={"n": n}) for n in range(BACKLOG)
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tasks (id, endpoint, data, status, priority, completed_at, "
                    "progress, num_retries, created_at, updated_at) "
                    "SELECT gen_random_uuid(), '/bench', '{}', "
                    "(CASE WHEN g % 2 = 0 THEN 'completed' ELSE 'failed' END)::task_status, "
                    "0, :long_ago - g * interval '1 millisecond', 100, 1, :long_ago, :long_ago "
                    "FROM generate_series(1, :finished) AS g"
                ),
                {"long_ago": long_ago, "finished": finished},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE tasks")
        return
    table = TaskEntity.__table__
    for start in range(0, finished, CHUNK):
        rows = [
            {
                "id": uuid.uuid4(),
                "endpoint": "/bench",
                "data": {},
                "status": Status.COMPLETED if n % 2 == 0 else Status.FAILED,
                "priority": 0,
                "completed_at": long_ago - datetime.timedelta(milliseconds=n),
                "progress": 100.0,
                "num_retries": 1,
                "created_at": long_ago,
                "updated_at": long_ago,
            }
            for n in range(start, min(start + CHUNK, finished))
        ]
        with engine.begin() as connection:
            connection.execute(insert(table), rows)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _claim_once(tasks: TaskRepository) -> float:
    """Claim one task, timed, and put it back in the queue (untimed)."""
    start = time.perf_counter()
    (task,) = tasks.fetch_unprocessed_tasks(limit=1)
    elapsed = time.perf_counter() - start
    tasks.retry_task(task.id)
    return elapsed


def _compare(engine: Engine, finished: int, alone: int) -> list[Comparison]:
    url = engine.url.render_as_string(hide_password=False)
    with Session(engine, expire_on_commit=False) as session:
        tasks = TaskRepository(session)
        for _ in range(20):  # warm the pool and the statement caches
            _claim_once(tasks)
        quiet = [_claim_once(tasks) for _ in range(alone)]
        spawn = multiprocessing.get_context("spawn")
        pruning = spawn.Event()
        pruner = spawn.Process(target=prune_in_process, args=(url, pruning))
        pruner.start()
        while pruner.is_alive() and not pruning.wait(0.1):
            pass  # the process starts: imports, engine
        started = time.perf_counter()
        during = [_claim_once(tasks)]
        while pruner.is_alive():
            during.append(_claim_once(tasks))
        pruned_in = time.perf_counter() - started
        assert pruner.exitcode == 0, f"the prune failed (exit code {pruner.exitcode})"
        left = tasks.count()
    assert left["total"] == BACKLOG, left
    backend = engine.dialect.name
    during_name = f"claim during a prune of {finished:,} finished tasks ({pruned_in:.0f} s)"

    def comparison(label: str, library: Stats, baseline: Stats) -> Comparison:
        return Comparison(
            case=CASE.name,
            backend=backend,
            library=f"{label}, {during_name}",
            baseline=f"{label}, claim alone",
            library_stats=library,
            baseline_stats=baseline,
            unit="claim",
        )

    return [
        comparison("median", Stats(tuple(during)), Stats(tuple(quiet))),
        comparison("99th percentile", Stats((_p99(during),)), Stats((_p99(quiet),))),
    ]


def _p99(samples: list[Any]) -> float:
    if len(samples) < 2:
        return float(samples[0])
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


CASE = Case(
    name="prune",
    summary=(
        f"claim latency while `TaskRepository.prune` deletes {FINISHED:,} finished tasks "
        f"({QUICK_FINISHED:,} in quick mode) in another process, in batches of 1,000, against "
        f"claim latency with nothing else running, on the same table (plus a backlog of "
        f"{BACKLOG:,} queued tasks, kept constant: each claimed task is put back). Median and "
        "99th percentile of every claim timed; lower is better. The prune's own duration is "
        "in the contender's name."
    ),
    run=run,
)
