"""Helpers of the reliability tests that worker processes import by name.

Processes are started with ``spawn`` (a fork would copy the parent's pooled connections and
threads), so whatever they run must live in an importable module, not in a test file.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from either import CaptionRepository, async_twin, on_async_half, on_half, open_session
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import URL

from aana.configs import DbSettings
from aana.storage.engine import create_database_engine

_barrier: Any = None


def settings_for(url: str | URL, **pool: int) -> DbSettings:
    """Return the settings of the database at ``url``, as an app would write them in DB_CONFIG."""
    return DbSettings.from_url(url, **pool)


def engine_like(engine: Engine, **pool: int) -> Engine:
    """A second engine on the same database, built by aana's own engine factory."""
    return create_database_engine(settings_for(engine.url, **pool))


def init_worker(barrier: Any) -> None:
    """Process initializer: keep the start barrier, which can only be passed at start-up."""
    global _barrier
    _barrier = barrier


def insert_captions(url: str, worker: int, count: int, half: str = "sync") -> dict[str, Any]:
    """Save ``count`` captions, one transaction each, as a busy worker process would.

    Returns:
        dict: How many saves succeeded and the text of every error, so that the parent can
        report them all instead of the first.
    """
    return on_half(half, _insert_captions, url, worker, count)


def _insert_captions(url: str, worker: int, count: int) -> dict[str, Any]:
    engine = create_database_engine(settings_for(url))
    saved, errors = 0, []
    try:
        with open_session(engine) as session:
            repository = CaptionRepository(session)
            repository.read(1, check=False)  # connect before the barrier, not after it
            session.rollback()
            if _barrier is not None:
                _barrier.wait(timeout=60)
            for frame in range(count):
                try:
                    repository.save(f"worker-{worker}", f"frame {frame}", frame / 30.0, frame)
                    saved += 1
                except Exception as error:
                    session.rollback()
                    errors.append(f"{type(error).__name__}: {error}")
    finally:
        engine.dispose()
    return {"worker": worker, "saved": saved, "errors": errors}


def start_together(parties: int) -> threading.Barrier:
    """A barrier for threads, with a timeout so that a broken test cannot hang the suite."""
    return threading.Barrier(parties, timeout=60)


@contextmanager
def recorded_sql(engine: Engine) -> Iterator[list[str]]:
    """Record every statement sent to the database on ``engine`` while the block runs.

    ``BEGIN`` statements that aana's SQLite engine emits itself are recorded too, since they
    go through the cursor as well.
    """
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    # On the async half, the statements go through the engine's async twin.
    engines = [engine, async_twin(engine).sync_engine] if on_async_half() else [engine]
    for target in engines:
        event.listen(target, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for target in engines:
            event.remove(target, "before_cursor_execute", record)


def terminate_backends(engine: Engine) -> int:
    """Terminate every other connection to the engine's database; return how many there were."""
    killer = engine_like(engine, pool_size=1)
    try:
        with killer.connect() as connection:
            # The timeout makes pg_terminate_backend wait until each backend has exited.
            killed = connection.scalar(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                    "FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        killer.dispose()
    return int(killed or 0)
