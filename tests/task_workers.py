"""Task queue workers for the concurrency tests.

They live at module top level so that processes started with "spawn" can import them, and
import no more than a worker needs, because eight processes import them at once. Each worker
opens its own session, hence its own connection, and reports what it claimed and any error
instead of raising, so that the test sees every worker's outcome. A worker runs on the half
it is run on (see ``either``): as a thread or a process on the sync half, as a task of an
event loop or a process running one on the async half.
"""

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from either import TaskRepository, on_half, open_session, pause
from sqlalchemy import Engine

from aana.configs import DbSettings
from aana.storage.engine import create_database_engine
from aana.storage.models import Status

START_TIMEOUT = 120
"""Seconds a worker waits for the others at the start line; spawned processes start slowly."""


class Waitable(Protocol):
    def wait(self, timeout: float | None = None) -> Any: ...


class Flag(Protocol):
    def is_set(self) -> bool: ...

    def set(self) -> None: ...


@dataclass
class Sync:
    """What the workers of one run share: a start line and the sweeper's first-pass flag."""

    start: Waitable
    requeued: Flag


@dataclass
class Report:
    claimed: list[str] = field(default_factory=list)
    error: str | None = None
    passes: int = 0
    started: float = field(default_factory=time.monotonic)

    def fail(self) -> None:
        """Record the exception being handled, and when it happened."""
        elapsed = time.monotonic() - self.started
        self.error = (
            f"after {elapsed:.2f}s and {len(self.claimed)} claims:\n{traceback.format_exc()}"
        )


def engine_for(url: str) -> Engine:
    """An engine built as production builds it (WAL and ``BEGIN`` recipe on SQLite)."""
    return create_database_engine(DbSettings.from_url(url))


def claim_until_empty(engine: Engine, sync: Sync, limit: int) -> Report:
    """Claim tasks until none is left."""
    report = Report()
    try:
        # A default session expires its objects on commit: reading the claimed tasks then
        # reloads them, which leaves a read transaction open before the next claim.
        with open_session(engine) as session:
            repository = TaskRepository(session)
            sync.start.wait(START_TIMEOUT)
            while tasks := repository.fetch_unprocessed_tasks(limit=limit):
                report.claimed.extend(str(task.id) for task in tasks)
                assert all(task.status is Status.ASSIGNED for task in tasks)
    except BaseException:
        report.fail()
    return report


def claim_and_complete(
    engine: Engine,
    sync: Sync,
    limit: int,
    max_retries: int,
    retryable_exceptions: list[str],
) -> Report:
    """Claim tasks, heartbeat them and complete them, until none is left.

    A batch is completed in one transaction, in id order as the repository asks. The worker
    stops only on an empty claim made after the sweeper's first pass, so that the tasks the
    sweep requeues are not left behind.
    """
    report = Report()
    try:
        with open_session(engine, expire_on_commit=False) as session:
            repository = TaskRepository(session)
            sync.start.wait(START_TIMEOUT)
            while True:
                requeue_done = sync.requeued.is_set()
                tasks = repository.fetch_unprocessed_tasks(
                    limit=limit, max_retries=max_retries, retryable_exceptions=retryable_exceptions
                )
                if not tasks:
                    if requeue_done:
                        return report
                    pause(0.01)
                    continue
                report.claimed.extend(str(task.id) for task in tasks)
                repository.heartbeat(task.id for task in tasks)
                for task in sorted(tasks, key=lambda task: task.id):
                    repository.update_status(
                        task.id,
                        Status.COMPLETED,
                        progress=100,
                        result={"done": str(task.id)},
                        commit=False,
                    )
                session.commit()
    except BaseException:
        report.fail()
    return report


def expire_and_heartbeat(
    engine: Engine,
    sync: Sync,
    stop: Flag,
    keep_alive: list[str],
    also_beat: list[str],
    timeouts: tuple[float, float, int],
) -> Report:
    """Until ``stop``: heartbeat ``keep_alive`` and a slice of ``also_beat``, then sweep.

    ``timeouts`` are the execution timeout, heartbeat timeout and max retries of the sweep.
    ``sync.requeued`` is set once the first sweep has committed.
    """
    report = Report()
    chunk = 100
    try:
        with open_session(engine, expire_on_commit=False) as session:
            repository = TaskRepository(session)
            while not stop.is_set():
                start = report.passes * chunk % max(len(also_beat), 1)
                repository.heartbeat(keep_alive + also_beat[start : start + chunk])
                repository.update_expired_tasks(*timeouts)
                sync.requeued.set()
                report.passes += 1
                pause(0.005)
    except BaseException:
        report.fail()
    return report


_sync: Sync | None = None
_half = "sync"


def share(start: Waitable, requeued: Flag, half: str = "sync") -> None:
    """Process pool initializer: keep what the parent shares with every worker.

    Synchronization primitives reach a spawned process only as arguments of its start.
    ``half`` is the half the pool's workers run on.
    """
    global _sync, _half
    _sync = Sync(start, requeued)
    _half = half


def in_process(work: Callable[..., Report], url: str, *args: Any) -> Report:
    """Run ``work`` in a pool process, on an engine of its own, with the shared ``Sync``."""
    report = Report()
    try:
        assert _sync is not None, "the pool was not initialized with task_workers.share"
        engine = engine_for(url)
        try:
            report = on_half(_half, work, engine, _sync, *args)
        finally:
            engine.dispose()
    except BaseException:
        report.fail()
    return report
