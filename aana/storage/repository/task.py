"""The repository of tasks: a work queue that many workers can share safely."""

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python
from sqlalchemy import ColumnElement, Update, and_, func, or_, select, update
from sqlalchemy.orm import Session

from aana.storage.engine import SQLITE_BEGIN_OPTION
from aana.storage.models.task import Status, TaskEntity
from aana.storage.repository.base import BaseRepository
from aana.storage.types import utc_now

ACTIVE_STATUSES = (Status.ASSIGNED, Status.RUNNING)
FINISHED_STATUSES = (Status.COMPLETED, Status.FAILED)


class TaskRepository(BaseRepository[TaskEntity]):
    """Repository of tasks.

    Every state change is one ``UPDATE`` statement, so concurrent workers never lose each
    other's writes. Claiming (:meth:`fetch_unprocessed_tasks`) hands each task to exactly one
    worker: on PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED``; on SQLite
    the claim opens its transaction with ``BEGIN IMMEDIATE``, which serializes writers.
    """

    def __init__(self, session: Session) -> None:
        """Constructor.

        Args:
            session (Session): The session to work in.
        """
        super().__init__(session, TaskEntity)

    def save(
        self, endpoint: str, data: Any, user_id: str | None = None, priority: int = 0
    ) -> TaskEntity:
        """Add a task to the queue.

        Args:
            endpoint (str): The endpoint that runs the task.
            data (Any): The request; pydantic models are stored as their JSON dump.
            user_id (str | None): The user the task belongs to.
            priority (int): Higher runs first.

        Returns:
            TaskEntity: The saved task.

        Raises:
            TypeError: If ``data`` cannot be stored as JSON; the message names the type.
        """
        return self.create(
            TaskEntity(
                endpoint=endpoint,
                data=_to_json(data, "data"),
                user_id=user_id,
                priority=priority,
                status=Status.CREATED,
            )
        )

    def delete(self, task_id: Any, check: bool = False) -> TaskEntity | None:
        """Delete a task.

        Args:
            task_id (str | UUID): The task id; a malformed id counts as not found.
            check (bool): Raise when there is no such task.

        Returns:
            TaskEntity | None: The deleted task, or None.

        Raises:
            NotFoundException: If there is no such task and ``check`` is True.
        """
        return super().delete(task_id, check=check)

    def fetch_unprocessed_tasks(
        self,
        limit: int | None = None,
        max_retries: int = 1,
        retryable_exceptions: Iterable[str] | None = None,
    ) -> list[TaskEntity]:
        """Claim tasks to run and mark them ``assigned``, in one statement, then commit.

        Claimable are tasks ``created`` or ``not_finished``, and ``failed`` ones whose
        ``result["error"]`` names one of ``retryable_exceptions`` and that were tried fewer than
        ``max_retries`` times. Each claimed task gets ``assigned_at`` set and ``num_retries``
        incremented. No task is handed to two callers, whatever the concurrency.

        Args:
            limit (int | None): Claim at most this many; all claimable ones if None.
            max_retries (int): Failed tasks tried this many times are not retried.
            retryable_exceptions (Iterable[str] | None): Names of retryable errors.

        Returns:
            list[TaskEntity]: The claimed tasks, highest priority first, then oldest.
        """
        claimable: ColumnElement[bool] = TaskEntity.status.in_(
            [Status.CREATED, Status.NOT_FINISHED]
        )
        retryable = list(retryable_exceptions or [])
        if retryable:
            claimable = or_(
                claimable,
                and_(
                    TaskEntity.status == Status.FAILED,
                    TaskEntity.num_retries < max_retries,
                    TaskEntity.result["error"].as_string().in_(retryable),
                ),
            )
        candidates = (
            select(TaskEntity.id)
            .where(claimable)
            .order_by(TaskEntity.priority.desc(), TaskEntity.created_at, TaskEntity.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        claim = candidates.cte("claim")
        now = utc_now()
        tasks = self._apply(
            update(TaskEntity)
            .where(TaskEntity.id.in_(select(claim.c.id)))
            .values(
                status=Status.ASSIGNED,
                assigned_at=now,
                num_retries=TaskEntity.num_retries + 1,
                updated_at=now,
            )
        )
        return sorted(tasks, key=lambda task: (-task.priority, task.created_at, task.id))

    def update_status(
        self,
        task_id: Any,
        status: Status,
        progress: float | None = None,
        result: Any = None,
        commit: bool = True,
    ) -> TaskEntity:
        """Set the status of a task, in one statement.

        ``completed`` and ``failed`` set ``completed_at``; ``assigned`` sets ``assigned_at`` and
        increments ``num_retries``.

        Args:
            task_id (str | UUID): The task id.
            status (Status): The new status.
            progress (float | None): The new progress, if given.
            result (Any): The result or error, stored as JSON, if given.
            commit (bool): Commit the change; otherwise leave it in the session's transaction.

        Returns:
            TaskEntity: The updated task.

        Raises:
            NotFoundException: If there is no such task.
            TypeError: If ``result`` cannot be stored as JSON.
        """
        now = utc_now()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status in FINISHED_STATUSES:
            values["completed_at"] = now
        if status is Status.ASSIGNED:
            values["assigned_at"] = now
            values["num_retries"] = TaskEntity.num_retries + 1
        if progress is not None:
            values["progress"] = progress
        if result is not None:
            values["result"] = _to_json(result, "result")
        return self._update_one(task_id, values, commit=commit)

    def retry_task(self, task_id: Any) -> TaskEntity:
        """Put a task back in the queue as if it were new; its data is kept.

        Args:
            task_id (str | UUID): The task id.

        Returns:
            TaskEntity: The reset task.

        Raises:
            NotFoundException: If there is no such task.
        """
        return self._update_one(
            task_id,
            {
                "status": Status.CREATED,
                "progress": 0.0,
                "result": None,
                "assigned_at": None,
                "completed_at": None,
                "num_retries": 0,
            },
        )

    def get_active_tasks(self) -> list[TaskEntity]:
        """Return the tasks that are ``assigned`` or ``running``.

        Returns:
            list[TaskEntity]: The active tasks, oldest first.
        """
        statement = (
            select(TaskEntity)
            .where(TaskEntity.status.in_(ACTIVE_STATUSES))
            .order_by(TaskEntity.created_at)
        )
        return list(self.session.scalars(statement))

    def filter_incomplete_tasks(self, task_ids: Iterable[Any]) -> list[str]:
        """Return the ids, among ``task_ids``, of tasks neither completed nor failed.

        Args:
            task_ids (Iterable[str | UUID]): Task ids; malformed or unknown ones are dropped.

        Returns:
            list[str]: The incomplete tasks' ids, as strings.
        """
        keys = [key for key in (self._parse_id(task_id) for task_id in task_ids) if key]
        if not keys:
            return []
        statement = select(TaskEntity.id).where(
            TaskEntity.id.in_(keys), TaskEntity.status.not_in(FINISHED_STATUSES)
        )
        return [str(task_id) for task_id in self.session.scalars(statement)]

    def update_expired_tasks(
        self,
        execution_timeout: float,
        heartbeat_timeout: float,
        max_retries: int,
    ) -> list[TaskEntity]:
        """Fail or requeue active tasks that ran too long or stopped sending heartbeats.

        A task ``assigned`` or ``running`` for longer than ``execution_timeout`` seconds, or
        whose heartbeat (``updated_at``) is older than ``heartbeat_timeout`` seconds, becomes
        ``failed`` once it has used up ``max_retries`` (result error ``TimeoutError`` or
        ``HeartbeatTimeoutError``), else ``not_finished`` so that it is claimed again.

        Args:
            execution_timeout (float): Seconds a task may run.
            heartbeat_timeout (float): Seconds a task may go without a heartbeat.
            max_retries (int): Claims after which an expired task fails for good.

        Returns:
            list[TaskEntity]: The tasks that expired.
        """
        now = utc_now()
        ran_too_long = TaskEntity.assigned_at < now - datetime.timedelta(seconds=execution_timeout)
        silent = TaskEntity.updated_at < now - datetime.timedelta(seconds=heartbeat_timeout)
        active = TaskEntity.status.in_(ACTIVE_STATUSES)
        out_of_retries = TaskEntity.num_retries >= max_retries

        def failed(error: str, message: str) -> dict[str, Any]:
            return {
                "status": Status.FAILED,
                "completed_at": now,
                "updated_at": now,
                "result": {"error": error, "message": message},
            }

        expired = self._apply(
            update(TaskEntity)
            .where(active, out_of_retries, ran_too_long)
            .values(failed("TimeoutError", f"Task execution timed out after {execution_timeout}s"))
        )
        expired += self._apply(
            update(TaskEntity)
            .where(active, out_of_retries, silent)
            .values(failed("HeartbeatTimeoutError", f"No heartbeat for {heartbeat_timeout}s"))
        )
        expired += self._apply(
            update(TaskEntity)
            .where(active, ~out_of_retries, or_(ran_too_long, silent))
            .values(status=Status.NOT_FINISHED, updated_at=now)
        )
        return expired

    def heartbeat(self, task_ids: Iterable[Any]) -> None:
        """Record that the workers running these tasks are alive.

        Args:
            task_ids (Iterable[str | UUID]): Task ids; malformed ones are ignored.
        """
        keys = [key for key in (self._parse_id(task_id) for task_id in task_ids) if key]
        if keys:
            self._apply(
                update(TaskEntity).where(TaskEntity.id.in_(keys)).values(updated_at=utc_now())
            )

    def get_tasks(
        self,
        user_id: str | None = None,
        status: Status | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[TaskEntity]:
        """List tasks, newest first.

        Args:
            user_id (str | None): Only this user's tasks.
            status (Status | None): Only tasks with this status.
            limit (int): At most this many.
            offset (int): Skip this many.

        Returns:
            list[TaskEntity]: The tasks.
        """
        statement = select(TaskEntity)
        if user_id is not None:
            statement = statement.where(TaskEntity.user_id == user_id)
        if status is not None:
            statement = statement.where(TaskEntity.status == status)
        statement = (
            statement.order_by(TaskEntity.created_at.desc(), TaskEntity.id)
            .limit(limit)
            .offset(offset)
        )
        return list(self.session.scalars(statement))

    def count(self, user_id: str | None = None) -> dict[str, int]:
        """Count tasks by status.

        Args:
            user_id (str | None): Only this user's tasks.

        Returns:
            dict[str, int]: The count of every status value, plus ``total``.
        """
        statement = select(TaskEntity.status, func.count()).group_by(TaskEntity.status)
        if user_id is not None:
            statement = statement.where(TaskEntity.user_id == user_id)
        counts = {status.value: 0 for status in Status}
        for status, number in self.session.execute(statement).tuples():
            counts[Status(status).value] = number
        counts["total"] = sum(counts.values())
        return counts

    def _parse_id(self, item_id: Any) -> uuid.UUID | None:
        if isinstance(item_id, uuid.UUID):
            return item_id
        try:
            return uuid.UUID(str(item_id))
        except ValueError:
            return None

    def _update_one(self, task_id: Any, values: dict[str, Any], commit: bool = True) -> TaskEntity:
        key = self._parse_id(task_id)
        tasks = (
            self._apply(update(TaskEntity).where(TaskEntity.id == key).values(values), commit)
            if key is not None
            else []
        )
        if not tasks:
            self.read(task_id)  # raises NotFoundException naming the table and id
        return tasks[0]

    def _apply(self, statement: Update, commit: bool = True) -> list[TaskEntity]:
        """Run an UPDATE ... RETURNING on tasks, with the SQLite write lock taken first."""
        if not self.session.in_transaction():
            self.session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        tasks = list(
            self.session.scalars(
                statement.returning(TaskEntity),
                execution_options={"synchronize_session": False, "populate_existing": True},
            )
        )
        if commit:
            self.session.commit()
        return tasks


def _to_json(value: Any, field: str) -> Any:
    """Return ``value`` as JSON-ready data, or raise a ``TypeError`` naming what cannot be."""
    try:
        return to_jsonable_python(value)
    except PydanticSerializationError as error:
        raise TypeError(f"task {field} cannot be stored as JSON: {error}") from None
