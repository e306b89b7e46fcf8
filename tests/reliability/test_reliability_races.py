"""Races: many writers at once, on threads and on processes.

Each thread and each process has its own connection, released together by a barrier so that
the writes really overlap.
"""

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from either import VideoRepository, open_session
from halves import Half
from reliability_workers import engine_like, init_worker, insert_captions
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from aana.core.models import Video
from aana.exceptions.db import MediaIdAlreadyExistsException
from aana.storage.models import CaptionEntity, MediaEntity, VideoEntity

WRITERS = 16
ROUNDS = 5
PROCESSES = 4
CAPTIONS_PER_PROCESS = 500


def test_sixteen_writers_create_the_same_media_id(
    transactional_db_engine: Engine, half: Half
) -> None:
    """Exactly one writer wins each round; the other 15 get MediaIdAlreadyExistsException.

    The writers are threads on the sync half and tasks of one event loop on the async half.
    """
    # One connection per writer: the default pool (5 + 10 overflow) would make the 16th wait.
    engine = engine_like(transactional_db_engine, pool_size=WRITERS, max_overflow=0)
    outcomes: Counter[str] = Counter()
    try:
        for round_ in range(ROUNDS):
            media_id = f"contested-{round_}"
            barrier = half.barrier(WRITERS)

            def create(writer: int, media_id: str = media_id, barrier: Any = barrier) -> str:
                with open_session(engine) as session:
                    repository = VideoRepository(session)
                    repository.check_media_exists("warm-up")  # connected before the start
                    session.rollback()
                    barrier.wait(60)
                    try:
                        repository.save(Video(media_id=media_id, title=f"writer {writer}"))
                    except MediaIdAlreadyExistsException as error:
                        assert error.media_id == media_id
                        # The loser's session is still usable and sees the winner's row.
                        assert repository.check_media_exists(media_id)
                        return "already exists"
                    return "created"

            # Any other exception escapes and fails the test.
            results = Counter(half.concurrently(create, WRITERS))
            assert results == {"created": 1, "already exists": WRITERS - 1}, results
            outcomes += results
    finally:
        engine.dispose()
    with Session(transactional_db_engine) as session:
        assert session.scalar(select(func.count()).select_from(MediaEntity)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(VideoEntity)) == ROUNDS
    assert outcomes == {"created": ROUNDS, "already exists": ROUNDS * (WRITERS - 1)}
    print(f"{ROUNDS} rounds x {WRITERS} {half.name} writers: {dict(outcomes)}")


@pytest.mark.parametrize(
    "process_half", ["sync", pytest.param("async", marks=pytest.mark.async_half)]
)
def test_four_processes_insert_captions_at_once(
    transactional_db_engine: Engine, process_half: str
) -> None:
    """4 processes x 500 one-row transactions into one SQLite file: every row, no lock errors.

    The processes save through the sync repositories, or through the async ones on aiosqlite.
    """
    if transactional_db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: one file, one writer at a time; PostgreSQL has no such lock")
    url = transactional_db_engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    with ProcessPoolExecutor(
        PROCESSES, mp_context=context, initializer=init_worker, initargs=(barrier,)
    ) as pool:
        futures = [
            pool.submit(insert_captions, url, worker, CAPTIONS_PER_PROCESS, process_half)
            for worker in range(PROCESSES)
        ]
        reports = [future.result(timeout=120) for future in futures]
    errors = [error for report in reports for error in report["errors"]]
    print(f"{PROCESSES} processes x {CAPTIONS_PER_PROCESS} saves: {len(errors)} errors")
    assert errors == [], errors[:5]
    assert [report["saved"] for report in reports] == [CAPTIONS_PER_PROCESS] * PROCESSES
    with Session(transactional_db_engine) as session:
        per_worker = dict(
            session.execute(
                select(
                    CaptionEntity.model, func.count(func.distinct(CaptionEntity.frame_id))
                ).group_by(CaptionEntity.model)
            ).all()
        )
        assert per_worker == {f"worker-{n}": CAPTIONS_PER_PROCESS for n in range(PROCESSES)}
        total = session.scalar(select(func.count()).select_from(CaptionEntity))
        assert total == PROCESSES * CAPTIONS_PER_PROCESS
        assert session.scalar(text("PRAGMA integrity_check")) == "ok"


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """A race test must not leave threads behind that would write into the next test."""
    before = threading.active_count()
    yield
    assert threading.active_count() <= before
