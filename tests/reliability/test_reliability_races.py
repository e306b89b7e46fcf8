"""Races: many writers at once, on threads and on processes.

Each thread and each process has its own connection, released together by a barrier so that
the writes really overlap.
"""

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from reliability_workers import engine_like, init_worker, insert_captions, start_together
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from aana.core.models import Video
from aana.exceptions.db import MediaIdAlreadyExistsException
from aana.storage.models import CaptionEntity, MediaEntity, VideoEntity
from aana.storage.repository import VideoRepository

THREADS = 16
ROUNDS = 5
PROCESSES = 4
CAPTIONS_PER_PROCESS = 500


def test_sixteen_threads_create_the_same_media_id(transactional_db_engine: Engine) -> None:
    """Exactly one thread wins each round; the other 15 get MediaIdAlreadyExistsException."""
    # One connection per thread: the default pool (5 + 10 overflow) would make the 16th wait.
    engine = engine_like(transactional_db_engine, pool_size=THREADS, max_overflow=0)
    outcomes: Counter[str] = Counter()
    try:
        for round_ in range(ROUNDS):
            media_id = f"contested-{round_}"
            barrier = start_together(THREADS)

            def create(
                thread: int, media_id: str = media_id, barrier: threading.Barrier = barrier
            ) -> str:
                with Session(engine) as session:
                    repository = VideoRepository(session)
                    repository.check_media_exists("warm-up")  # connected before the start
                    session.rollback()
                    barrier.wait()
                    try:
                        repository.save(Video(media_id=media_id, title=f"thread {thread}"))
                    except MediaIdAlreadyExistsException as error:
                        assert error.media_id == media_id
                        # The loser's session is still usable and sees the winner's row.
                        assert repository.check_media_exists(media_id)
                        return "already exists"
                    return "created"

            # Any other exception escapes pool.map and fails the test.
            with ThreadPoolExecutor(THREADS) as pool:
                results = Counter(pool.map(create, range(THREADS)))
            assert results == {"created": 1, "already exists": THREADS - 1}, results
            outcomes += results
    finally:
        engine.dispose()
    with Session(transactional_db_engine) as session:
        assert session.scalar(select(func.count()).select_from(MediaEntity)) == ROUNDS
        assert session.scalar(select(func.count()).select_from(VideoEntity)) == ROUNDS
    assert outcomes == {"created": ROUNDS, "already exists": ROUNDS * (THREADS - 1)}
    print(f"{ROUNDS} rounds x {THREADS} threads: {dict(outcomes)}")


def test_four_processes_insert_captions_at_once(transactional_db_engine: Engine) -> None:
    """4 processes x 500 one-row transactions into one SQLite file: every row, no lock errors."""
    if transactional_db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: one file, one writer at a time; PostgreSQL has no such lock")
    url = transactional_db_engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    with ProcessPoolExecutor(
        PROCESSES, mp_context=context, initializer=init_worker, initargs=(barrier,)
    ) as pool:
        futures = [
            pool.submit(insert_captions, url, worker, CAPTIONS_PER_PROCESS)
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
