"""The repository of tasks: a work queue that many workers can share safely."""

import datetime
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Update,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from aana.exceptions.db import (
    NotFoundException,
    StaleTaskUpdateException,
    TableMissingException,
)
from aana.storage.models.api_key import ApiKeyEntity
from aana.storage.models.task import QUEUED_STATUSES, Status, TaskEntity
from aana.storage.repository.base import BaseRepository
from aana.storage.repository.retention import (
    DEFAULT_BATCH_SIZE,
    PRUNABLE_STATUSES,
    PrunedTasks,
    batch_size_of,
    let_writers_in,
    prune_cutoff,
    prune_statuses,
)
from aana.storage.repository.task_claim import (
    ACTIVE,
    ACTIVE_STATUSES,
    claim_statement,
    lock_users_statement,
    per_user_claim_statement,
    run_once,
)
from aana.storage.repository.transaction import FRESH, unit
from aana.storage.repository.values import chunks, clamped, finite, integer, json_value
from aana.storage.types import utc_now

FINISHED_STATUSES = (Status.COMPLETED, Status.FAILED)
_NOT_RUNNING = (*FINISHED_STATUSES, Status.NOT_FINISHED)

ALLOWED_FROM: dict[Status, tuple[Status, ...]] = {
    Status.ASSIGNED: QUEUED_STATUSES,
    Status.RUNNING: ACTIVE_STATUSES,
    Status.COMPLETED: ACTIVE_STATUSES,
    # A completed task may still be reported failed, as the Aana SDK's own tests do; a late
    # worker that passes its attempt cannot, since an attempt only fences an active task.
    Status.FAILED: (*ACTIVE_STATUSES, Status.COMPLETED),
    Status.NOT_FINISHED: ACTIVE_STATUSES,
    Status.CREATED: (),
}
"""The statuses :meth:`TaskRepository.update_status` moves a task from, by target status.

A finished task never goes back to work by ``update_status``: only :meth:`retry_task`, an
explicit call, requeues it; a queued task is taken only by a claim (or ``update_status``
to ``assigned``, which is one)."""


class TaskRepository(BaseRepository[TaskEntity]):
    """Repository of tasks.

    Every state change is one ``UPDATE`` statement, so concurrent workers never lose each
    other's writes, and carries its own precondition (see :data:`ALLOWED_FROM`), so a worker
    that comes back late cannot undo another's: a finished task stays finished, and a
    worker that passes the ``attempt`` its claim handed out changes the task only while
    that claim still owns it.

    Claiming (:meth:`fetch_unprocessed_tasks`) hands each task to exactly one worker: on
    PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED``; on SQLite
    the claim opens its transaction with ``BEGIN IMMEDIATE``, which serializes writers.
    Statements that change several tasks lock them in id order, so they cannot deadlock with
    each other; code that updates several tasks in one transaction (``commit=False``) should
    do the same.

    The claim reads only rows it can take, in index order, whatever the size of the history:
    queued tasks through a partial index in the claim's order, and failed tasks to retry
    through a partial index of their error name (a column the database generates when the
    task fails), never by reading failed rows' JSON.

    Every method follows the transaction rule of :class:`BaseRepository`. Values are checked
    before any SQL is sent (:mod:`aana.storage.repository.values`): a value the database
    cannot store raises :class:`~aana.exceptions.db.InvalidValueException` on every backend,
    and JSON holding NUL or an unpaired surrogate is refused, since PostgreSQL cannot read
    such a row back as text.
    """

    def __init__(self, session: Session) -> None:
        """Build the queue's repository on a session.

        Args:
            session (Session): The session to work in; with the API service's claim, one that
                also binds ``ApiServiceBase`` to the API service's database.
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
            TypeError: If ``data`` holds a value of a type JSON cannot store; the message
                names the type. Nothing is written.
            InvalidValueException: If ``data`` holds NaN or infinity, a circular reference,
                bytes that are not UTF-8, NUL or an unpaired surrogate, or ``priority`` is not
                a 32-bit integer. Nothing is written.
        """
        task = TaskEntity(
            endpoint=endpoint,
            data=json_value(data, self.table_name, "data"),
            user_id=user_id,
            priority=integer(priority, self.table_name, "priority"),
            status=Status.CREATED,
        )
        return self.create(task)

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
        api_service_enabled: bool = False,
        maximum_active_tasks_per_user: int = 25,
    ) -> list[TaskEntity]:
        """Claim tasks to run and mark them ``assigned``, in one statement, then commit.

        Claimable are tasks ``created`` or ``not_finished``, and ``failed`` ones whose
        ``result["error"]`` names one of ``retryable_exceptions`` and that were tried fewer than
        ``max_retries`` times. Each claimed task gets ``assigned_at`` set and ``num_retries``
        and ``attempt`` incremented; pass its ``attempt`` to :meth:`update_status` to fence the
        worker's updates. No task is handed to two callers, whatever the concurrency.

        With ``api_service_enabled``, as in the Aana SDK, a user's tasks are claimable only
        while one of the user's API keys has an active subscription
        (:class:`~aana.storage.models.api_key.ApiKeyEntity`, read through the session, which
        must bind :class:`~aana.storage.models.api_key.ApiServiceBase` to the API service's
        database), and only as long as the user has fewer than
        ``maximum_active_tasks_per_user`` tasks ``assigned`` or ``running``: a user's tasks
        are taken in the user's own claim order, up to that number. Tasks without a user are
        always claimable. The limit holds across concurrent workers: on PostgreSQL a claim
        serves a user only while holding that user's advisory lock (a user another claim is
        serving is skipped, to be served by the next claim); on SQLite claims are serialized.

        Args:
            limit (int | None): Claim at most this many; all claimable ones if None.
            max_retries (int): Failed tasks tried this many times are not retried.
            retryable_exceptions (Iterable[str] | None): Names of retryable errors.
            api_service_enabled (bool): Apply the API service's subscriptions and per-user
                limit.
            maximum_active_tasks_per_user (int): With ``api_service_enabled``, the most
                tasks a user may have ``assigned`` or ``running``.

        Returns:
            list[TaskEntity]: The claimed tasks, highest priority first, then oldest.

        Raises:
            ValueError: If ``limit`` or ``maximum_active_tasks_per_user`` is negative.
            TypeError: If ``retryable_exceptions`` is a single ``str`` or holds a non-string.
            TableMissingException: If ``api_service_enabled`` and the session reaches no
                ``api_keys`` table; the message says how to bind and create it.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be at least 0, got {limit}")
        if api_service_enabled and maximum_active_tasks_per_user < 0:
            raise ValueError(
                "maximum_active_tasks_per_user must be at least 0, got "
                f"{maximum_active_tasks_per_user}"
            )
        retryable = _exception_names(retryable_exceptions)
        parameters: dict[str, Any] = {"now": utc_now()}
        if limit is not None:
            parameters["limit"] = clamped(limit)
        if retryable:
            parameters["max_retries"] = clamped(max_retries)
            parameters["retryable"] = retryable
        limited, retrying = limit is not None, bool(retryable)
        users = self._subscribed_users() if api_service_enabled else []
        with self._unit(write=True):
            if api_service_enabled:
                dialect = self.session.get_bind(TaskEntity).dialect.name
                if dialect == "postgresql":
                    users = list(self.session.scalars(lock_users_statement(), {"users": users}))
                    parameters["users"] = users
                else:
                    parameters["users"] = json.dumps(users)
                parameters["cap"] = clamped(maximum_active_tasks_per_user)
                statement = per_user_claim_statement(dialect, limited, retrying)
            else:
                statement = claim_statement(limited, retrying)
            tasks = list(self.session.scalars(statement, parameters, execution_options=FRESH))
        tasks.sort(key=lambda task: (-task.priority, task.created_at, task.id))
        return tasks

    def _subscribed_users(self) -> list[str]:
        """Return the users with an active subscription, from the API service's database."""
        statement = (
            select(ApiKeyEntity.user_id)
            .where(ApiKeyEntity.is_subscription_active.is_(True))
            .distinct()
        )
        try:
            with unit(self.session, ApiKeyEntity.__tablename__, write=False):
                return sorted(self.session.scalars(statement))
        except TableMissingException as error:
            raise TableMissingException(
                ApiKeyEntity.__tablename__,
                error.detail,
                remedy=(
                    "api_service_enabled=True reads the API service's api_keys table through "
                    "the session: bind ApiServiceBase to the API service's engine "
                    "(Session(app_engine, binds={ApiServiceBase: api_engine, BaseEntity: "
                    "app_engine}), as "
                    "get_session() does when settings.api_service.enabled) and create the "
                    "table with ApiServiceBase.metadata.create_all(api_engine)"
                ),
            ) from error

    def update_status(
        self,
        task_id: Any,
        status: Status,
        progress: float | None = None,
        result: Any = None,
        commit: bool = True,
        *,
        attempt: int | None = None,
    ) -> TaskEntity:
        """Move a task to a status, in one statement that also checks the move is allowed.

        ``completed`` and ``failed`` set ``completed_at``; ``assigned`` sets ``assigned_at`` and
        increments ``num_retries`` and ``attempt`` (it is a claim).

        The move must be allowed from the task's current status (:data:`ALLOWED_FROM`):
        ``created``/``not_finished`` -> ``assigned``; ``assigned``/``running`` -> ``running``,
        ``completed``, ``failed``, ``not_finished``; ``completed`` -> ``failed``. A worker that
        passes ``attempt`` (the ``attempt`` of the task its claim returned) is also refused
        unless the task is still ``assigned`` or ``running`` under that same claim: once the
        expired-task sweep requeued it, or another worker claimed it, the late update is not
        applied.

        Args:
            task_id (str | UUID): The task id.
            status (Status): The new status, or its value.
            progress (float | None): The new progress, if given.
            result (Any): The result or error, stored as JSON, if given.
            commit (bool): Commit the change; otherwise leave it in the session's transaction.
            attempt (int | None): The claim the caller owns the task by; None skips the
                ownership check (the status rules still apply).

        Returns:
            TaskEntity: The updated task.

        Raises:
            NotFoundException: If there is no such task.
            StaleTaskUpdateException: If the move is not allowed from the task's status, or
                the task is no longer the caller's claim; it names the task, its status and
                both attempts. Nothing is written.
            ValueError: If ``status`` is not a task status. Nothing is written.
            InvalidValueException: If ``progress`` or ``attempt`` is not a number the column
                can hold, or ``result`` holds NaN, infinity, a circular reference, NUL or an
                unpaired surrogate. Nothing is written.
            TypeError: If ``result`` holds a value of a type JSON cannot store. Nothing is
                written.
        """
        status = _status(status)
        now = utc_now()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status in FINISHED_STATUSES:
            values["completed_at"] = now
        if status is Status.ASSIGNED:
            values["assigned_at"] = now
            values["num_retries"] = TaskEntity.num_retries + 1
            values["attempt"] = TaskEntity.attempt + 1
        if progress is not None:
            values["progress"] = finite(progress, self.table_name, "progress")
        if result is not None:
            values["result"] = json_value(result, self.table_name, "result")
        allowed = ALLOWED_FROM[status]
        condition: ColumnElement[bool] = TaskEntity.status.in_(allowed)
        if attempt is not None:
            owner = integer(attempt, self.table_name, "attempt")
            condition = and_(
                TaskEntity.status.in_([from_ for from_ in allowed if from_ in ACTIVE_STATUSES]),
                TaskEntity.attempt == owner,
            )
        key = self._parse_id(task_id)
        if key is None:
            raise NotFoundException(self.table_name, task_id)
        with self._unit(write=True, commit=commit):
            tasks = self._returning(
                update(TaskEntity).where(TaskEntity.id == key, condition).values(values)
            )
            if not tasks:
                current = self.session.execute(
                    select(TaskEntity.status, TaskEntity.attempt).where(TaskEntity.id == key)
                ).one_or_none()
                if current is None:
                    raise NotFoundException(self.table_name, task_id)
                raise StaleTaskUpdateException(
                    str(key), Status(current.status).value, status.value, current.attempt, attempt
                )
        return tasks[0]

    def retry_task(self, task_id: Any) -> TaskEntity:
        """Put a task back in the queue as if it were new; its data is kept.

        The only way back from ``completed`` or ``failed``, and allowed from any status.
        ``attempt`` is kept, so a worker still holding an earlier claim stays fenced off.

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
        statement = select(TaskEntity).where(ACTIVE).order_by(TaskEntity.created_at, TaskEntity.id)
        with self._unit(write=False):
            return list(self.session.scalars(statement, execution_options=FRESH))

    def filter_incomplete_tasks(self, task_ids: Iterable[Any]) -> list[str]:
        """Return the ids, among ``task_ids``, of tasks still being worked on.

        Left out are tasks ``completed`` or ``failed``, and also ``not_finished`` ones, as in
        the Aana SDK: its task-queue deployment calls this right after
        :meth:`update_expired_tasks` to drop timed-out tasks from its list of running ones,
        and a task put back in the queue as ``not_finished`` is no longer running.

        Args:
            task_ids (Iterable[str | UUID]): Task ids, any number; malformed or unknown ones
                are dropped.

        Returns:
            list[str]: The incomplete tasks' ids, as canonical UUID strings, in input order.
        """
        keys = self._parse_ids(task_ids)
        incomplete: set[uuid.UUID] = set()
        with self._unit(write=False):
            for chunk in chunks(keys):
                incomplete.update(
                    self.session.scalars(
                        select(TaskEntity.id).where(
                            TaskEntity.id.in_(chunk), TaskEntity.status.not_in(_NOT_RUNNING)
                        )
                    )
                )
        return [str(key) for key in keys if key in incomplete]

    def update_expired_tasks(
        self,
        execution_timeout: float,
        heartbeat_timeout: float,
        max_retries: int,
    ) -> list[TaskEntity]:
        """Fail or requeue active tasks that ran too long or stopped sending heartbeats.

        A task ``assigned`` or ``running`` for longer than ``execution_timeout`` seconds, or
        whose heartbeat (``updated_at``) is older than ``heartbeat_timeout`` seconds, becomes
        ``failed`` once it has used up ``max_retries`` (result error ``TimeoutError``, or
        ``HeartbeatTimeoutError`` when only the heartbeat is late), else ``not_finished`` so
        that it is claimed again. One statement, then commit.

        Args:
            execution_timeout (float): Seconds a task may run.
            heartbeat_timeout (float): Seconds a task may go without a heartbeat.
            max_retries (int): Claims after which an expired task fails for good.

        Returns:
            list[TaskEntity]: The tasks that expired.

        Raises:
            InvalidValueException: If a timeout is not a finite number. Nothing is written.
        """
        now = utc_now()
        ran_too_long = TaskEntity.assigned_at < now - _seconds(
            execution_timeout, self.table_name, "execution_timeout"
        )
        silent = TaskEntity.updated_at < now - _seconds(
            heartbeat_timeout, self.table_name, "heartbeat_timeout"
        )
        out_of_retries = TaskEntity.num_retries >= clamped(max_retries)
        expired = select(TaskEntity.id).where(ACTIVE, or_(ran_too_long, silent)).with_for_update()
        if self.session.get_bind().dialect.name == "postgresql":
            # Locked in id order, so that two sweeps cannot deadlock. Not on SQLite, which
            # has no row locks: there the order made it read the whole table in key order
            # rather than the few active rows through ix_tasks_active.
            expired = expired.order_by(TaskEntity.id)
        timed_out = {
            "error": "TimeoutError",
            "message": f"Task execution timed out after {execution_timeout}s",
        }
        no_heartbeat = {
            "error": "HeartbeatTimeoutError",
            "message": f"No heartbeat for {heartbeat_timeout}s",
        }
        status_type = TaskEntity.status.type
        result_type = TaskEntity.result.type
        with self._unit(write=True):
            return self._returning(
                update(TaskEntity)
                .where(TaskEntity.id.in_(run_once(expired)))
                .values(
                    status=case(
                        (out_of_retries, cast(literal(Status.FAILED, status_type), status_type)),
                        else_=cast(literal(Status.NOT_FINISHED, status_type), status_type),
                    ),
                    result=case(
                        (and_(out_of_retries, ran_too_long), literal(timed_out, result_type)),
                        (out_of_retries, literal(no_heartbeat, result_type)),
                        else_=TaskEntity.result,
                    ),
                    completed_at=case(
                        (out_of_retries, literal(now, TaskEntity.completed_at.type)),
                        else_=TaskEntity.completed_at,
                    ),
                    updated_at=now,
                )
            )

    def heartbeat(self, task_ids: Iterable[Any]) -> None:
        """Record that the workers running these tasks are alive, then commit.

        Only tasks ``assigned`` or ``running`` are touched: a heartbeat for a task that was
        requeued or finished meanwhile changes nothing.

        Args:
            task_ids (Iterable[str | UUID]): Task ids, any number; malformed ones are ignored.
        """
        keys = sorted(self._parse_ids(task_ids))
        if not keys:
            return
        now = utc_now()
        with self._unit(write=True):
            # In id order, chunk after chunk, so that two heartbeats cannot deadlock.
            for chunk in chunks(keys):
                alive = (
                    select(TaskEntity.id)
                    .where(TaskEntity.id.in_(chunk), TaskEntity.status.in_(ACTIVE_STATUSES))
                    .order_by(TaskEntity.id)
                    .with_for_update()
                )
                self.session.execute(
                    update(TaskEntity)
                    .where(TaskEntity.id.in_(run_once(alive)))
                    .values(updated_at=now),
                    execution_options={"synchronize_session": False},
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

        Raises:
            ValueError: If ``limit`` or ``offset`` is negative, or ``status`` is not a task
                status.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be at least 0, got {limit} and {offset}")
        limit, offset = clamped(limit), clamped(offset)
        statement = select(TaskEntity)
        if user_id is not None:
            statement = statement.where(TaskEntity.user_id == user_id)
        if status is not None:
            statement = statement.where(TaskEntity.status == _status(status))
        statement = (
            statement.order_by(TaskEntity.created_at.desc(), TaskEntity.id)
            .limit(limit)
            .offset(offset)
        )
        with self._unit(write=False):
            return list(self.session.scalars(statement, execution_options=FRESH))

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
        with self._unit(write=False):
            rows = self.session.execute(statement).all()
        for status, number in rows:
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

    def _parse_ids(self, item_ids: Iterable[Any]) -> list[uuid.UUID]:
        """Return the well-formed ids among ``item_ids``, without repeats, in order."""
        parsed = (self._parse_id(item_id) for item_id in item_ids)
        return list(dict.fromkeys(key for key in parsed if key is not None))

    def _update_one(self, task_id: Any, values: dict[str, Any], commit: bool = True) -> TaskEntity:
        key = self._parse_id(task_id)
        if key is None:
            raise NotFoundException(self.table_name, task_id)
        with self._unit(write=True, commit=commit):
            tasks = self._returning(update(TaskEntity).where(TaskEntity.id == key).values(values))
        if not tasks:
            raise NotFoundException(self.table_name, task_id)
        return tasks[0]

    def _returning(self, statement: Update) -> list[TaskEntity]:
        """Run an UPDATE on tasks and return the updated rows as fresh entities."""
        return list(
            self.session.scalars(
                statement.returning(TaskEntity),
                execution_options={"synchronize_session": False, **FRESH},
            )
        )

    def prune(
        self,
        older_than: datetime.timedelta | datetime.datetime,
        statuses: Iterable[Status | str] | Status | str = PRUNABLE_STATUSES,
        batch_size: int = DEFAULT_BATCH_SIZE,
        dry_run: bool = False,
        progress: Callable[[PrunedTasks], None] | None = None,
    ) -> PrunedTasks:
        """Delete finished tasks that finished long enough ago, in batches.

        A task counts when its status is one of ``statuses`` and its ``completed_at`` is before
        the cutoff (``older_than`` ago, or the instant ``older_than``). Each batch is a short
        transaction of its own (a SAVEPOINT, inside a transaction the caller began) that
        deletes up to ``batch_size`` of them, picked by primary key. It never waits for a lock
        nor takes one a claim needs: on PostgreSQL it locks its rows with ``FOR UPDATE SKIP
        LOCKED``, passing over any row another transaction holds (it stays for the next
        prune), and a claim only ever locks claimable rows; on SQLite it releases the write
        lock between batches and waits as long as the batch took, so that waiting claims get
        it (see :func:`~aana.storage.repository.retention.let_writers_in`). The prune ends
        with the first batch that finds nothing to delete. Batches committed before an error
        stay deleted.

        Args:
            older_than (datetime.timedelta | datetime.datetime): The age of the tasks to
                delete, positive, or a timezone-aware instant in the past.
            statuses (Iterable[Status | str] | Status | str): ``completed``, ``failed`` or
                both (the default).
            batch_size (int): Tasks per transaction, from 1 to 100,000.
            dry_run (bool): Delete nothing; count, in one read, what a prune would delete.
            progress (Callable[[PrunedTasks], None] | None): Called with the counts so far
                after each batch (once, in a dry run), in the caller's thread (in its event
                loop's greenlet on the async half): it should return quickly.

        Returns:
            PrunedTasks: The cutoff and the tasks deleted (or in a dry run, to delete) by
            status.

        Raises:
            ValueError: If ``older_than`` is not a positive duration or an aware instant in
                the past, a status is unknown or not finished (created, assigned, running,
                not_finished), or ``batch_size`` is out of range. Nothing is deleted.
            TypeError: If ``older_than`` is neither a timedelta nor a datetime.
            IntegrityViolation: If a row of another table (an app's) references a task of the
                batch; that batch is left as it was.
        """
        pruned = PrunedTasks(
            cutoff=prune_cutoff(older_than),
            counts=dict.fromkeys(prune_statuses(statuses), 0),
            dry_run=dry_run,
        )
        size = batch_size_of(batch_size)
        finished_before = and_(
            TaskEntity.status.in_(list(pruned.counts)), TaskEntity.completed_at < pruned.cutoff
        )
        if dry_run:
            counting = (
                select(TaskEntity.status, func.count())
                .where(finished_before)
                .group_by(TaskEntity.status)
            )
            with self._unit(write=False):
                rows = self.session.execute(counting).all()
            for status, number in rows:
                pruned.counts[Status(status)] = number
            if progress is not None:
                progress(pruned)
            return pruned
        batch = (
            select(TaskEntity.id)
            .where(finished_before)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        deleting = (
            delete(TaskEntity)
            .where(TaskEntity.id.in_(run_once(batch)))
            .returning(TaskEntity.status)
        )
        while True:
            started = time.monotonic()
            with self._unit(write=True, may_break_constraints=True):
                deleted = self.session.scalars(
                    deleting, execution_options={"synchronize_session": False}
                ).all()
            if not deleted:
                return pruned
            pruned.batches += 1
            for status in deleted:
                pruned.counts[Status(status)] += 1
            if progress is not None:
                progress(pruned)
            let_writers_in(self.session, time.monotonic() - started)


def _exception_names(names: Iterable[str] | None) -> list[str]:
    """Return ``names`` as a list, refusing a bare string or anything but strings."""
    if names is None:
        return []
    if isinstance(names, str):
        raise TypeError(
            f"retryable_exceptions must be a collection of exception names, not the string "
            f"{names!r}; pass [{names!r}]"
        )
    listed = list(names)
    for name in listed:
        if not isinstance(name, str):
            raise TypeError(
                f"retryable_exceptions must hold exception names (str), got {name!r} "
                f"of type {type(name).__name__}"
            )
    return listed


def _status(status: Any) -> Status:
    """Return ``status`` as a :class:`Status`, or raise a ``ValueError`` listing the valid ones."""
    try:
        return Status(status)
    except ValueError:
        valid = ", ".join(member.value for member in Status)
        raise ValueError(f"unknown task status {status!r}; expected one of {valid}") from None


def _seconds(value: Any, table_name: str, field: str) -> datetime.timedelta:
    """Return a timeout as a timedelta, refusing what is not a finite number of seconds.

    A timeout too large for a timedelta (about 2.7 million years) is as good as that.
    """
    seconds = finite(value, table_name, field)
    return datetime.timedelta(seconds=max(-_LONGEST, min(seconds, _LONGEST)))


_LONGEST = datetime.timedelta.max.total_seconds() // 2
