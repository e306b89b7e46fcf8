"""The API service's claim: subscribed users only, at most so many active tasks per user.

``fetch_unprocessed_tasks(api_service_enabled=True, maximum_active_tasks_per_user=N)`` reads
the subscriptions from the API service's own database (an SQLite file here, bound to
``ApiServiceBase``) and claims from the run's backend. Every test runs on both halves.
"""

import datetime
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from either import TaskRepository, open_session, remember_settings
from halves import Half, either_half  # noqa: F401
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aana.configs import DbSettings
from aana.exceptions.db import TableMissingException
from aana.storage.engine import create_database_engine
from aana.storage.models import BaseEntity, Status, TaskEntity
from aana.storage.models.api_key import ApiKeyEntity, ApiServiceBase
from aana.storage.types import utc_now

BASE = utc_now() - datetime.timedelta(hours=1)


@pytest.fixture
def api_engine(tmp_path: Any) -> Iterator[Engine]:
    """The API service's own database, made the documented way."""
    settings = DbSettings(datastore_config={"path": str(tmp_path / "api_service.db")})
    engine = remember_settings(create_database_engine(settings), settings)
    ApiServiceBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


def subscribe(api_engine: Engine, *users: str, active: bool = True) -> None:
    with Session(api_engine) as session:
        for user in users:
            key = f"key-{user}-{uuid.uuid4()}"
            session.add(
                ApiKeyEntity(
                    user_id=user,
                    is_subscription_active=active,
                    api_key=key,
                    key_id=key,
                    subscription_id=f"sub-{user}",
                    expired_at=utc_now() + datetime.timedelta(days=30),
                )
            )
        session.commit()


def bound(engine: Engine, api_engine: Engine) -> Session:
    """A session that reaches the tasks on ``engine`` and the API keys on ``api_engine``."""
    return open_session(engine, binds={ApiServiceBase: api_engine, BaseEntity: engine})


def add_tasks(engine: Engine, *rows: dict[str, Any]) -> list[uuid.UUID]:
    tasks = [
        TaskEntity(
            endpoint=f"/{n}",
            data={"n": n},
            created_at=BASE + datetime.timedelta(minutes=n),
            **{"status": Status.CREATED, **row},
        )
        for n, row in enumerate(rows)
    ]
    with open_session(engine) as session:
        session.add_all(tasks)
        session.commit()
        return [task.id for task in tasks]


def active_by_user(engine: Engine) -> dict[str | None, int]:
    with open_session(engine) as session:
        rows = session.execute(
            select(TaskEntity.user_id, func.count())
            .where(TaskEntity.status.in_([Status.ASSIGNED, Status.RUNNING]))
            .group_by(TaskEntity.user_id)
        )
        return {user: count for user, count in rows}


def claim(engine: Engine, api_engine: Engine, **options: Any) -> list[TaskEntity]:
    with bound(engine, api_engine) as session:
        return TaskRepository(session).fetch_unprocessed_tasks(api_service_enabled=True, **options)


def test_the_aana_sdk_scenario(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    """Aana SDK 0.2.4's own case: three subscribed users, one not, tasks without a user."""
    engine = transactional_db_engine
    subscribe(api_engine, "1", "2", "3")
    subscribe(api_engine, "4", active=False)
    running, created = Status.RUNNING, Status.CREATED
    ids = add_tasks(
        engine,
        {"user_id": "1", "status": running, "priority": 1},
        {"user_id": "1", "status": running, "priority": 2},
        {"user_id": "1", "status": created, "priority": 3},
        {"user_id": "1", "status": running, "priority": 3},
        {"user_id": "2", "status": running, "priority": 2},
        {"user_id": "2", "status": Status.NOT_FINISHED, "priority": 3},  # 5
        {"user_id": "2", "status": created, "priority": 1},
        {"user_id": "3", "status": created, "priority": 1},  # 7
        {
            "user_id": "3",
            "status": Status.FAILED,
            "priority": 3,  # 8
            "result": {"error": "InferenceException"},
        },
        {"user_id": "4", "status": created, "priority": 3},
        {"user_id": None, "status": created, "priority": 4},  # 10
        {"user_id": None, "status": running, "priority": 5},
        {"user_id": None, "status": Status.NOT_FINISHED, "priority": 3},  # 12
        {"user_id": None, "status": created, "priority": 2},  # 13
    )
    claimed = claim(
        engine,
        api_engine,
        max_retries=3,
        retryable_exceptions=["InferenceException"],
        maximum_active_tasks_per_user=2,
    )
    assert {task.id for task in claimed} == {ids[n] for n in (5, 7, 8, 10, 12, 13)}
    # Highest priority first, then oldest.
    assert [task.id for task in claimed] == [ids[n] for n in (10, 5, 8, 12, 13, 7)]
    assert all(task.status is Status.ASSIGNED and task.attempt == 1 for task in claimed)
    assert active_by_user(engine) == {"1": 3, "2": 2, "3": 2, None: 4}
    # Everything claimable is claimed: a second claim finds nothing.
    assert claim(engine, api_engine, maximum_active_tasks_per_user=2) == []


def test_a_user_is_served_up_to_the_limit_then_again_as_tasks_finish(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    subscribe(api_engine, "u")
    ids = add_tasks(engine, *({"user_id": "u", "priority": n % 3} for n in range(10)))
    first = claim(engine, api_engine, maximum_active_tasks_per_user=3)
    # The user's own claim order: highest priority, then oldest.
    assert [task.id for task in first] == [ids[2], ids[5], ids[8]]
    assert claim(engine, api_engine, maximum_active_tasks_per_user=3) == []
    with open_session(engine) as session:
        TaskRepository(session).update_status(ids[5], Status.COMPLETED, attempt=1)
    (then,) = claim(engine, api_engine, maximum_active_tasks_per_user=3)
    assert then.id == ids[1]
    # A limit one claim takes one, however large the budget.
    with open_session(engine) as session:
        TaskRepository(session).update_status(ids[8], Status.FAILED, attempt=1)
        TaskRepository(session).update_status(ids[2], Status.COMPLETED, attempt=1)
    assert [t.id for t in claim(engine, api_engine, limit=1, maximum_active_tasks_per_user=3)] == [
        ids[4]
    ]
    assert active_by_user(engine) == {"u": 2}
    # A limit of 0 claims nothing of the user's.
    assert claim(engine, api_engine, maximum_active_tasks_per_user=0) == []


def test_without_a_subscription_only_tasks_without_a_user_run(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    subscribe(api_engine, "lapsed", active=False)
    ids = add_tasks(
        engine, {"user_id": "lapsed"}, {"user_id": "unknown"}, {"user_id": None}, {"user_id": None}
    )
    claimed = claim(engine, api_engine, limit=10)
    assert {task.id for task in claimed} == {ids[2], ids[3]}
    # The same tasks without the API service: all of them.
    with open_session(engine) as session:
        rest = TaskRepository(session).fetch_unprocessed_tasks()
    assert {task.id for task in rest} == {ids[0], ids[1]}


def test_the_limit_counts_every_active_task_of_the_user(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    """Tasks ``assigned`` or ``running`` count, whoever claimed them; finished ones do not."""
    engine = transactional_db_engine
    subscribe(api_engine, "a", "b")
    add_tasks(
        engine,
        {"user_id": "a", "status": Status.ASSIGNED},
        {"user_id": "a", "status": Status.COMPLETED},
        {"user_id": "a", "status": Status.FAILED, "result": {"error": "Fatal"}},
        *({"user_id": "a"} for _ in range(5)),
        *({"user_id": "b", "status": Status.RUNNING} for _ in range(2)),
        *({"user_id": "b"} for _ in range(5)),
    )
    claimed = claim(engine, api_engine, maximum_active_tasks_per_user=2)
    assert Counter(task.user_id for task in claimed) == {"a": 1}
    assert active_by_user(engine) == {"a": 2, "b": 2}


def test_retryable_failures_take_their_place_in_the_users_order(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    subscribe(api_engine, "u")
    retry = {"user_id": "u", "status": Status.FAILED, "result": {"error": "Flaky"}}
    ids = add_tasks(
        engine,
        {"user_id": "u", "priority": 1},
        {**retry, "priority": 5},
        {**retry, "priority": 0, "num_retries": 3},  # out of retries
        {"user_id": "u", "priority": 2},
        {**retry, "priority": 0},
    )
    claimed = claim(
        engine,
        api_engine,
        maximum_active_tasks_per_user=2,
        max_retries=3,
        retryable_exceptions=["Flaky"],
    )
    assert [task.id for task in claimed] == [ids[1], ids[3]]
    more = claim(
        engine,
        api_engine,
        maximum_active_tasks_per_user=4,
        max_retries=3,
        retryable_exceptions=["Flaky"],
    )
    assert [task.id for task in more] == [ids[0], ids[4]]


def test_bad_arguments_and_a_missing_api_keys_table_are_named(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    (task_id,) = add_tasks(engine, {"user_id": None})
    with pytest.raises(
        ValueError, match="maximum_active_tasks_per_user must be at least 0, got -1"
    ):
        claim(engine, api_engine, maximum_active_tasks_per_user=-1)
    # A session that does not reach the API service's database: the app's has no api_keys.
    with open_session(engine) as session:
        repository = TaskRepository(session)
        with pytest.raises(TableMissingException) as missing:
            repository.fetch_unprocessed_tasks(api_service_enabled=True)
        assert "api_keys" in str(missing.value)
        assert "bind ApiServiceBase" in str(missing.value)
        assert "aana migrate" not in str(missing.value)
        # The session goes on, nothing was claimed.
        assert [t.id for t in repository.fetch_unprocessed_tasks()] == [task_id]


def test_workers_racing_never_exceed_a_users_limit(
    transactional_db_engine: Engine, api_engine: Engine, half: Half
) -> None:
    """Eight workers claim while new, more urgent tasks keep arriving: no user ever has more
    than the limit active, no task is claimed twice, and every user ends at the limit."""
    engine = transactional_db_engine
    users = [f"user{n}" for n in range(5)]
    subscribe(api_engine, *users)
    add_tasks(engine, *({"user_id": users[n % 5], "priority": 0} for n in range(100)))
    limit, workers, rounds = 3, 8, 6
    start = half.barrier(workers + 1)
    claimed: list[uuid.UUID] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        start.wait()
        for _ in range(rounds):
            tasks = claim(engine, api_engine, limit=2, maximum_active_tasks_per_user=limit)
            with lock:
                claimed.extend(task.id for task in tasks)
            over = {u: c for u, c in active_by_user(engine).items() if c > limit}
            assert not over, over

    def feed(_: int) -> None:
        start.wait()
        for priority in range(1, rounds + 1):
            add_tasks(engine, *({"user_id": user, "priority": priority} for user in users))

    def run(n: int) -> None:
        (feed if n == workers else work)(n)

    half.concurrently(run, workers + 1)
    assert len(claimed) == len(set(claimed))
    while claim(engine, api_engine, maximum_active_tasks_per_user=limit):
        pass
    assert active_by_user(engine) == {user: limit for user in users}


def test_a_claim_in_progress_keeps_the_next_one_off_its_users(
    transactional_db_engine: Engine, api_engine: Engine
) -> None:
    """Worker A has claimed the one place user u had left, and not yet committed, when a more
    urgent task of u's arrives and worker B claims. B must not take it: on PostgreSQL, B
    skips the user whose lock A holds; on SQLite, B waits for A's write lock, then finds u
    at the limit. (A claim that read u's active tasks before A's commit would take it.)"""
    engine = transactional_db_engine
    subscribe(api_engine, "u")
    ids = add_tasks(
        engine, {"user_id": "u", "status": Status.RUNNING}, *({"user_id": "u"} for _ in range(5))
    )
    results: list[list[TaskEntity]] = []

    def urgent_task() -> None:
        with Session(engine) as session:
            session.add(TaskEntity(endpoint="/urgent", data={}, user_id="u", priority=9))
            session.commit()

    def claim_b() -> None:
        results.append(claim(engine, api_engine, maximum_active_tasks_per_user=2))

    threads = [threading.Thread(target=urgent_task), threading.Thread(target=claim_b)]
    with bound(engine, api_engine) as a_session, a_session.begin():
        a_claim = TaskRepository(a_session).fetch_unprocessed_tasks(
            api_service_enabled=True, maximum_active_tasks_per_user=2
        )
        assert [task.id for task in a_claim] == [ids[1]]
        for thread in threads:  # On SQLite each waits for A's write lock; not for long.
            thread.start()
            thread.join(timeout=1)
    for thread in threads:
        thread.join()
    assert results == [[]]
    assert active_by_user(engine) == {"u": 2}
