"""The task entity that backs the SDK's task queue."""

import datetime
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ColumnElement, Computed, Index, String, text
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Unmapped, mapped_column, unmapped_column
from sqlalchemy.sql.compiler import SQLCompiler

from aana.storage.models.base import BaseEntity, TimeStampEntity


class Status(StrEnum):
    """Status of a task."""

    CREATED = "created"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    RUNNING = "running"
    FAILED = "failed"
    NOT_FINISHED = "not_finished"


QUEUED_STATUSES = (Status.CREATED, Status.NOT_FINISHED)
"""The statuses of tasks waiting for a claim."""

QUEUED_SQL = "status IN ('created', 'not_finished')"
"""The claimable-status condition, as the claim writes it: a partial index serves a query
only when the query carries its condition as written (SQLite) or provably (PostgreSQL,
which cannot prove it from bound parameters in a generic plan)."""

FAILED_SQL = "status = 'failed'"
"""The condition of the retry candidates' partial index."""

ACTIVE_SQL = "status IN ('assigned', 'running')"
"""The active-task condition, as the expired-task sweep and ``get_active_tasks`` write it."""

ERROR_NAME_SQL = {
    # As PostgreSQL prints it back, so that the migration check compares equal text.
    "postgresql": (
        "CASE WHEN (status <> 'failed'::task_status) THEN NULL::text "
        "WHEN ((result)::text ~* '\\\\u0000|\\\\ud[89ab][0-9a-f]{2}(?!\\\\ud[c-f])|"
        "(?<!\\\\ud[89ab][0-9a-f]{2})\\\\ud[c-f][0-9a-f]{2}'::text) THEN NULL::text "
        "WHEN (json_typeof((result -> 'error'::text)) = 'string'::text) "
        "THEN (result ->> 'error'::text) ELSE NULL::text END"
    ),
    "sqlite": (
        "CASE WHEN status <> 'failed' THEN NULL WHEN NOT json_valid(result) THEN NULL "
        "WHEN json_type(result, '$.error') = 'text' THEN json_extract(result, '$.error') END"
    ),
}
"""``error_name``'s expression on each backend: ``result["error"]`` of a failed task when
it is a string, else NULL, from any stored row. Only failed rows' JSON is read, and first
checked: on PostgreSQL every JSON operator fails on text holding ``\\u0000`` or an unpaired
surrogate escape, and SQLite's JSON functions fail on text that is not JSON. A non-string
error (``true``, ``1``) gives NULL on both, where the backends would compare it differently."""


class _ErrorName(ColumnElement[str]):
    """``error_name``'s expression, written for the backend the DDL is compiled for."""

    inherit_cache = True
    type = String()


@compiles(_ErrorName)
def _error_name_sql(_element: _ErrorName, compiler: SQLCompiler, **_kw: Any) -> str:
    return ERROR_NAME_SQL.get(compiler.dialect.name, ERROR_NAME_SQL["sqlite"])


class TaskEntity(BaseEntity, TimeStampEntity):
    """A task of the task queue; used internally by the SDK.

    ``updated_at`` doubles as the heartbeat: workers refresh it while a task runs.
    ``attempt`` is the fencing token: every claim increments it and nothing resets it, so a
    worker that passes the attempt it was handed to ``update_status`` is refused once the
    task was claimed again (see :class:`~aana.storage.repository.TaskRepository`).

    Attributes:
        id (uuid.UUID): Random task id.
        endpoint (str): The endpoint the task runs.
        data (Any): The request, as JSON.
        status (Status): Where the task is in its life.
        priority (int): Higher runs first.
        assigned_at (datetime.datetime | None): When a worker last claimed the task.
        completed_at (datetime.datetime | None): When the task completed or failed.
        progress (float): Progress, from 0 to 100.
        result (Any | None): The result or the error, as JSON.
        num_retries (int): How many times the task was claimed since it was created or
            last retried with ``retry_task``.
        attempt (int): How many times the task was claimed in all; never reset.
        user_id (str | None): The user the task belongs to.
    """

    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, comment="Task ID")
    endpoint: Mapped[str] = mapped_column(comment="The endpoint to which the task is assigned")
    data: Mapped[Any] = mapped_column(JSON, comment="Data for the task")
    status: Mapped[Status] = mapped_column(
        SqlEnum(
            Status,
            name="task_status",
            values_callable=lambda statuses: [status.value for status in statuses],
            validate_strings=True,
        ),
        default=Status.CREATED,
        index=True,
        comment="Status of the task",
    )
    priority: Mapped[int] = mapped_column(default=0, comment="Priority of the task (0 is lowest)")
    assigned_at: Mapped[datetime.datetime | None] = mapped_column(
        comment="Timestamp when the task was assigned"
    )
    completed_at: Mapped[datetime.datetime | None] = mapped_column(
        comment="Timestamp when the task was completed"
    )
    progress: Mapped[float] = mapped_column(default=0.0, comment="Progress of the task in percent")
    result: Mapped[Any | None] = mapped_column(JSON, comment="Result of the task in JSON format")
    num_retries: Mapped[int] = mapped_column(default=0, comment="Number of retries")
    attempt: Mapped[int] = mapped_column(
        default=0,
        server_default=text("0"),
        comment="Claims of the task in all, never reset: the owner's fencing token",
    )
    user_id: Mapped[str | None] = mapped_column(
        String(255), comment="ID of the user who launched the task"
    )
    # Kept by the database, never loaded: the claim finds retryable failures by this column's
    # index instead of reading every failed row's JSON. Not mapped, so that no stored value,
    # such as a name SQLite decoded from an unpaired surrogate escape, reaches Python.
    # Generated, so every write sets it, raw SQL included. Stored (PostgreSQL has no virtual
    # columns); revision 0002 adds it as a virtual column on SQLite, which cannot add a stored
    # one to an existing table. Indexed either way, so a lookup never computes it.
    error_name: Unmapped[str | None] = unmapped_column(
        String,
        Computed(_ErrorName(), persisted=True),
        comment="result['error'] of a failed task when it is a string: the claim's retry key",
    )


Index(
    "ix_tasks_claimable",
    TaskEntity.priority.desc(),
    TaskEntity.created_at,
    TaskEntity.id,
    postgresql_where=text(QUEUED_SQL),
    sqlite_where=text(QUEUED_SQL),
)
"""Serves the claim's order among queued tasks: a claim reads the rows it takes, and no more."""

Index(
    "ix_tasks_retryable",
    TaskEntity.__table__.c.error_name,
    TaskEntity.num_retries,
    postgresql_where=text(FAILED_SQL),
    sqlite_where=text(FAILED_SQL),
)
"""Finds failed tasks by error name and retries used: with retries on, a claim reads only the
failed tasks it could retry, however long the failed history."""

Index(
    "ix_tasks_active",
    TaskEntity.created_at,
    TaskEntity.id,
    postgresql_where=text(ACTIVE_SQL),
    sqlite_where=text(ACTIVE_SQL),
)
"""The active tasks, oldest first: the expired-task sweep and ``get_active_tasks`` read these
rows only. SQLite's statistics cannot tell that few tasks are active: without this index it
read the whole table for the sweep."""

Index(
    "ix_tasks_user_claimable",
    TaskEntity.user_id,
    TaskEntity.priority.desc(),
    TaskEntity.created_at,
    TaskEntity.id,
    postgresql_where=text(QUEUED_SQL),
    sqlite_where=text(QUEUED_SQL),
)
"""Each user's queued tasks in claim order, and those without a user (``user_id IS NULL``):
the API service's per-user claim reads a user's next tasks, and no more."""

Index(
    "ix_tasks_user_active",
    TaskEntity.user_id,
    postgresql_where=text(ACTIVE_SQL),
    sqlite_where=text(ACTIVE_SQL),
)
"""Counts a user's active tasks, against the API service's per-user limit, without reading the
user's history."""

Index("ix_tasks_created_at", TaskEntity.created_at.desc(), TaskEntity.id)
"""Serves ``get_tasks()`` without a user, newest first."""

Index(
    "ix_tasks_user_id_created_at", TaskEntity.user_id, TaskEntity.created_at.desc(), TaskEntity.id
)
"""Serves ``get_tasks(user_id=...)``, newest first, and ``count(user_id=...)``."""


# Finds the finished tasks a prune deletes (TaskRepository.prune) without reading the others:
# the statuses, then completed_at up to the cutoff. Outside the class, so that indexes added
# to the table elsewhere do not meet it in one __table_args__.
Index("ix_tasks_status_completed_at", TaskEntity.status, TaskEntity.completed_at)
