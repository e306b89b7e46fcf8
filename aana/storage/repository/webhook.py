"""The repository of webhooks."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from aana.exceptions.db import InvalidValueException
from aana.exceptions.runtime import InvalidWebhookEventType
from aana.storage.models.webhook import WebhookEntity, WebhookEventType
from aana.storage.repository.base import BaseRepository
from aana.storage.repository.transaction import FRESH


class WebhookRepository(BaseRepository[WebhookEntity]):
    """Repository of webhooks, with the Aana SDK's semantics.

    A webhook with no ``user_id`` is a system webhook; a webhook with no events subscribes to
    every event. Every method follows the transaction rule of :class:`BaseRepository`.
    """

    def __init__(self, session: Session) -> None:
        """Work in ``session`` on webhooks; their entity class is always ``WebhookEntity``.

        Args:
            session (Session): The session to work in.
        """
        super().__init__(session, WebhookEntity)

    def read(self, item_id: Any, check: bool = True) -> WebhookEntity | None:
        """Read a webhook by its id.

        Args:
            item_id (str | UUID): The webhook id; a malformed id counts as not found.
            check (bool): Raise when there is no such webhook, instead of returning None.

        Returns:
            WebhookEntity | None: The webhook, or None when it does not exist and ``check``
            is False.

        Raises:
            NotFoundException: If there is no such webhook and ``check`` is True.
        """
        return super().read(item_id, check=check)

    def delete(self, item_id: Any, check: bool = True) -> WebhookEntity | None:
        """Delete a webhook by its id and commit.

        Args:
            item_id (str | UUID): The webhook id; a malformed id counts as not found.
            check (bool): Raise when there is no such webhook, instead of returning None.

        Returns:
            WebhookEntity | None: The deleted webhook, or None when it did not exist.

        Raises:
            NotFoundException: If there is no such webhook and ``check`` is True.
        """
        return super().delete(item_id, check=check)

    def save(self, webhook: WebhookEntity) -> WebhookEntity:
        """Save a new webhook, or the changes to one read earlier, and commit.

        ``events`` is checked and normalised first: None becomes ``[]`` (every event), and
        each event becomes its :class:`WebhookEventType` value.

        Args:
            webhook (WebhookEntity): The webhook.

        Returns:
            WebhookEntity: The same webhook, saved, with its id.

        Raises:
            InvalidWebhookEventType: If an event is not a :class:`WebhookEventType`; nothing
                is written and ``webhook`` is left as it was.
            InvalidValueException: If ``events`` is not a list of event types.
        """
        events = webhook.events
        if events is None:
            events = []
        if not isinstance(events, list | tuple):
            raise InvalidValueException(
                self.table_name,
                f"events must be a list of event types, not a {type(events).__name__}",
            )
        webhook.events = [_event_type(event).value for event in events]
        return self.create(webhook)

    def get_webhooks(
        self, user_id: str | None, event_type: str | None = None
    ) -> list[WebhookEntity]:
        """Return the webhooks of a user, or the system webhooks, in the order they were made.

        Args:
            user_id (str | None): The user; None for the system webhooks (those with no
                user), which are not among any user's.
            event_type (str | None): Only the webhooks subscribed to this event: those that
                list it and those that list none. None for every webhook of the user.

        Returns:
            list[WebhookEntity]: The webhooks.

        Raises:
            InvalidWebhookEventType: If ``event_type`` is not a :class:`WebhookEventType`.
        """
        statement = select(WebhookEntity).where(
            WebhookEntity.user_id.is_(None) if user_id is None else WebhookEntity.user_id == user_id
        )
        if event_type is not None:
            event = _event_type(event_type).value
            dialect = self.session.get_bind().dialect.name
            statement = statement.where(_subscribed_to(event, dialect))
        statement = statement.order_by(WebhookEntity.created_at, WebhookEntity.id)
        with self._unit(write=False):
            return list(self.session.scalars(statement, execution_options=FRESH))

    def _parse_id(self, item_id: Any) -> uuid.UUID | None:
        if isinstance(item_id, uuid.UUID):
            return item_id
        try:
            return uuid.UUID(str(item_id))
        except ValueError:
            return None


def _event_type(event: Any) -> WebhookEventType:
    try:
        return WebhookEventType(event)
    except ValueError:
        raise InvalidWebhookEventType(event_type=event) from None


def _subscribed_to(event: str, dialect: str) -> ColumnElement[bool]:
    """Whether a webhook's events list ``event`` or are empty (every event)."""
    events = WebhookEntity.events
    if dialect == "postgresql":
        as_jsonb = type_coerce(events, JSONB)
        return or_(as_jsonb.contains([event]), as_jsonb == type_coerce([], JSONB))
    listed = func.json_each(events).table_valued("value", joins_implicitly=True)
    return or_(
        exists(select(literal(1)).select_from(listed).where(listed.c.value == event)),
        func.json_array_length(events) == 0,
    )
