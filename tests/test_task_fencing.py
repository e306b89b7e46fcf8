"""Fencing: only a task's current owner changes it; a late worker's update is refused.

Every test runs on both halves (threads or tasks of one event loop) and on the backend the
run selects.
"""

import itertools
import time
import uuid
from typing import Any

import pytest
from either import TaskRepository, open_session, pause
from halves import Half, either_half  # noqa: F401
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from aana.exceptions.db import NotFoundException, StaleTaskUpdateException
from aana.storage.models import Status, TaskEntity
from aana.storage.repository.task import ALLOWED_FROM

SWEEP = {"execution_timeout": 0.05, "heartbeat_timeout": 0.05, "max_retries": 100}
"""A visibility timeout short enough that a worker who pauses loses its task."""


def stored(engine: Engine, task_id: Any) -> TaskEntity:
    with Session(engine) as session:
        task = session.get(TaskEntity, task_id)
        assert task is not None
        session.expunge(task)
        return task


def requeue_by_sweep(engine: Engine, task_id: Any) -> None:
    """Let the task's claim expire, then sweep: the task goes back to the queue."""
    pause(0.1)
    with open_session(engine) as session:
        expired = TaskRepository(session).update_expired_tasks(**SWEEP)
    assert task_id in {task.id for task in expired}
    assert stored(engine, task_id).status is Status.NOT_FINISHED


def test_a_late_worker_cannot_undo_the_new_owners_work(
    transactional_db_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    with open_session(engine) as setup:
        task_id = TaskRepository(setup).save("/e", {"n": 1}).id
    with open_session(engine) as a_session, open_session(engine) as b_session:
        worker_a, worker_b = TaskRepository(a_session), TaskRepository(b_session)
        (a_claim,) = worker_a.fetch_unprocessed_tasks(limit=1)
        assert a_claim.attempt == 1

        requeue_by_sweep(engine, task_id)  # worker A is late: its claim expired
        (b_claim,) = worker_b.fetch_unprocessed_tasks(limit=1)
        assert (b_claim.id, b_claim.attempt) == (task_id, 2)
        worker_b.update_status(task_id, Status.RUNNING, attempt=b_claim.attempt)
        worker_b.update_status(
            task_id, Status.COMPLETED, progress=100, result={"by": "B"}, attempt=b_claim.attempt
        )

        # A comes back: neither its result nor a progress report lands, with or without its
        # attempt; each refusal names the task and why.
        with pytest.raises(StaleTaskUpdateException) as late_result:
            worker_a.update_status(task_id, Status.COMPLETED, progress=100, result={"by": "A"})
        assert str(task_id) in str(late_result.value)
        assert "a completed task cannot move to completed" in str(late_result.value)
        with pytest.raises(StaleTaskUpdateException, match="cannot move to running"):
            worker_a.update_status(task_id, Status.RUNNING, progress=50)
        with pytest.raises(StaleTaskUpdateException) as fenced:
            worker_a.update_status(task_id, Status.FAILED, result={"error": "X"}, attempt=1)
        assert "attempt 2 owns it, the caller holds attempt 1" in str(fenced.value)
        assert (fenced.value.status, fenced.value.attempt, fenced.value.caller_attempt) == (
            "completed",
            2,
            1,
        )
        assert not a_session.in_transaction()
        assert worker_a.read(task_id).result == {"by": "B"}  # A's session is usable

    task = stored(engine, task_id)
    assert (task.status, task.result, task.progress) == (Status.COMPLETED, {"by": "B"}, 100)
    pause(0.1)
    with open_session(engine) as session:
        assert TaskRepository(session).update_expired_tasks(**SWEEP) == []
    assert stored(engine, task_id).status is Status.COMPLETED


def test_the_attempt_fences_a_late_worker_while_the_new_owner_runs(
    transactional_db_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    with open_session(engine) as setup:
        task_id = TaskRepository(setup).save("/e", {"n": 1}).id
    with open_session(engine) as a_session, open_session(engine) as b_session:
        worker_a, worker_b = TaskRepository(a_session), TaskRepository(b_session)
        (a_claim,) = worker_a.fetch_unprocessed_tasks(limit=1)
        worker_a.update_status(task_id, Status.RUNNING, progress=10, attempt=a_claim.attempt)
        requeue_by_sweep(engine, task_id)
        # Requeued: A's report is refused before anyone claimed the task again.
        with pytest.raises(StaleTaskUpdateException, match="no longer running"):
            worker_a.update_status(task_id, Status.RUNNING, progress=20, attempt=a_claim.attempt)
        (b_claim,) = worker_b.fetch_unprocessed_tasks(limit=1)
        worker_b.update_status(task_id, Status.RUNNING, progress=30, attempt=b_claim.attempt)

        for status in (Status.RUNNING, Status.COMPLETED, Status.FAILED, Status.NOT_FINISHED):
            with pytest.raises(StaleTaskUpdateException, match="claimed again"):
                worker_a.update_status(task_id, status, result={"by": "A"}, attempt=1)
        task = stored(engine, task_id)
        assert (task.status, task.progress, task.result) == (Status.RUNNING, 30, None)

        done = worker_b.update_status(
            task_id, Status.COMPLETED, result={"by": "B"}, attempt=b_claim.attempt
        )
        assert (done.status, done.result, done.attempt) == (Status.COMPLETED, {"by": "B"}, 2)


def test_retry_task_keeps_the_attempt_so_an_earlier_claim_stays_fenced(
    transactional_db_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    with open_session(engine) as session:
        tasks = TaskRepository(session)
        task_id = tasks.save("/e", {}).id
        (first,) = tasks.fetch_unprocessed_tasks(limit=1)
        # Values, not the entity: the session's next load of the task refreshes it.
        first_claim = (first.num_retries, first.attempt)
        pause(0.1)
        tasks.update_expired_tasks(0.05, 0.05, max_retries=1)  # out of retries: failed
        assert stored(engine, task_id).status is Status.FAILED
        retried = tasks.retry_task(task_id)
        assert (retried.num_retries, retried.attempt) == (0, 1)
        (second,) = tasks.fetch_unprocessed_tasks(limit=1)
        # num_retries is 1 again, as for the first claim; the attempt is not.
        assert first_claim == (1, 1)
        assert (second.num_retries, second.attempt) == (1, 2)
        with pytest.raises(StaleTaskUpdateException, match="claimed again"):
            tasks.update_status(task_id, Status.COMPLETED, attempt=first_claim[1])
        assert tasks.update_status(task_id, Status.COMPLETED, attempt=2).status is Status.COMPLETED


@pytest.mark.parametrize(
    ("current", "requested"), list(itertools.product(Status, Status)), ids=lambda s: s.value
)
def test_update_status_applies_exactly_the_allowed_moves(
    db_session: Session, current: Status, requested: Status
) -> None:
    tasks = TaskRepository(db_session)
    task_id = tasks.save("/e", {}).id
    db_session.execute(
        update(TaskEntity)
        .where(TaskEntity.id == task_id)
        .values(status=current, result={"kept": True}, attempt=3)
    )
    allowed = current in ALLOWED_FROM[requested]
    # The documented table, spelled out: what the reviewers and the docs promise.
    expected = {
        Status.ASSIGNED: {Status.CREATED, Status.NOT_FINISHED},
        Status.RUNNING: {Status.ASSIGNED, Status.RUNNING},
        Status.COMPLETED: {Status.ASSIGNED, Status.RUNNING},
        Status.FAILED: {Status.ASSIGNED, Status.RUNNING, Status.COMPLETED},
        Status.NOT_FINISHED: {Status.ASSIGNED, Status.RUNNING},
        Status.CREATED: set(),
    }[requested]
    assert allowed == (current in expected)

    if allowed:
        moved = tasks.update_status(task_id, requested, result={"new": True})
        assert (moved.status, moved.result) == (requested, {"new": True})
        return
    with pytest.raises(StaleTaskUpdateException) as refused:
        tasks.update_status(task_id, requested, result={"new": True})
    assert refused.value.task_id == str(task_id)
    assert (refused.value.status, refused.value.requested) == (current.value, requested.value)
    row = db_session.execute(
        select(TaskEntity.status, TaskEntity.result, TaskEntity.attempt).where(
            TaskEntity.id == task_id
        )
    ).one()
    assert tuple(row) == (current, {"kept": True}, 3)


def test_an_attempt_moves_only_an_active_task_of_that_claim(db_session: Session) -> None:
    tasks = TaskRepository(db_session)
    task_id = tasks.save("/e", {}).id
    with pytest.raises(StaleTaskUpdateException, match="no longer running"):
        tasks.update_status(task_id, Status.ASSIGNED, attempt=0)  # a claim is not an update
    (claim,) = tasks.fetch_unprocessed_tasks()
    tasks.update_status(task_id, Status.COMPLETED, attempt=claim.attempt)
    with pytest.raises(StaleTaskUpdateException, match="no longer running"):
        tasks.update_status(task_id, Status.FAILED, attempt=claim.attempt)
    assert tasks.read(task_id).status is Status.COMPLETED


def test_the_aana_sdk_moves_stay_allowed(db_session: Session) -> None:
    """The Aana SDK 0.2.4's own test moves a task created -> assigned -> completed -> failed."""
    tasks = TaskRepository(db_session)
    task_id = tasks.save("/e", {"key": "value"}).id
    assert tasks.update_status(task_id, Status.ASSIGNED, progress=50).num_retries == 1
    tasks.update_status(task_id, Status.COMPLETED, progress=100, result={"result": "final"})
    failed = tasks.update_status(task_id, Status.FAILED, progress=0, result={"error": "msg"})
    assert (failed.status, failed.result) == (Status.FAILED, {"error": "msg"})


def test_a_missing_task_is_not_found_not_refused(db_session: Session) -> None:
    tasks = TaskRepository(db_session)
    with pytest.raises(NotFoundException):
        tasks.update_status(uuid.uuid4(), Status.COMPLETED, attempt=1)
    with pytest.raises(NotFoundException):
        tasks.update_status("not-a-task", Status.RUNNING)


def test_a_refusal_inside_the_callers_transaction_leaves_it_usable(
    transactional_db_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    with open_session(engine) as session:
        tasks = TaskRepository(session)
        done = tasks.save("/e", {}).id
        tasks.update_status(done, Status.ASSIGNED)
        tasks.update_status(done, Status.COMPLETED, result={"v": 1})
        other = tasks.save("/e", {}).id

        tasks.update_status(other, Status.ASSIGNED, commit=False)
        with pytest.raises(StaleTaskUpdateException):
            tasks.update_status(done, Status.RUNNING, commit=False)
        assert session.in_transaction()
        session.commit()
    assert stored(engine, other).status is Status.ASSIGNED
    assert (stored(engine, done).status, stored(engine, done).result) == (
        Status.COMPLETED,
        {"v": 1},
    )


def test_a_heartbeat_does_not_revive_a_requeued_or_finished_task(
    transactional_db_engine: Engine, half: Half
) -> None:
    engine = transactional_db_engine
    with open_session(engine) as session:
        tasks = TaskRepository(session)
        task_id = tasks.save("/e", {}).id
        tasks.fetch_unprocessed_tasks()
        requeue_by_sweep(engine, task_id)
        before = stored(engine, task_id).updated_at
        tasks.heartbeat([task_id])
        assert stored(engine, task_id).updated_at == before


WORKERS = 8
TASKS = 40


def test_workers_whose_tasks_expire_mid_run_leave_one_result_from_each_last_owner(
    transactional_db_engine: Engine, half: Half
) -> None:
    """8 workers claim, run and complete tasks, sweeping expired ones as they go.

    Every worker's first task takes longer than the visibility timeout, so the sweep
    requeues it mid-run and another worker claims it; the late worker's updates are refused.
    """
    engine = transactional_db_engine
    with open_session(engine) as setup:
        ids = {TaskRepository(setup).save("/e", {"n": n}).id for n in range(TASKS)}
    start = half.barrier(WORKERS)
    deadline = time.monotonic() + 120

    def work(worker: int) -> dict[str, int]:
        counts = {"completed": 0, "refused": 0}
        start.wait()
        with open_session(engine) as session:
            tasks = TaskRepository(session)
            first = True
            while time.monotonic() < deadline:
                tasks.update_expired_tasks(**SWEEP)
                claimed = tasks.fetch_unprocessed_tasks(limit=1)
                if not claimed:
                    if tasks.count()["completed"] == TASKS:
                        return counts
                    pause(0.02)
                    continue
                (task,) = claimed
                try:
                    tasks.update_status(task.id, Status.RUNNING, attempt=task.attempt)
                    pause(0.3 if first else 0.0)  # late: the sweep requeues this one
                    first = False
                    tasks.update_status(
                        task.id,
                        Status.COMPLETED,
                        result={"worker": worker, "attempt": task.attempt},
                        attempt=task.attempt,
                    )
                    counts["completed"] += 1
                except StaleTaskUpdateException:
                    counts["refused"] += 1
        return counts

    reports = half.concurrently(work, WORKERS)

    with Session(engine) as session:
        final = {task.id: task for task in session.scalars(select(TaskEntity))}
    assert set(final) == ids
    for task in final.values():
        assert task.status is Status.COMPLETED
        assert task.result["attempt"] == task.attempt, "a result not from the last owner"
    assert sum(report["completed"] for report in reports) == TASKS  # exactly one result each
    assert sum(report["refused"] for report in reports) >= 1
    assert any(task.attempt > 1 for task in final.values())
