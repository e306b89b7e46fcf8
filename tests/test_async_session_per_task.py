"""Concurrent repository calls on one AsyncSession fail alike in production and under the plugin.

SQLAlchemy refuses concurrent operations on one session ("concurrent operations are not
permitted"), and the session then cannot even close (``IllegalStateChangeError``); the
plugin's ``async_db_session`` let the same code pass, its sessions taking turns on the test's
connection. Now both refuse the second call with :class:`ConcurrentSessionUseException`
before it sends anything, and the session goes on; separate sessions, one per task, work in
both (taking turns under the plugin, on connections of their own in production).
"""

import asyncio
import pickle

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from aana.exceptions.db import ConcurrentSessionUseException, NotFoundException
from aana.storage.aio.repository import TaskRepository
from aana.storage.aio.session import get_async_session

CALLS = 20


async def gather_on_one_session(session: AsyncSession) -> list[object]:
    tasks = TaskRepository(session)
    return await asyncio.gather(
        *(tasks.save("/e", {"n": n}) for n in range(CALLS)), return_exceptions=True
    )


def assert_one_ran_and_the_rest_were_refused(results: list[object]) -> None:
    refused = [r for r in results if isinstance(r, ConcurrentSessionUseException)]
    others = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == CALLS - 1, others
    assert len(others) == CALLS - 1
    message = str(refused[0])
    assert "TaskRepository.save: this AsyncSession is running TaskRepository.save" in message
    assert "session of its own" in message
    assert str(pickle.loads(pickle.dumps(refused[0]))) == message


async def gather_on_sessions_of_their_own() -> list[int]:
    async def handle(n: int) -> int:
        async with get_async_session() as session:
            return (await TaskRepository(session).save("/e", {"n": n})).id is not None

    return await asyncio.gather(*(handle(n) for n in range(CALLS)))


async def test_in_production_one_session_runs_one_call_and_goes_on(
    async_transactional_db_engine: AsyncEngine,
) -> None:
    # async_transactional_db_engine's sessions are production's: a connection each, real commits.
    async with get_async_session() as session:
        assert_one_ran_and_the_rest_were_refused(await gather_on_one_session(session))
        assert (await TaskRepository(session).count())["total"] == 1
    # Leaving the block closed the session: no IllegalStateChangeError.
    async with get_async_session() as other:
        assert (await TaskRepository(other).count())["total"] == 1


async def test_in_production_a_session_per_task_works(
    async_transactional_db_engine: AsyncEngine,
) -> None:
    assert all(await gather_on_sessions_of_their_own())
    async with get_async_session() as session:
        assert (await TaskRepository(session).count())["total"] == CALLS


async def test_under_async_db_session_one_session_fails_as_in_production(
    async_db_session: AsyncSession,
) -> None:
    assert_one_ran_and_the_rest_were_refused(await gather_on_one_session(async_db_session))
    assert (await TaskRepository(async_db_session).count())["total"] == 1


async def test_under_async_db_session_an_app_session_fails_as_in_production(
    async_db_session: AsyncSession,
) -> None:
    async with get_async_session() as session:
        assert_one_ran_and_the_rest_were_refused(await gather_on_one_session(session))
    assert (await TaskRepository(async_db_session).count())["total"] == 1


async def test_under_async_db_session_a_session_per_task_takes_turns(
    async_db_session: AsyncSession,
) -> None:
    assert all(await gather_on_sessions_of_their_own())
    assert (await TaskRepository(async_db_session).count())["total"] == CALLS


async def test_a_refused_call_leaves_no_mark_on_a_session_that_failed(
    async_db_session: AsyncSession,
) -> None:
    tasks = TaskRepository(async_db_session)
    with pytest.raises(NotFoundException):
        await tasks.read(-1)
    assert (await tasks.count())["total"] == 0
