"""Workers that use every kind of repository through PgBouncer, for tests/test_pgbouncer.py.

At module top level so that a forkserver (or spawn) process can import them; light, because
every process of the pool imports them. A worker runs on the half it is told (see
``either``): the synchronous repositories, or the async ones on an event loop of its own.
"""

from dataclasses import dataclass, field
from typing import Any

from either import (
    CaptionRepository,
    TaskRepository,
    VideoRepository,
    on_half,
    open_session,
    remember_settings,
)
from sqlalchemy import Engine
from task_workers import START_TIMEOUT, Report, Waitable

from aana.configs import DbSettings
from aana.core.models import Video
from aana.storage.engine import create_database_engine
from aana.storage.models import Status

CAPTIONS = 3
"""Captions a worker saves for the video of each task it runs."""


@dataclass
class PoolerReport(Report):
    """What a worker claimed, plus the tasks it saved."""

    saved: list[str] = field(default_factory=list)


def save_claim_and_complete(
    engine: Engine, start: Waitable, worker: int, saves: int, limit: int
) -> PoolerReport:
    """Save tasks, then claim and run tasks until none is left.

    Running a task is: mark it running, save a video (media id: the task id) with
    ``CAPTIONS`` captions, and complete it with a result naming the worker. Every call is a
    transaction of its own, so through a transaction pooler consecutive calls may run on
    different server connections.
    """
    report = PoolerReport()
    try:
        with open_session(engine, expire_on_commit=False) as session:
            tasks = TaskRepository(session)
            videos = VideoRepository(session)
            captions = CaptionRepository(session)
            for n in range(saves):
                report.saved.append(str(tasks.save("/pooled", {"worker": worker, "n": n}).id))
            start.wait(START_TIMEOUT)
            while claimed := tasks.fetch_unprocessed_tasks(limit=limit):
                for task in claimed:
                    task_id = str(task.id)
                    report.claimed.append(task_id)
                    tasks.update_status(task.id, Status.RUNNING, progress=10)
                    videos.save(Video(media_id=task_id, title=f"by worker {worker}"))
                    captions.save_all(
                        "pooled",
                        [f"frame {frame}" for frame in range(CAPTIONS)],
                        [float(frame) for frame in range(CAPTIONS)],
                        list(range(CAPTIONS)),
                    )
                    tasks.update_status(
                        task.id, Status.COMPLETED, progress=100, result={"worker": worker}
                    )
    except BaseException:
        report.fail()
    return report


_start: Waitable | None = None


def share(start: Waitable) -> None:
    """Process pool initializer: keep the start line, which reaches a spawned process only so."""
    global _start
    _start = start


def in_process(half: str, url: str, *args: Any) -> PoolerReport:
    """Run :func:`save_claim_and_complete` in a pool process, on ``half``, on ``url``'s database.

    The engine, and the async engine on the async half, are built from the settings the URL
    names, so a URL's ``transaction_pooler`` reaches both.
    """
    report = PoolerReport()
    try:
        assert _start is not None, "the pool was not initialized with pooler_workers.share"
        settings = DbSettings.from_url(url)
        engine = remember_settings(create_database_engine(settings), settings)
        try:
            report = on_half(half, save_claim_and_complete, engine, _start, *args)
        finally:
            engine.dispose()
    except BaseException:
        report.fail()
    return report
