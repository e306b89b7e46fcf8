"""Faults 3 and 4 of issue 10, with two processes on one SQLite file and a 2-second busy timeout.

Fault 3: after a caught error in process A, whose session stays open, process B must write at
once, not wait out its busy timeout and fail with "database is locked". Fault 4: A reads, B
commits, A writes: A's write must succeed.
"""

import math
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from transaction_rule_support import (
    raw_insert_task,
    raw_insert_video,
    raw_media_ids,
    rule_engine,
)
from transaction_workers import SHORT_BUSY_TIMEOUT, sessions, timed_write, warm_up

from aana.core.models import Video
from aana.exceptions.db import (
    CheckViolation,
    DatabaseException,
    InvalidValueException,
    MediaIdAlreadyExistsException,
)
from aana.storage.models.task import Status
from aana.storage.repository import CaptionRepository, TaskRepository, VideoRepository


@pytest.fixture(scope="module")
def process_b() -> Iterator[ProcessPoolExecutor]:
    """Process B: one spawned worker, started once for the module."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture
def engine(transactional_db_engine: Engine, process_b: ProcessPoolExecutor) -> Iterator[Engine]:
    if transactional_db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: its write lock is per database file")
    with rule_engine(transactional_db_engine) as engine:
        # B has imported aana and opened the file before anything is timed.
        assert process_b.submit(warm_up, str(engine.url.database)).result(timeout=120) == "ready"
        yield engine


@pytest.fixture
def session_a(engine: Engine) -> Iterator[Session]:
    with sessions(engine)() as session:
        yield session


def write_in_b(process_b: ProcessPoolExecutor, engine: Engine, kind: str, name: str) -> None:
    """B writes once; it must succeed within its busy timeout."""
    outcome = process_b.submit(timed_write, str(engine.url.database), kind, name).result(timeout=60)
    assert "database is locked" not in outcome["error"], outcome
    assert outcome["ok"], outcome
    assert outcome["seconds"] < SHORT_BUSY_TIMEOUT, outcome


def taken_media_id(session: Session, engine: Engine) -> None:
    raw_insert_video(engine, "taken")
    with pytest.raises(MediaIdAlreadyExistsException):
        VideoRepository(session).save(Video(media_id="taken"))


def check_violation(session: Session, engine: Engine) -> None:
    with pytest.raises(CheckViolation):
        CaptionRepository(session).save("m", "negative frame", 1.0, -1)


def priority_out_of_range(session: Session, engine: Engine) -> None:
    with pytest.raises(InvalidValueException):
        TaskRepository(session).save("ep", {}, priority=2**70)


def nan_progress(session: Session, engine: Engine) -> None:
    task_id = raw_insert_task(engine, status=Status.RUNNING)
    # The exception's type is checked by the fault-6 tests; here the lock is.
    with pytest.raises(DatabaseException):
        TaskRepository(session).update_status(task_id, Status.RUNNING, progress=math.nan)


FAILURES: dict[str, Callable[[Session, Engine], None]] = {
    "taken media id": taken_media_id,
    "check violation": check_violation,
    "priority out of range": priority_out_of_range,
    "nan progress": nan_progress,
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("kind", ["video", "caption"])
def test_b_writes_at_once_after_a_caught_error_in_a(
    failure: str, kind: str, engine: Engine, session_a: Session, process_b: ProcessPoolExecutor
) -> None:
    FAILURES[failure](session_a, engine)
    # A's session stays open, as an application's would after catching the error.
    write_in_b(process_b, engine, kind, "from-b")
    # ...and A goes on working.
    VideoRepository(session_a).save(Video(media_id="from-a"))
    assert {"from-a"} <= raw_media_ids(engine)
    if kind == "video":
        assert "from-b" in raw_media_ids(engine)


ReadThenWrite = Callable[[Session], Callable[[], Any]]


def check_then_save(session: Session) -> Callable[[], Any]:
    videos = VideoRepository(session)
    assert videos.check_media_exists("mine") is False
    return lambda: videos.save(Video(media_id="mine"))


def read_then_save_all(session: Session) -> Callable[[], Any]:
    captions = CaptionRepository(session)
    assert captions.read(1, check=False) is None
    return lambda: captions.save_all("m", ["a", "b"], [1.0, 2.0], [1, 2])


def read_then_delete(session: Session) -> Callable[[], Any]:
    videos = VideoRepository(session)
    videos.save(Video(media_id="doomed"))
    assert videos.read("doomed") is not None
    return lambda: videos.delete("doomed")


def get_metadata_then_save(session: Session) -> Callable[[], Any]:
    videos = VideoRepository(session)
    videos.save(Video(media_id="known", title="t"))
    assert videos.get_metadata("known").title == "t"
    return lambda: videos.save(Video(media_id="mine"))


READ_THEN_WRITE: dict[str, ReadThenWrite] = {
    "check_media_exists then save": check_then_save,
    "caption read then save_all": read_then_save_all,
    "read then delete": read_then_delete,
    "get_metadata then save": get_metadata_then_save,
}


@pytest.mark.parametrize("scenario", list(READ_THEN_WRITE))
def test_a_reads_b_commits_a_writes(
    scenario: str, engine: Engine, session_a: Session, process_b: ProcessPoolExecutor
) -> None:
    write = READ_THEN_WRITE[scenario](session_a)
    write_in_b(process_b, engine, "video", "from-b")
    write()
    assert not session_a.in_transaction()
    assert "from-b" in raw_media_ids(engine)
