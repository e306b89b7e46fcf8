"""The webhook entity: where the Aana SDK sends task events."""

import uuid
from urllib.parse import urlsplit

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from aana.core.models.webhook import WebhookEventType as WebhookEventType
from aana.storage.models.base import BaseEntity, TimeStampEntity


class WebhookEntity(BaseEntity, TimeStampEntity):
    """A webhook: a URL that is sent the events it subscribes to.

    The table is the one Aana SDK 0.2.4 created, so an adopted database keeps its rows.

    Attributes:
        id (uuid.UUID): Random webhook id.
        user_id (str | None): The user whose tasks' events it receives; None for a system
            webhook, which receives every user's.
        url (str): Where the events are sent.
        events (list[str]): The :class:`WebhookEventType` values it subscribes to; an empty
            list (or None, before :meth:`WebhookRepository.save
            <aana.storage.repository.webhook.WebhookRepository.save>`) subscribes it to all.
    """

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, comment="Webhook ID"
    )
    user_id: Mapped[str | None] = mapped_column(
        index=True, comment="The user ID associated with the webhook"
    )
    url: Mapped[str] = mapped_column(comment="The URL to which the webhook will send requests")
    # JSONB on PostgreSQL: its containment operator (@>) answers "subscribes to this event".
    events: Mapped[list[str]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"),
        comment="List of events the webhook is subscribed to. An empty list subscribes it to "
        "all events.",
    )

    def __repr__(self) -> str:
        """Show the webhook's id, user, events and the host of its URL.

        The rest of the URL is left out: webhook URLs often carry a token in their path or
        query, which must not reach a log.
        """
        return (
            f"<WebhookEntity(id={self.id}, user_id={self.user_id}, "
            f"url={_origin(self.url)!r}, events={self.events})>"
        )


def _origin(url: str | None) -> str | None:
    """Return the scheme and host of a URL, with no user, path or query."""
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/..." if parts.scheme else "..."
