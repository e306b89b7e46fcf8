"""TaskRepository semantics, method by method, on the backend the run selects."""

import datetime
import json
import math
import uuid
from typing import Any

import pytest
from either import TaskRepository, open_session
from halves import Half, either_half  # noqa: F401
from pydantic import BaseModel
from sqlalchemy import Engine, String, cast, func, select, update
from sqlalchemy.orm import Session

from aana.exceptions.db import NotFoundException
from aana.storage.models import Status, TaskEntity
from aana.storage.types import utc_now
from aana.testing.factories import TaskEntityFactory

HOUR = datetime.timedelta(hours=1)
# A fixed id: parametrize ids must be the same in every pytest-xdist worker.
UNKNOWN_ID = "0b8e7f5c-2d4a-4f1e-9c3b-7a6d5e4f3a21"


@pytest.fixture
def repo(db_session: Session) -> TaskRepository:
    return TaskRepository(db_session)


def make_task(**values: Any) -> TaskEntity:
    task: TaskEntity = TaskEntityFactory(**values)
    return task


def set_times(session: Session, task: TaskEntity, **ages: datetime.timedelta | None) -> None:
    """Set timestamp columns to that long ago (or NULL), as if time had passed."""
    now = utc_now()
    values = {name: None if age is None else now - age for name, age in ages.items()}
    session.execute(update(TaskEntity).where(TaskEntity.id == task.id).values(values))


def stored_json(session: Session, task_id: uuid.UUID, column: str = "data") -> Any:
    """The column's text as the database holds it, parsed as JSON."""
    text = session.scalar(
        select(cast(getattr(TaskEntity, column), String)).where(TaskEntity.id == task_id)
    )
    return json.loads(text)


def status_of(session: Session, task_id: uuid.UUID) -> Status:
    status = session.scalar(select(TaskEntity.status).where(TaskEntity.id == task_id))
    assert status is not None
    return status


def task_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TaskEntity)) or 0


class Request(BaseModel):
    media_id: str
    requested_at: datetime.datetime
    segments: list[uuid.UUID]


# save


def test_save_stores_a_created_task_with_its_fields(
    repo: TaskRepository, db_session: Session
) -> None:
    task = repo.save("/video/transcribe", {"media_id": "m1"}, user_id="alice", priority=7)

    db_session.expire_all()
    stored = repo.read(task.id)
    assert stored is not None
    assert stored.endpoint == "/video/transcribe"
    assert stored.data == {"media_id": "m1"}
    assert stored.user_id == "alice"
    assert stored.priority == 7
    assert stored.status is Status.CREATED
    assert stored.progress == 0.0
    assert stored.num_retries == 0
    assert stored.result is None
    assert stored.assigned_at is None
    assert stored.completed_at is None


def test_save_stores_pydantic_models_as_their_json_dump(
    repo: TaskRepository, db_session: Session
) -> None:
    request = Request(
        media_id="m1",
        requested_at=datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC),
        segments=[uuid.UUID(int=1), uuid.UUID(int=2)],
    )
    task = repo.save("/video/transcribe", {"request": request, "when": request.requested_at})

    expected = {
        "request": request.model_dump(mode="json"),
        "when": "2024-05-01T12:30:00Z",
    }
    assert stored_json(db_session, task.id) == expected
    db_session.expire_all()
    stored = repo.read(task.id)
    assert stored is not None
    assert stored.data == expected
    assert Request.model_validate(stored.data["request"]) == request


def test_save_refuses_data_that_is_not_json_naming_the_type(
    repo: TaskRepository, db_session: Session
) -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"tasks.data cannot be stored as JSON: .*Opaque"):
        repo.save("/video/transcribe", {"media_id": "m1", "handle": Opaque()})
    assert task_count(db_session) == 0


@pytest.mark.parametrize("number", [math.nan, math.inf])
def test_save_refuses_nan_and_infinity(
    repo: TaskRepository, db_session: Session, number: float
) -> None:
    with pytest.raises(ValueError, match="data cannot be stored as JSON"):
        repo.save("/video/transcribe", {"scores": [1.0, number]})
    assert task_count(db_session) == 0


# read and delete


def test_read_accepts_the_id_as_str_or_uuid(repo: TaskRepository) -> None:
    task = make_task()

    assert repo.read(task.id) is task
    assert repo.read(str(task.id)) is task
    assert repo.read(str(task.id).upper()) is task


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", 42, None, UNKNOWN_ID])
def test_read_treats_malformed_and_unknown_ids_as_not_found(
    repo: TaskRepository, bad_id: object
) -> None:
    make_task()

    with pytest.raises(NotFoundException) as raised:
        repo.read(bad_id)
    assert raised.value.table_name == "tasks"
    assert raised.value.id == bad_id
    assert repo.read(bad_id, check=False) is None


def test_delete_removes_the_task_and_returns_it(repo: TaskRepository, db_session: Session) -> None:
    doomed, kept = make_task(), make_task()
    doomed_id = doomed.id

    deleted = repo.delete(str(doomed_id))

    assert deleted is not None
    assert deleted.id == doomed_id
    assert repo.read(doomed_id, check=False) is None
    assert db_session.scalars(select(TaskEntity.id)).all() == [kept.id]


@pytest.mark.parametrize("bad_id", ["not-a-uuid", 42, UNKNOWN_ID])
def test_delete_of_a_missing_task_returns_none_or_raises_when_checked(
    repo: TaskRepository, db_session: Session, bad_id: object
) -> None:
    make_task()

    assert repo.delete(bad_id) is None
    with pytest.raises(NotFoundException):
        repo.delete(bad_id, check=True)
    assert task_count(db_session) == 1


# fetch_unprocessed_tasks


def test_fetch_claims_only_created_and_not_finished_tasks(
    repo: TaskRepository, db_session: Session
) -> None:
    tasks = {status: make_task(status=status) for status in Status}

    claimed = repo.fetch_unprocessed_tasks()

    assert {task.id for task in claimed} == {
        tasks[Status.CREATED].id,
        tasks[Status.NOT_FINISHED].id,
    }
    for status in (Status.ASSIGNED, Status.RUNNING, Status.COMPLETED, Status.FAILED):
        assert status_of(db_session, tasks[status].id) is status
    assert repo.fetch_unprocessed_tasks() == []


def test_fetch_marks_claimed_tasks_assigned_and_counts_the_retry(
    repo: TaskRepository, db_session: Session
) -> None:
    fresh = make_task(num_retries=0)
    requeued = make_task(status=Status.NOT_FINISHED, num_retries=2)
    set_times(db_session, requeued, assigned_at=HOUR, updated_at=HOUR)
    before = utc_now()

    claimed = repo.fetch_unprocessed_tasks()

    after = utc_now()
    db_session.expire_all()
    for task_id, retries in ((fresh.id, 1), (requeued.id, 3)):
        stored = repo.read(task_id)
        assert stored is not None
        assert stored.status is Status.ASSIGNED
        assert stored.assigned_at is not None
        assert before <= stored.assigned_at <= after
        assert before <= stored.updated_at <= after
        assert stored.num_retries == retries
    assert {task.id for task in claimed} == {fresh.id, requeued.id}
    assert all(task.status is Status.ASSIGNED for task in claimed)


def test_fetch_takes_highest_priority_first_then_oldest_and_honours_limit(
    repo: TaskRepository,
) -> None:
    base = utc_now() - HOUR
    low_old = make_task(priority=0, created_at=base)
    low_new = make_task(priority=0, created_at=base + datetime.timedelta(seconds=1))
    high_new = make_task(priority=5, created_at=base + datetime.timedelta(seconds=2))
    high_old = make_task(priority=5, created_at=base + datetime.timedelta(seconds=1))
    mid = make_task(
        priority=1, created_at=base + datetime.timedelta(seconds=3), status=Status.NOT_FINISHED
    )

    assert repo.fetch_unprocessed_tasks(limit=2) == [high_old, high_new]
    assert repo.fetch_unprocessed_tasks(limit=2) == [mid, low_old]
    assert repo.fetch_unprocessed_tasks(limit=2) == [low_new]
    assert repo.fetch_unprocessed_tasks(limit=2) == []


def test_fetch_with_limit_zero_claims_nothing(repo: TaskRepository, db_session: Session) -> None:
    task = make_task()

    assert repo.fetch_unprocessed_tasks(limit=0) == []
    assert status_of(db_session, task.id) is Status.CREATED


def test_fetch_refuses_a_negative_limit(repo: TaskRepository, db_session: Session) -> None:
    task = make_task()

    with pytest.raises(ValueError, match="limit must be at least 0, got -1"):
        repo.fetch_unprocessed_tasks(limit=-1)
    assert status_of(db_session, task.id) is Status.CREATED


def test_fetch_retries_failed_tasks_with_a_retryable_error_and_retries_left(
    repo: TaskRepository, db_session: Session
) -> None:
    def failed(error: Any, retries: int) -> TaskEntity:
        return make_task(status=Status.FAILED, result=error, num_retries=retries)

    retryable = failed({"error": "InferenceException", "message": "boom"}, 1)
    other_name = failed({"error": "OutOfMemoryError"}, 0)
    exhausted = failed({"error": "InferenceException"}, 3)
    not_retryable = failed({"error": "ValueError"}, 0)
    no_result = failed(None, 0)
    not_an_object = failed(["InferenceException"], 0)
    names = ["InferenceException", "OutOfMemoryError"]

    assert repo.fetch_unprocessed_tasks(max_retries=3) == []
    assert repo.fetch_unprocessed_tasks(max_retries=1, retryable_exceptions=names) == [other_name]
    claimed = repo.fetch_unprocessed_tasks(max_retries=3, retryable_exceptions=iter(names))

    assert claimed == [retryable]
    assert retryable.status is Status.ASSIGNED
    assert retryable.num_retries == 2
    for task in (exhausted, not_retryable, no_result, not_an_object):
        assert status_of(db_session, task.id) is Status.FAILED


def test_fetch_binds_retryable_exception_names_as_parameters(
    repo: TaskRepository, db_session: Session
) -> None:
    evil = "Boom'); DELETE FROM tasks; --"
    always_true = "x' OR '1'='1"
    matching = make_task(status=Status.FAILED, result={"error": evil})
    other = make_task(status=Status.FAILED, result={"error": "ValueError"})
    bystander = make_task(status=Status.COMPLETED)

    claimed = repo.fetch_unprocessed_tasks(retryable_exceptions=[evil, always_true])

    assert claimed == [matching]
    assert status_of(db_session, other.id) is Status.FAILED
    assert status_of(db_session, bystander.id) is Status.COMPLETED
    assert task_count(db_session) == 3


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("InferenceException", "not the string 'InferenceException'"),
        (["InferenceException", TimeoutError], "got <class 'TimeoutError'> of type type"),
    ],
)
def test_fetch_refuses_retryable_exceptions_that_are_not_a_list_of_names(
    repo: TaskRepository, db_session: Session, names: Any, message: str
) -> None:
    task = make_task(status=Status.FAILED, result={"error": "InferenceException"})
    fresh = make_task()

    with pytest.raises(TypeError, match=message):
        repo.fetch_unprocessed_tasks(retryable_exceptions=names)
    assert status_of(db_session, task.id) is Status.FAILED
    assert status_of(db_session, fresh.id) is Status.CREATED


# update_status


def test_update_status_to_completed_sets_completed_at_progress_and_result(
    repo: TaskRepository, db_session: Session
) -> None:
    task = make_task(status=Status.RUNNING, num_retries=1)
    before = utc_now()

    updated = repo.update_status(
        str(task.id), Status.COMPLETED, progress=100, result={"text": "hello"}
    )

    db_session.expire_all()
    stored = repo.read(task.id)
    assert stored is not None
    assert updated.id == task.id
    assert stored.status is Status.COMPLETED
    assert stored.progress == 100
    assert stored.result == {"text": "hello"}
    assert stored.completed_at is not None
    assert stored.completed_at >= before
    assert stored.num_retries == 1
    assert stored.assigned_at is None


def test_update_status_to_failed_sets_completed_at(repo: TaskRepository) -> None:
    task = make_task(status=Status.RUNNING)

    updated = repo.update_status(task.id, Status.FAILED, result={"error": "ValueError"})

    assert updated.status is Status.FAILED
    assert updated.completed_at is not None
    assert updated.result == {"error": "ValueError"}


def test_update_status_to_running_keeps_completed_at_and_result(repo: TaskRepository) -> None:
    task = make_task(status=Status.ASSIGNED, result={"partial": True}, progress=10.0)

    updated = repo.update_status(task.id, Status.RUNNING, progress=50)

    assert updated.status is Status.RUNNING
    assert updated.progress == 50
    assert updated.result == {"partial": True}
    assert updated.completed_at is None


def test_update_status_to_assigned_sets_assigned_at_and_counts_the_retry(
    repo: TaskRepository, db_session: Session
) -> None:
    task = make_task(num_retries=2)
    set_times(db_session, task, assigned_at=HOUR)
    before = utc_now()

    updated = repo.update_status(task.id, Status.ASSIGNED)

    assert updated.status is Status.ASSIGNED
    assert updated.num_retries == 3
    assert updated.assigned_at is not None
    assert updated.assigned_at >= before
    assert updated.completed_at is None


def test_update_status_accepts_the_status_value(repo: TaskRepository) -> None:
    task = make_task(status=Status.ASSIGNED)

    assert repo.update_status(task.id, "running").status is Status.RUNNING


def test_update_status_refuses_an_unknown_status(repo: TaskRepository, db_session: Session) -> None:
    task = make_task()

    with pytest.raises(ValueError, match="unknown task status 'done'; expected one of created"):
        repo.update_status(task.id, "done")
    assert status_of(db_session, task.id) is Status.CREATED


def test_update_status_refuses_a_result_that_is_not_json(
    repo: TaskRepository, db_session: Session
) -> None:
    task = make_task(status=Status.RUNNING)

    with pytest.raises(TypeError, match=r"tasks.result cannot .*<class .object.>"):
        repo.update_status(task.id, Status.COMPLETED, result={"value": object()})
    db_session.expire_all()
    stored = repo.read(task.id)
    assert stored is not None
    assert stored.status is Status.RUNNING
    assert stored.result is None
    assert stored.completed_at is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", 42, UNKNOWN_ID])
def test_update_status_of_a_missing_task_raises_not_found(
    repo: TaskRepository, db_session: Session, bad_id: object
) -> None:
    task = make_task()

    with pytest.raises(NotFoundException):
        repo.update_status(bad_id, Status.COMPLETED)
    assert status_of(db_session, task.id) is Status.CREATED


def test_update_status_without_commit_leaves_the_change_to_the_caller(
    repo: TaskRepository, db_session: Session
) -> None:
    kept, discarded = make_task(status=Status.ASSIGNED), make_task(status=Status.ASSIGNED)
    repo.update_status(kept.id, Status.RUNNING)

    repo.update_status(discarded.id, Status.RUNNING, commit=False)
    assert status_of(db_session, discarded.id) is Status.RUNNING
    db_session.rollback()

    assert status_of(db_session, discarded.id) is Status.ASSIGNED
    assert status_of(db_session, kept.id) is Status.RUNNING


# retry_task


def test_retry_task_resets_the_task_and_keeps_its_data(
    repo: TaskRepository, db_session: Session
) -> None:
    data = {"media_id": "m1", "options": {"language": "fr"}}
    task = make_task(
        data=data,
        status=Status.FAILED,
        progress=60.0,
        result={"error": "InferenceException"},
        num_retries=3,
        priority=4,
        user_id="bob",
    )
    set_times(db_session, task, assigned_at=HOUR, completed_at=HOUR)

    retried = repo.retry_task(str(task.id))

    db_session.expire_all()
    stored = repo.read(task.id)
    assert stored is not None
    assert retried.id == task.id
    assert stored.status is Status.CREATED
    assert stored.progress == 0.0
    assert stored.result is None
    assert stored.assigned_at is None
    assert stored.completed_at is None
    assert stored.num_retries == 0
    assert stored.data == data
    assert (stored.priority, stored.user_id, stored.endpoint) == (4, "bob", task.endpoint)
    assert repo.fetch_unprocessed_tasks() == [stored]


@pytest.mark.parametrize("bad_id", ["not-a-uuid", UNKNOWN_ID])
def test_retry_task_of_a_missing_task_raises_not_found(repo: TaskRepository, bad_id: str) -> None:
    with pytest.raises(NotFoundException):
        repo.retry_task(bad_id)


# get_active_tasks and filter_incomplete_tasks


def test_get_active_tasks_returns_assigned_and_running_oldest_first(
    repo: TaskRepository,
) -> None:
    base = utc_now() - HOUR
    running_new = make_task(status=Status.RUNNING, created_at=base + datetime.timedelta(seconds=1))
    assigned_old = make_task(status=Status.ASSIGNED, created_at=base)
    for status in (Status.CREATED, Status.COMPLETED, Status.FAILED, Status.NOT_FINISHED):
        make_task(status=status, created_at=base)

    assert repo.get_active_tasks() == [assigned_old, running_new]


def test_filter_incomplete_tasks_keeps_running_known_ids_in_input_order(
    repo: TaskRepository,
) -> None:
    """As in the Aana SDK, not_finished tasks (requeued after expiring) are not running."""
    tasks = {status: make_task(status=status) for status in Status}
    incomplete = [tasks[status] for status in (Status.RUNNING, Status.CREATED, Status.ASSIGNED)]
    asked: list[Any] = [
        str(incomplete[0].id),
        str(tasks[Status.COMPLETED].id),
        incomplete[1].id,
        "not-a-uuid",
        str(uuid.uuid4()),
        str(tasks[Status.FAILED].id),
        str(tasks[Status.NOT_FINISHED].id),
        str(incomplete[2].id).upper(),
        str(incomplete[0].id),
    ]

    assert repo.filter_incomplete_tasks(asked) == [str(task.id) for task in incomplete]
    assert repo.filter_incomplete_tasks([]) == []
    assert repo.filter_incomplete_tasks(["garbage"]) == []


# update_expired_tasks and heartbeat


def test_update_expired_tasks_requeues_or_fails_tasks_that_ran_too_long_or_went_silent(
    repo: TaskRepository, db_session: Session
) -> None:
    minute = datetime.timedelta(minutes=1)

    def active(
        status: Status, retries: int, assigned: datetime.timedelta | None, beat: datetime.timedelta
    ) -> uuid.UUID:
        task = make_task(status=status, num_retries=retries, result={"partial": 1})
        set_times(db_session, task, assigned_at=assigned, updated_at=beat)
        return task.id

    # execution timeout 10 min, heartbeat timeout 2 min, max_retries 3
    too_long_retry = active(Status.RUNNING, 1, HOUR, 0.5 * minute)
    too_long_out = active(Status.ASSIGNED, 3, HOUR, 0.5 * minute)
    silent_retry = active(Status.ASSIGNED, 2, 5 * minute, 3 * minute)
    silent_out = active(Status.RUNNING, 4, 5 * minute, 3 * minute)
    both_out = active(Status.RUNNING, 3, HOUR, HOUR)
    healthy = active(Status.RUNNING, 3, 5 * minute, 0.5 * minute)
    never_assigned_silent = active(Status.RUNNING, 0, None, HOUR)
    idle = {}
    for status in (Status.CREATED, Status.NOT_FINISHED, Status.COMPLETED, Status.FAILED):
        idle[status] = make_task(status=status, num_retries=5)
        set_times(db_session, idle[status], assigned_at=HOUR, updated_at=HOUR)
    before = utc_now()

    expired = repo.update_expired_tasks(execution_timeout=600, heartbeat_timeout=120, max_retries=3)

    assert {task.id for task in expired} == {
        too_long_retry,
        too_long_out,
        silent_retry,
        silent_out,
        both_out,
        never_assigned_silent,
    }
    db_session.expire_all()

    def stored(task_id: uuid.UUID) -> TaskEntity:
        task = repo.read(task_id)
        assert task is not None
        return task

    for task_id in (too_long_retry, silent_retry, never_assigned_silent):
        task = stored(task_id)
        assert task.status is Status.NOT_FINISHED
        assert task.result == {"partial": 1}
        assert task.completed_at is None
    for task_id, error in (
        (too_long_out, "TimeoutError"),
        (both_out, "TimeoutError"),
        (silent_out, "HeartbeatTimeoutError"),
    ):
        task = stored(task_id)
        assert task.status is Status.FAILED
        assert task.result["error"] == error
        assert task.completed_at is not None
        assert task.completed_at >= before
    assert stored(healthy).status is Status.RUNNING
    for status, task in idle.items():
        assert stored(task.id).status is status
    requeued = repo.fetch_unprocessed_tasks(max_retries=3)
    assert {too_long_retry, silent_retry, never_assigned_silent} <= {t.id for t in requeued}


def test_expired_tasks_failed_for_timeout_are_retryable_by_name(
    repo: TaskRepository, db_session: Session
) -> None:
    task = make_task(status=Status.RUNNING, num_retries=1)
    set_times(db_session, task, assigned_at=HOUR, updated_at=HOUR)
    repo.update_expired_tasks(execution_timeout=60, heartbeat_timeout=60, max_retries=1)
    assert status_of(db_session, task.id) is Status.FAILED

    claimed = repo.fetch_unprocessed_tasks(max_retries=2, retryable_exceptions=["TimeoutError"])

    assert [t.id for t in claimed] == [task.id]


def test_heartbeat_refreshes_updated_at_of_the_given_tasks_only(
    repo: TaskRepository, db_session: Session
) -> None:
    beating, other = make_task(status=Status.RUNNING), make_task(status=Status.RUNNING)
    for task in (beating, other):
        set_times(db_session, task, assigned_at=datetime.timedelta(minutes=1), updated_at=HOUR)
    before = utc_now()

    repo.heartbeat([str(beating.id), "not-a-uuid", UNKNOWN_ID])

    db_session.expire_all()
    beat = db_session.get(TaskEntity, beating.id)
    silent = db_session.get(TaskEntity, other.id)
    assert beat is not None and silent is not None
    assert beat.updated_at >= before
    assert silent.updated_at < before - datetime.timedelta(minutes=59)
    expired = repo.update_expired_tasks(execution_timeout=600, heartbeat_timeout=60, max_retries=1)
    assert [task.id for task in expired] == [other.id]
    assert status_of(db_session, beating.id) is Status.RUNNING


def test_heartbeat_of_no_valid_id_changes_nothing(
    repo: TaskRepository, db_session: Session
) -> None:
    task = make_task(status=Status.RUNNING)
    set_times(db_session, task, updated_at=HOUR)
    before = utc_now()

    repo.heartbeat([])
    repo.heartbeat(["not-a-uuid"])

    db_session.expire_all()
    stored = db_session.get(TaskEntity, task.id)
    assert stored is not None
    assert stored.updated_at < before - datetime.timedelta(minutes=59)


# get_tasks and count


def test_get_tasks_lists_newest_first_with_filters_limit_and_offset(
    repo: TaskRepository,
) -> None:
    base = utc_now() - HOUR
    tasks = [
        make_task(
            created_at=base + datetime.timedelta(seconds=i),
            user_id="alice" if i % 2 == 0 else "bob",
            status=Status.COMPLETED if i % 3 == 0 else Status.CREATED,
        )
        for i in range(10)
    ]
    newest_first = tasks[::-1]

    assert repo.get_tasks() == newest_first
    assert repo.get_tasks(limit=3) == newest_first[:3]
    assert repo.get_tasks(limit=3, offset=3) == newest_first[3:6]
    assert repo.get_tasks(offset=9) == newest_first[9:]
    assert repo.get_tasks(user_id="alice") == [t for t in newest_first if t.user_id == "alice"]
    assert repo.get_tasks(status=Status.COMPLETED) == [
        t for t in newest_first if t.status is Status.COMPLETED
    ]
    assert repo.get_tasks(user_id="bob", status=Status.COMPLETED, limit=1) == [tasks[9]]
    assert repo.get_tasks(user_id="nobody") == []


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (10, -1)])
def test_get_tasks_refuses_negative_limit_or_offset(
    repo: TaskRepository, limit: int, offset: int
) -> None:
    with pytest.raises(ValueError, match="limit and offset must be at least 0"):
        repo.get_tasks(limit=limit, offset=offset)


def test_count_reports_every_status_and_the_total(repo: TaskRepository) -> None:
    for _ in range(3):
        make_task(status=Status.CREATED, user_id="alice")
    make_task(status=Status.RUNNING, user_id="alice")
    make_task(status=Status.FAILED, user_id="bob")
    make_task(status=Status.FAILED, user_id=None)

    zero = {status.value: 0 for status in Status}
    assert repo.count() == {**zero, "created": 3, "running": 1, "failed": 2, "total": 6}
    assert repo.count(user_id="alice") == {**zero, "created": 3, "running": 1, "total": 4}
    assert repo.count(user_id="nobody") == {**zero, "total": 0}


# transactions seen from other connections


def test_claims_are_committed_for_other_connections_to_see(
    transactional_db_engine: Engine, half: Half
) -> None:
    with open_session(transactional_db_engine) as setup:
        first, second = (TaskRepository(setup).save("/e", {"n": n}).id for n in range(2))

    with (
        open_session(transactional_db_engine) as worker,
        open_session(transactional_db_engine) as other,
    ):
        claimed = TaskRepository(worker).fetch_unprocessed_tasks(limit=1)

        assert not worker.in_transaction()
        assert [task.id for task in claimed] == [first]
        assert status_of(other, first) is Status.ASSIGNED
        assert status_of(other, second) is Status.CREATED


def test_a_write_after_a_read_does_not_fail_when_another_connection_wrote_meanwhile(
    transactional_db_engine: Engine, half: Half
) -> None:
    # On SQLite a transaction that has read cannot start writing once another connection
    # has committed: it fails at once with "database is locked", whatever the busy timeout.
    with open_session(transactional_db_engine) as setup:
        repo = TaskRepository(setup)
        mine, theirs, queued = (repo.save("/e", {"n": n}).id for n in range(3))
        for task_id in (mine, theirs):
            repo.update_status(task_id, Status.ASSIGNED)

    with (
        open_session(transactional_db_engine) as worker,
        open_session(transactional_db_engine) as other,
    ):
        repo = TaskRepository(worker)
        assert repo.read(mine) is not None
        TaskRepository(other).update_status(theirs, Status.RUNNING)

        assert repo.update_status(mine, Status.RUNNING).status is Status.RUNNING

        repo.get_active_tasks()
        TaskRepository(other).update_status(theirs, Status.COMPLETED)
        assert [task.id for task in repo.fetch_unprocessed_tasks()] == [queued]

        repo.get_active_tasks()
        TaskRepository(other).heartbeat([theirs])
        repo.heartbeat([mine])

        repo.get_active_tasks()
        TaskRepository(other).retry_task(theirs)
        expired = repo.update_expired_tasks(0, 0, max_retries=1)
        assert {task.id for task in expired} == {mine, queued}

        repo.get_active_tasks()
        TaskRepository(other).heartbeat([theirs])
        added = repo.save("/e", {"n": 3}).id

        repo.get_active_tasks()
        TaskRepository(other).heartbeat([theirs])
        deleted = repo.delete(added)
        assert deleted is not None and deleted.id == added

        repo.get_active_tasks()
        TaskRepository(other).heartbeat([theirs])
        assert repo.delete(uuid.uuid4()) is None
        TaskRepository(other).heartbeat([theirs])

    with open_session(transactional_db_engine) as check:
        assert check.get(TaskEntity, added) is None
