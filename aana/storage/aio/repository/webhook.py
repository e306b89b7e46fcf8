"""The async repository of webhooks."""

from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.aio.repository.base import BaseRepository, awaiting
from aana.storage.models.webhook import WebhookEntity
from aana.storage.repository import base as sync_base
from aana.storage.repository import webhook as sync


class WebhookRepository(BaseRepository[WebhookEntity]):
    """The async twin of :class:`aana.storage.repository.WebhookRepository`."""

    sync_class: ClassVar[type[sync_base.BaseRepository[Any]]] = sync.WebhookRepository

    def __init__(self, session: AsyncSession) -> None:
        """Work in ``session`` on webhooks, through the synchronous twin.

        Args:
            session (AsyncSession): The session to work in.
        """
        super().__init__(session, WebhookEntity)

    read = awaiting(sync.WebhookRepository.read)
    delete = awaiting(sync.WebhookRepository.delete)
    save = awaiting(sync.WebhookRepository.save)
    get_webhooks = awaiting(sync.WebhookRepository.get_webhooks)
