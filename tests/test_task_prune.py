"""TaskRepository.prune: deleting old finished tasks in batches, beside working claimers.

On both backends and both halves. The method's semantics run in the test's isolated session;
the races commit for real, on a database of their own.
"""

import datetime
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from either import TaskRepository, open_session
from halves import Half, either_half  # noqa: F401
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from aana.storage.models import Status, TaskEntity
from aana.storage.repository.retention import PrunedTasks
from aana.storage.types import utc_now

DAY = datetime.timedelta(days=1)
LONG_AGO = datetime.timedelta(days=40)


def seed(session: Session, count: int, status: Status, finished_ago: datetime.timedelta | None):
    """Insert ``count`` tasks with that status, finished that long ago (or never)."""
    now = utc_now()
    completed_at = None if finished_ago is None else now - finished_ago
    entities = [
        TaskEntity(endpoint="/prune", data={"n": n}, status=status, completed_at=completed_at)
        for n in range(count)
    ]
    return [task.id for task in TaskRepository(session).create_multiple(entities)]


def stored_ids(session: Session) -> set[Any]:
    return set(session.scalars(select(TaskEntity.id)))


def seed_every_kind(db_session: Session) -> dict[str, list[Any]]:
    """Tasks of every kind, old and recent; ``old_*`` are the ones a default prune deletes.

    In the test body, not a fixture: on the async half only the body runs on the loop.
    """
    return {
        "old_completed": seed(db_session, 5, Status.COMPLETED, LONG_AGO),
        "old_failed": seed(db_session, 3, Status.FAILED, LONG_AGO),
        "recent_completed": seed(db_session, 2, Status.COMPLETED, datetime.timedelta(hours=1)),
        "recent_failed": seed(db_session, 2, Status.FAILED, datetime.timedelta(hours=1)),
        # Not finished, though they carry an old completed_at (a task moved back by a late
        # update, one requeued after it failed): never pruned.
        **{
            status.value: seed(db_session, 2, status, LONG_AGO)
            for status in (Status.CREATED, Status.ASSIGNED, Status.RUNNING, Status.NOT_FINISHED)
        },
        "never_finished": seed(db_session, 2, Status.CREATED, None),
    }


def test_prune_deletes_finished_tasks_older_than_the_cutoff_in_batches(db_session: Session) -> None:
    tasks = seed_every_kind(db_session)
    seen: list[tuple[int, int]] = []

    pruned = TaskRepository(db_session).prune(
        30 * DAY, batch_size=3, progress=lambda so_far: seen.append((so_far.batches, so_far.total))
    )

    assert pruned.counts == {Status.COMPLETED: 5, Status.FAILED: 3}
    assert pruned.total == 8
    assert pruned.batches == 3
    assert seen == [(1, 3), (2, 6), (3, 8)]
    assert not pruned.dry_run
    assert abs(pruned.cutoff - (utc_now() - 30 * DAY)) < datetime.timedelta(minutes=1)
    kept = {key for key in tasks if not key.startswith("old_")}
    assert stored_ids(db_session) == {task_id for key in kept for task_id in tasks[key]}


def test_prune_of_one_status_keeps_the_other(db_session: Session) -> None:
    tasks = seed_every_kind(db_session)
    pruned = TaskRepository(db_session).prune(30 * DAY, statuses=["failed"])

    assert pruned.counts == {Status.FAILED: 3}
    remaining = stored_ids(db_session)
    assert remaining.isdisjoint(tasks["old_failed"])
    assert remaining.issuperset(tasks["old_completed"])


def test_prune_before_an_instant(db_session: Session) -> None:
    tasks = seed_every_kind(db_session)
    # Two hours ago: the recent ones (an hour ago) stay, the old ones go.
    pruned = TaskRepository(db_session).prune(utc_now() - 2 * datetime.timedelta(hours=1))

    assert pruned.total == 8
    assert stored_ids(db_session).isdisjoint(tasks["old_completed"] + tasks["old_failed"])


def test_a_dry_run_counts_and_deletes_nothing(db_session: Session) -> None:
    seed_every_kind(db_session)
    before = stored_ids(db_session)
    seen: list[PrunedTasks] = []

    pruned = TaskRepository(db_session).prune(30 * DAY, dry_run=True, progress=seen.append)

    assert pruned.dry_run
    assert pruned.counts == {Status.COMPLETED: 5, Status.FAILED: 3}
    assert seen == [pruned]
    assert "Would delete 8 tasks (completed: 5, failed: 3)" in pruned.describe()
    assert stored_ids(db_session) == before


def test_nothing_to_prune_is_zero_of_each_status(db_session: Session) -> None:
    seed(db_session, 2, Status.COMPLETED, datetime.timedelta(hours=1))

    pruned = TaskRepository(db_session).prune(DAY)

    assert pruned.counts == {Status.COMPLETED: 0, Status.FAILED: 0}
    assert pruned.batches == 0
    assert pruned.describe().startswith("Deleted 0 tasks (completed: 0, failed: 0)")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"older_than": datetime.timedelta(0)}, "older_than must be a positive duration"),
        ({"older_than": -DAY}, "older_than must be a positive duration"),
        ({"older_than": datetime.datetime(2020, 1, 1)}, "has no time zone"),
        ({"older_than": datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC)}, "in the future"),
        ({"statuses": ["running"]}, "'running' tasks are not finished"),
        ({"statuses": ["completed", "created"]}, "'created' tasks are not finished"),
        ({"statuses": [Status.ASSIGNED]}, "'assigned' tasks are not finished"),
        ({"statuses": "not_finished"}, "'not_finished' tasks are not finished"),
        ({"statuses": ["done"]}, "unknown task status 'done'"),
        ({"statuses": []}, "no status to prune"),
        ({"batch_size": 0}, "batch_size must be from 1"),
        ({"batch_size": 10**9}, "batch_size must be from 1"),
        ({"batch_size": True}, "batch_size must be a whole number"),
    ],
)
def test_bad_arguments_are_refused_naming_them_and_delete_nothing(
    db_session: Session, arguments: dict[str, Any], message: str
) -> None:
    seed_every_kind(db_session)
    before = stored_ids(db_session)
    repository = TaskRepository(db_session)

    with pytest.raises(ValueError, match=message):
        repository.prune(**{"older_than": DAY, **arguments})

    assert stored_ids(db_session) == before
    assert repository.prune(30 * DAY, dry_run=True).total == 8  # the session goes on


def test_an_age_that_is_not_a_duration_is_a_type_error(db_session: Session) -> None:
    with pytest.raises(TypeError, match=r"older_than must be a datetime\.timedelta"):
        TaskRepository(db_session).prune(30)  # type: ignore[arg-type]


# Concurrency: databases that commit for real.


@pytest.fixture
def engine(transactional_db_engine: Engine) -> Iterator[Engine]:
    yield transactional_db_engine


FINISHED = 20_000
CLAIMABLE = 3_000
CLAIMERS = 3


def test_claims_go_on_while_a_prune_of_many_rows_runs(engine: Engine, half: Half) -> None:
    """Workers claim all along a prune of 20,000 rows: none waits for it to end."""
    with open_session(engine) as session:
        seed(session, FINISHED // 2, Status.COMPLETED, LONG_AGO)
        seed(session, FINISHED // 2, Status.FAILED, LONG_AGO)
        claimable = set(seed(session, CLAIMABLE, Status.CREATED, None))
    first_batch_at: list[float] = []
    pruned_at: list[float] = []
    claims: list[tuple[float, Any]] = []
    start = half.barrier(CLAIMERS + 1)

    def work(worker: int) -> PrunedTasks | None:
        with open_session(engine, expire_on_commit=False) as session:
            repository = TaskRepository(session)
            start.wait(60)
            if worker == 0:
                pruned = repository.prune(
                    DAY,
                    batch_size=200,
                    progress=lambda _: first_batch_at.append(time.monotonic()),
                )
                pruned_at.append(time.monotonic())
                return pruned
            while not pruned_at:
                for task in repository.fetch_unprocessed_tasks(limit=1):
                    claims.append((time.monotonic(), task.id))
        return None

    results = half.concurrently(work, CLAIMERS + 1)

    pruned = results[0]
    assert pruned is not None
    assert pruned.counts == {Status.COMPLETED: FINISHED // 2, Status.FAILED: FINISHED // 2}
    assert pruned.batches == FINISHED // 200
    during = [task_id for at, task_id in claims if first_batch_at[0] < at < pruned_at[0]]
    assert len(during) >= 20, f"only {len(during)} claims completed while the prune ran"
    counted = Counter(task_id for _, task_id in claims)
    assert max(counted.values()) == 1, "a task was claimed twice"
    assert set(counted) <= claimable
    with open_session(engine) as session:
        statuses = dict(
            session.execute(
                select(TaskEntity.status, func.count()).group_by(TaskEntity.status)
            ).all()
        )
        assert statuses == {
            **({Status.ASSIGNED: len(counted)} if counted else {}),
            **({Status.CREATED: CLAIMABLE - len(counted)} if len(counted) < CLAIMABLE else {}),
        }


def only_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: row locks; SQLite has one lock for the whole database")


def no_waiting(session: Session) -> None:
    """Make any lock wait of this session's next transactions fail instead of waiting."""
    session.execute(text("SET lock_timeout = '5s'"))


def test_a_prune_held_open_takes_no_lock_a_claim_needs(engine: Engine, half: Half) -> None:
    """A caller's transaction around a whole prune holds every row it deleted: claims go on."""
    only_on_postgresql(engine)
    with open_session(engine) as session:
        seed(session, 500, Status.COMPLETED, LONG_AGO)
        claimable = seed(session, 10, Status.CREATED, None)

    with open_session(engine) as pruner, open_session(engine) as claimer:
        with pruner.begin():
            assert TaskRepository(pruner).prune(DAY, batch_size=100).total == 500
            # Every deleted row is locked until this block commits.
            with claimer.begin():
                no_waiting(claimer)
                claimed = TaskRepository(claimer).fetch_unprocessed_tasks(limit=20)
        assert {task.id for task in claimed} == set(claimable)
    with open_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TaskEntity)) == 10


def test_a_prune_passes_over_a_row_another_transaction_holds(engine: Engine, half: Half) -> None:
    only_on_postgresql(engine)
    with open_session(engine) as session:
        held, *_ = seed(session, 5, Status.FAILED, LONG_AGO)

    with open_session(engine) as holder, open_session(engine) as pruner:
        with holder.begin():
            holder.execute(
                select(TaskEntity.id).where(TaskEntity.id == held).with_for_update()
            ).all()
            with pruner.begin():
                no_waiting(pruner)
                assert TaskRepository(pruner).prune(DAY).total == 4
        # Released: the next prune takes it.
        assert TaskRepository(pruner).prune(DAY).total == 1
    with open_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(TaskEntity)) == 0
