"""Run a synchronous test on both halves of the library: the sync one and the async one.

A test opts in by asking for the ``half`` fixture, or for ``db_session`` in a module that
imports :func:`either_half` (a ``db_session`` that asks for ``half``), and by taking its
sessions from ``either.open_session`` and its repository classes from ``either``:

- ``sync``: the synchronous session and repositories, as everywhere else.
- ``async``: the test body runs in a greenlet on an event loop, as SQLAlchemy runs
  ``AsyncSession.run_sync``; sessions are the ``sync_session`` of ``AsyncSession`` objects on
  the async engine (aiosqlite, psycopg async), ``db_session`` is made as ``async_db_session``
  makes it, and every repository call goes through the async repository, awaited on the
  loop (see ``either``).

So the same test body, unchanged, checks both halves.
"""

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from either import async_twin, dispose_twins
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only, greenlet_spawn

from aana.testing.isolation import isolated_async_session, isolated_session

T = TypeVar("T")

_RUNNER = pytest.StashKey[asyncio.Runner]()


@dataclass
class Half:
    """Which half a test runs on, and how it runs things concurrently there."""

    name: str
    runner: asyncio.Runner | None = None

    @contextmanager
    def session(self, engine: Engine, **options: Any) -> Iterator[Session]:
        """A new session on ``engine``'s database, on this half, for a fixture to hand out.

        A test body takes its sessions from ``either.open_session``: this one is opened and
        closed outside the test body's greenlet, so that its closing is awaited on the loop.
        """
        if self.runner is None:
            with Session(engine, **options) as session:
                yield session
            return
        async_session = AsyncSession(async_twin(engine), **options)
        try:
            yield async_session.sync_session
        finally:
            self.runner.run(async_session.close())

    def concurrently(self, work: Callable[[int], T], count: int) -> list[T]:
        """Run ``work(0)`` ... ``work(count - 1)`` at once: threads, or tasks of the loop."""
        if self.name == "sync":
            with ThreadPoolExecutor(count) as threads:
                return list(threads.map(work, range(count)))

        async def all_tasks() -> list[T]:
            return list(await asyncio.gather(*(greenlet_spawn(work, n) for n in range(count))))

        return await_only(all_tasks())

    def barrier(self, parties: int) -> Any:
        """A start line for ``parties`` workers of :meth:`concurrently`."""
        if self.name == "sync":
            return threading.Barrier(parties)
        return _LoopBarrier(asyncio.Barrier(parties))


class _LoopBarrier:
    def __init__(self, barrier: asyncio.Barrier) -> None:
        self._barrier = barrier

    def wait(self, timeout: float | None = None) -> None:
        await_only(asyncio.wait_for(self._barrier.wait(), timeout))


@pytest.fixture(params=["sync", pytest.param("async", marks=pytest.mark.async_half)])
def half(request: pytest.FixtureRequest) -> Iterator[Half]:
    """The half the test runs on; on the async half, the event loop its body runs on."""
    if request.param == "sync":
        yield Half("sync")
        return
    with asyncio.Runner() as runner:
        request.node.stash[_RUNNER] = runner
        try:
            yield Half("async", runner)
        finally:
            del request.node.stash[_RUNNER]
            runner.run(dispose_twins())


@pytest.fixture(name="db_session")
def either_half(half: Half, request: pytest.FixtureRequest) -> Iterator[Session]:
    """The test's isolated session, on the half the test runs on."""
    if half.name == "sync":
        engine: Engine = request.getfixturevalue("db_engine")
        with isolated_session(engine) as session:
            yield session
        return
    runner = request.node.stash[_RUNNER]
    async_engine: AsyncEngine = request.getfixturevalue("async_db_engine")
    isolated = isolated_async_session(async_engine)
    async_session = runner.run(isolated.__aenter__())
    try:
        yield async_session.sync_session
    finally:
        runner.run(isolated.__aexit__(None, None, None))


def run_test(item: pytest.Function) -> bool | None:
    """Run an async-half test's body in a greenlet on its loop; None for other tests."""
    runner = item.stash.get(_RUNNER, None)
    if runner is None:
        return None
    arguments = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    runner.run(greenlet_spawn(item.obj, **arguments))
    return True
