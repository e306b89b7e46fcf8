"""The async repository of tasks."""

from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.aio.repository.base import BaseRepository, awaiting
from aana.storage.models.task import TaskEntity
from aana.storage.repository import base as sync_base
from aana.storage.repository import task as sync


class TaskRepository(BaseRepository[TaskEntity]):
    """The async twin of :class:`aana.storage.repository.TaskRepository`.

    A work queue that many workers, as tasks of one event loop or in many processes, can
    share safely.
    """

    sync_class: ClassVar[type[sync_base.BaseRepository[Any]]] = sync.TaskRepository

    def __init__(self, session: AsyncSession) -> None:
        """Build the queue's async repository on a session.

        Args:
            session (AsyncSession): The session to work in.
        """
        super().__init__(session, TaskEntity)

    save = awaiting(sync.TaskRepository.save)
    delete = awaiting(sync.TaskRepository.delete)  # type: ignore[assignment]
    fetch_unprocessed_tasks = awaiting(sync.TaskRepository.fetch_unprocessed_tasks)
    update_status = awaiting(sync.TaskRepository.update_status)
    retry_task = awaiting(sync.TaskRepository.retry_task)
    get_active_tasks = awaiting(sync.TaskRepository.get_active_tasks)
    filter_incomplete_tasks = awaiting(sync.TaskRepository.filter_incomplete_tasks)
    update_expired_tasks = awaiting(sync.TaskRepository.update_expired_tasks)
    heartbeat = awaiting(sync.TaskRepository.heartbeat)
    get_tasks = awaiting(sync.TaskRepository.get_tasks)
    count = awaiting(sync.TaskRepository.count)
    prune = awaiting(sync.TaskRepository.prune)
