"""The task entity that backs the SDK's task queue."""

import datetime
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import Mapped, mapped_column

from aana.storage.models.base import BaseEntity, TimeStampEntity


class Status(StrEnum):
    """Status of a task."""

    CREATED = "created"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    RUNNING = "running"
    FAILED = "failed"
    NOT_FINISHED = "not_finished"


class TaskEntity(BaseEntity, TimeStampEntity):
    """A task of the task queue; used internally by the SDK.

    ``updated_at`` doubles as the heartbeat: workers refresh it while a task runs.

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
        num_retries (int): How many times the task was claimed.
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
    user_id: Mapped[str | None] = mapped_column(
        String(255), index=True, comment="ID of the user who launched the task"
    )


# Finds the finished tasks a prune deletes (TaskRepository.prune) without reading the others:
# the statuses, then completed_at up to the cutoff. Outside the class, so that indexes added
# to the table elsewhere do not meet it in one __table_args__.
Index("ix_tasks_status_completed_at", TaskEntity.status, TaskEntity.completed_at)
