"""The task queue under concurrent workers: no task is claimed twice, none is lost.

Eight workers, as threads sharing an engine or as spawned processes with engines of their
own, each with its own connection, claim from 2,000 tasks until none is left; then the same
while expired tasks are swept and heartbeats sent. On the async half: eight tasks of one
event loop, each on its own ``AsyncSession``, together with four processes running the async
repositories on event loops of their own.
"""

import asyncio
import datetime
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import task_workers
from either import dispose_twins
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.util import await_only, greenlet_spawn
from task_workers import Report, Sync

from aana.storage.models import Status, TaskEntity
from aana.storage.repository.task import TaskRepository
from aana.storage.types import utc_now

WORKERS = 8
ASYNC_PROCESSES = 4
TASKS = 2000
JOIN_TIMEOUT = 180
BATCH = 10
"""Tasks a worker claims at a time: small, so that the workers' claims interleave."""


@dataclass
class Runner:
    """Runs ``WORKERS`` copies of a worker, as threads or in spawned processes."""

    sync: Sync
    run: Callable[..., list[Report]]


SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(scope="module")
def process_pool() -> Iterator[tuple[ProcessPoolExecutor, Sync]]:
    # Spawning eight processes costs seconds, so the tests of this module share them.
    sync = Sync(SPAWN.Barrier(WORKERS), SPAWN.Event())
    with ProcessPoolExecutor(
        WORKERS,
        mp_context=SPAWN,
        initializer=task_workers.share,
        initargs=(sync.start, sync.requeued),
    ) as pool:
        yield pool, sync


@pytest.fixture(scope="module")
def async_process_pool() -> Iterator[tuple[ProcessPoolExecutor, Any, Any]]:
    """Four processes whose workers run the async repositories, and what they share."""
    # The processes and the event loop in this process cross the start line together.
    start, requeued = SPAWN.Barrier(ASYNC_PROCESSES + 1), SPAWN.Event()
    with ProcessPoolExecutor(
        ASYNC_PROCESSES,
        mp_context=SPAWN,
        initializer=task_workers.share,
        initargs=(start, requeued, "async"),
    ) as pool:
        yield pool, start, requeued


class LoopStartLine:
    """The start line of the event loop's tasks: they go when the processes are at theirs."""

    def __init__(self, processes: Any) -> None:
        self._processes = processes
        self._crossed: asyncio.Future[Any] | None = None

    def wait(self, timeout: float | None = None) -> None:
        await_only(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> None:
        if self._crossed is None:
            loop = asyncio.get_running_loop()
            self._crossed = loop.run_in_executor(None, self._processes.wait, timeout)
        await asyncio.wait_for(asyncio.shield(self._crossed), timeout)


@pytest.fixture
def engine(transactional_db_engine: Engine) -> Engine:
    """A fresh database the workers commit to for real."""
    return transactional_db_engine


@pytest.fixture(
    params=["threads", "processes", pytest.param("asyncio", marks=pytest.mark.async_half)]
)
def runner(request: pytest.FixtureRequest) -> Runner:
    if request.param == "asyncio":
        pool, start, requeued = request.getfixturevalue("async_process_pool")
        start.reset()
        requeued.clear()

        def run_async(engine: Engine, work: Callable[..., Report], *args: Any) -> list[Report]:
            url = engine.url.render_as_string(hide_password=False)
            in_loop = Sync(LoopStartLine(start), requeued)

            async def together() -> list[Report]:
                processes = [
                    asyncio.wrap_future(pool.submit(task_workers.in_process, work, url, *args))
                    for _ in range(ASYNC_PROCESSES)
                ]
                tasks = [greenlet_spawn(work, engine, in_loop, *args) for _ in range(WORKERS)]
                try:
                    reports = await asyncio.wait_for(
                        asyncio.gather(*tasks, *processes), JOIN_TIMEOUT
                    )
                finally:
                    await dispose_twins()
                return list(reports)

            return asyncio.run(together())

        return Runner(Sync(start, requeued), run_async)
    if request.param == "threads":
        sync = Sync(threading.Barrier(WORKERS), threading.Event())

        def run_threads(engine: Engine, work: Callable[..., Report], *args: Any) -> list[Report]:
            with ThreadPoolExecutor(WORKERS) as threads:
                futures = [threads.submit(work, engine, sync, *args) for _ in range(WORKERS)]
                return [future.result(timeout=JOIN_TIMEOUT) for future in futures]

        return Runner(sync, run_threads)

    pool, sync = request.getfixturevalue("process_pool")
    sync.start.reset()  # in case a failed test left it broken
    sync.requeued.clear()

    def run_processes(engine: Engine, work: Callable[..., Report], *args: Any) -> list[Report]:
        url = engine.url.render_as_string(hide_password=False)
        # Each worker blocks at the start line until all have arrived, so the eight jobs
        # land on eight different processes.
        futures = [pool.submit(task_workers.in_process, work, url, *args) for _ in range(WORKERS)]
        return [future.result(timeout=JOIN_TIMEOUT) for future in futures]

    return Runner(sync, run_processes)


def seed(engine: Engine, count: int, **values: Any) -> list[str]:
    """Insert ``count`` tasks of mixed priorities; return their ids."""
    entities = [
        TaskEntity(endpoint="/video/transcribe", data={"n": n}, priority=n % 3, **values)
        for n in range(count)
    ]
    with sessionmaker(engine, expire_on_commit=False)() as session:
        return [str(task.id) for task in TaskRepository(session).create_multiple(entities)]


def stored_tasks(engine: Engine) -> dict[str, TaskEntity]:
    with sessionmaker(engine, expire_on_commit=False)() as session:
        return {str(task.id): task for task in session.scalars(select(TaskEntity))}


def assert_no_errors(reports: list[Report]) -> None:
    errors = [report.error for report in reports if report.error]
    assert not errors, "\n\n".join(errors)


def assert_each_claimed_once(reports: list[Report], expected: set[str]) -> None:
    claims = Counter(task_id for report in reports for task_id in report.claimed)
    twice = {task_id: n for task_id, n in claims.items() if n > 1}
    assert not twice, f"{len(twice)} tasks claimed more than once"
    assert set(claims) - expected == set(), "claimed tasks that should not have been"
    assert expected - set(claims) == set(), f"{len(expected - set(claims))} tasks never claimed"
    # The race is only real if several workers took part.
    assert sum(1 for report in reports if report.claimed) >= 2


def test_workers_claim_every_task_exactly_once(engine: Engine, runner: Runner) -> None:
    task_ids = set(seed(engine, TASKS))

    reports = runner.run(engine, task_workers.claim_until_empty, BATCH)

    print("claims per worker:", [len(report.claimed) for report in reports])
    assert_no_errors(reports)
    assert_each_claimed_once(reports, task_ids)
    stored = stored_tasks(engine)
    assert set(stored) == task_ids
    assert all(task.status is Status.ASSIGNED for task in stored.values())
    assert all(task.num_retries == 1 for task in stored.values())
    assert all(task.assigned_at is not None for task in stored.values())


def test_workers_claim_every_task_exactly_once_while_tasks_expire_and_heartbeat(
    engine: Engine, runner: Runner
) -> None:
    execution_timeout, heartbeat_timeout, max_retries = 600, 60, 3
    now = utc_now()
    long_ago = now - datetime.timedelta(hours=1)
    lately = now - datetime.timedelta(minutes=2)

    fresh = seed(engine, TASKS)
    # Ran too long with retries left: requeued by the sweep, then claimed once.
    requeue = seed(
        engine, 50, status=Status.RUNNING, assigned_at=long_ago, updated_at=long_ago, num_retries=1
    )
    # Ran too long, out of retries: failed with TimeoutError, never claimed.
    timed_out = seed(
        engine, 50, status=Status.RUNNING, assigned_at=long_ago, updated_at=long_ago, num_retries=3
    )
    # Assigned lately but silent, out of retries: failed with HeartbeatTimeoutError.
    silent = seed(
        engine, 50, status=Status.ASSIGNED, assigned_at=lately, updated_at=long_ago, num_retries=3
    )
    # Like `silent`, but the sweeper heartbeats them before every sweep: they keep running.
    alive = seed(
        engine, 50, status=Status.RUNNING, assigned_at=lately, updated_at=long_ago, num_retries=3
    )
    stop = threading.Event()
    sweeper_report: list[Report] = []
    sweeper = threading.Thread(
        target=lambda: sweeper_report.append(
            task_workers.expire_and_heartbeat(
                engine,
                runner.sync,
                stop,
                alive,
                fresh,
                (execution_timeout, heartbeat_timeout, max_retries),
            )
        )
    )

    sweeper.start()
    try:
        reports = runner.run(
            engine,
            task_workers.claim_and_complete,
            BATCH,
            max_retries,
            ["TimeoutError", "HeartbeatTimeoutError"],
        )
    finally:
        stop.set()
        sweeper.join(timeout=JOIN_TIMEOUT)

    assert_no_errors([*reports, *sweeper_report])
    assert sweeper_report[0].passes >= 2
    assert_each_claimed_once(reports, set(fresh) | set(requeue))
    stored = stored_tasks(engine)
    for task_id in fresh:
        assert stored[task_id].status is Status.COMPLETED
        assert stored[task_id].result == {"done": task_id}
        assert stored[task_id].num_retries == 1
    for task_id in requeue:
        assert stored[task_id].status is Status.COMPLETED
        assert stored[task_id].num_retries == 2
    for ids, error in ((timed_out, "TimeoutError"), (silent, "HeartbeatTimeoutError")):
        for task_id in ids:
            assert stored[task_id].status is Status.FAILED
            assert stored[task_id].result["error"] == error
            assert stored[task_id].num_retries == 3
    for task_id in alive:
        assert stored[task_id].status is Status.RUNNING
        assert stored[task_id].updated_at > now
