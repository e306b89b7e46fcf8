"""Case 7: the async half, against the sync half and the raw async drivers.

Two measurements, each side by side in one run: claim throughput (tasks of one event loop,
each with its own ``AsyncSession``, draining a queue) and the per-test cost of
``async_db_session``. The async repositories run their synchronous twins through
``AsyncSession.run_sync``, so the comparison with the sync half shows what the greenlet bridge
and the async driver add; the raw async driver (aiosqlite, psycopg's ``AsyncConnection``)
running the same SQL is the floor.
"""

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiosqlite
import psycopg
from sqlalchemy import Engine, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from aana.configs import DbSettings
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.aio.repository import CaptionRepository as AsyncCaptionRepository
from aana.storage.aio.repository import TaskRepository as AsyncTaskRepository
from aana.storage.models import CaptionEntity
from aana.storage.types import utc_now
from aana.testing.isolation import isolated_async_session, isolated_session
from benchmarks.cases.claims import POSTGRES_CLAIM, SQLITE_CLAIM, draining, repository_worker
from benchmarks.cases.isolation import small_test
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, library_against, measure

BATCHES = (1, 10)
WORKERS = 4

_RAW_TEST_INSERT = (
    "INSERT INTO caption (caption_type, model, caption, timestamp, frame_id, created_at, "
    "updated_at) VALUES ('caption', 'bench-model', 'a caption', 1.0, 1, {now}, {now})"
)


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    engine = databases.migrated()
    async_engine = create_async_database_engine(DbSettings.from_url(engine.url))
    runner = asyncio.Runner()
    try:
        bench = _Bench(databases, engine, async_engine, runner, profile)
        return _claims(bench) + _isolation(bench)
    finally:
        runner.run(async_engine.dispose())
        runner.close()
        databases.drop(engine)


async def _raw_connection(engine: Engine) -> Any:
    """A connection of the raw async driver, set up as the production engine sets up its own."""
    if engine.dialect.name == "postgresql":
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return await psycopg.AsyncConnection.connect(conninfo)
    return await aiosqlite.connect(str(engine.url.database), timeout=60, isolation_level=None)


async def _raw_claim(connection: Any, batch: int) -> list[Any]:
    if isinstance(connection, psycopg.AsyncConnection):
        cursor = await connection.execute(POSTGRES_CLAIM, {"now": utc_now(), "limit": batch})
        rows = await cursor.fetchall()
        await connection.commit()
        return rows
    now = utc_now().replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    await connection.execute("BEGIN IMMEDIATE")
    cursor = await connection.execute(SQLITE_CLAIM, {"now": now, "limit": batch})
    rows = list(await cursor.fetchall())
    await connection.execute("COMMIT")
    return rows


@dataclass(frozen=True)
class _Bench:
    """What both measurements run on: one database, its two engines, one event loop."""

    databases: BenchDatabases
    engine: Engine
    async_engine: AsyncEngine
    runner: asyncio.Runner
    profile: Profile


def _claims(bench: _Bench) -> list[Comparison]:
    databases, engine, async_engine = bench.databases, bench.engine, bench.async_engine
    runner, profile = bench.runner, bench.profile

    async def async_worker(batch: int) -> list[Any]:
        claimed: list[Any] = []
        async with AsyncSession(async_engine, expire_on_commit=False) as session:
            tasks = AsyncTaskRepository(session)
            while claim := await tasks.fetch_unprocessed_tasks(limit=batch):
                claimed += [task.id for task in claim]
        return claimed

    async def raw_worker(batch: int) -> list[Any]:
        claimed: list[Any] = []
        connection = await _raw_connection(engine)
        try:
            while rows := await _raw_claim(connection, batch):
                claimed += [row[0] for row in rows]
        finally:
            await connection.close()
        return claimed

    def on_loop(worker: Callable[[int], Awaitable[list[Any]]]) -> Callable[[int], list[Any]]:
        def drain(batch: int) -> list[Any]:
            async def together() -> list[Any]:
                results = await asyncio.gather(*(worker(batch) for _ in range(WORKERS)))
                return [task_id for claimed in results for task_id in claimed]

            return runner.run(together())

        return drain

    def on_threads(batch: int) -> list[Any]:
        with ThreadPoolExecutor(WORKERS) as pool:
            futures = [pool.submit(repository_worker, engine, batch) for _ in range(WORKERS)]
            return [task_id for future in futures for task_id in future.result()]

    def contender(name: str, drain: Callable[[int], list[Any]], batch: int) -> Contender:
        return draining(
            f"{name}, limit={batch}",
            lambda: drain(batch),
            profile.claims * batch,
            databases,
            engine,
        )

    comparisons: list[Comparison] = []
    for batch in BATCHES:
        library = contender(
            f"async fetch_unprocessed_tasks, {WORKERS} tasks", on_loop(async_worker), batch
        )
        baselines = [
            contender(f"sync fetch_unprocessed_tasks, {WORKERS} threads", on_threads, batch),
            contender(f"raw async driver claim, {WORKERS} tasks", on_loop(raw_worker), batch),
        ]
        contenders = [library, *baselines]
        library_stats, *baseline_stats = measure(contenders, profile.warmup, profile.repetitions)
        comparisons += [
            Comparison(
                case=CASE.name,
                backend=databases.backend,
                library=library.name,
                baseline=baseline.name,
                library_stats=library_stats,
                baseline_stats=stats,
                unit="claims",
                throughput=True,
            )
            for baseline, stats in zip(baselines, baseline_stats, strict=True)
        ]
    return comparisons


def _isolation(bench: _Bench) -> list[Comparison]:
    databases, engine, async_engine = bench.databases, bench.engine, bench.async_engine
    runner, profile = bench.runner, bench.profile
    count = select(func.count()).select_from(CaptionEntity)

    async def async_tests() -> None:
        for _ in range(profile.tests):
            async with isolated_async_session(async_engine) as session:
                await AsyncCaptionRepository(session).save(
                    "bench-model", "a caption", timestamp=1.0, frame_id=1
                )
                assert await session.scalar(count) == 1

    def sync_tests() -> None:
        for _ in range(profile.tests):
            with isolated_session(engine) as session:
                small_test(session)

    postgres = databases.backend == "postgresql"
    now = "now()" if postgres else "CURRENT_TIMESTAMP"
    insert = _RAW_TEST_INSERT.format(now=now)

    async def raw_tests() -> None:
        # A pool would keep the connection open between tests: so does this one.
        connection = await _raw_connection(engine)
        try:
            for _ in range(profile.tests):
                if postgres:
                    await connection.execute(insert)
                    cursor = await connection.execute("SELECT count(*) FROM caption")
                    assert (await cursor.fetchone())[0] == 1
                    await connection.rollback()
                else:
                    await connection.execute("BEGIN")
                    await connection.execute(insert)
                    cursor = await connection.execute("SELECT count(*) FROM caption")
                    assert (await cursor.fetchone())[0] == 1
                    await connection.execute("ROLLBACK")
        finally:
            await connection.close()

    library = Contender("async_db_session", lambda: runner.run(async_tests()), ops=profile.tests)
    return library_against(
        CASE.name,
        databases.backend,
        "test",
        library,
        [
            (Contender("db_session", sync_tests, ops=profile.tests), None),
            (
                Contender(
                    "raw async driver: BEGIN, INSERT, count, ROLLBACK",
                    lambda: runner.run(raw_tests()),
                    ops=profile.tests,
                ),
                None,
            ),
        ],
        profile.warmup,
        profile.fine_repetitions,
    )


CASE = Case(
    name="async",
    summary=(
        "the async half. Claims: tasks of one event loop, each with its own `AsyncSession`, "
        f"drain a queue calling the async `TaskRepository.fetch_unprocessed_tasks(limit=...)` "
        f"({WORKERS} tasks, limit 1 and 10), against {WORKERS} threads calling the sync "
        "repository and against the same number of tasks running the claims case's plain SQL "
        "on the raw async driver (aiosqlite, psycopg's `AsyncConnection`); figures are tasks "
        "claimed per second. Per-test cost: one test with `async_db_session` (the fixture's "
        "own `isolated_async_session`, the async `CaptionRepository.save`, a count), against "
        "the same test with `db_session`, and against the raw async driver doing the least "
        "an isolated test can (BEGIN, INSERT, count, ROLLBACK on one kept connection)."
    ),
    run=run,
)
