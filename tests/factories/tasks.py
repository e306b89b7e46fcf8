"""A task queue with a task in every state, plus tasks that were retried or have expired."""

import datetime
from dataclasses import dataclass

from aana.storage.models import Status, TaskEntity
from aana.testing.factories import TaskEntityFactory

EXECUTION_TIMEOUT = datetime.timedelta(minutes=10)
"""How long a task may run in the queues this module builds."""


@dataclass(frozen=True)
class TaskQueue:
    by_status: dict[Status, TaskEntity]
    retried: TaskEntity
    expired: TaskEntity

    @property
    def all(self) -> list[TaskEntity]:
        return [*self.by_status.values(), self.retried, self.expired]


def task_queue(now: datetime.datetime, retries: int = 2) -> TaskQueue:
    """A fresh task per status; a not-finished task claimed ``retries`` times; an expired one.

    The active tasks were assigned a minute before ``now``; the expired one twice
    :data:`EXECUTION_TIMEOUT` before it.
    """
    recently = now - datetime.timedelta(minutes=1)
    long_ago = now - 2 * EXECUTION_TIMEOUT
    by_status = {}
    for status in Status:
        active = status in (Status.ASSIGNED, Status.RUNNING)
        finished = status in (Status.COMPLETED, Status.FAILED)
        by_status[status] = TaskEntityFactory(
            status=status,
            assigned_at=recently if active or finished else None,
            completed_at=now if finished else None,
            progress=100.0 if status is Status.COMPLETED else 0.0,
        )
    return TaskQueue(
        by_status=by_status,
        retried=TaskEntityFactory(
            status=Status.NOT_FINISHED, num_retries=retries, assigned_at=recently
        ),
        expired=TaskEntityFactory(status=Status.RUNNING, assigned_at=long_ago),
    )
