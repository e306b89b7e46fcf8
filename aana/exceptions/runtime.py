"""Exceptions of the Aana SDK's runtime that the storage layer raises, under Aana's names.

Aana SDK code catches them as ``aana.exceptions.runtime.<Name>``; here each is also one of
:mod:`aana.exceptions.db`'s, so code written for this library catches it with the rest.
"""

from typing import Any

from aana.core.models.webhook import WebhookEventType
from aana.exceptions.db import InvalidValueException

__all__ = ["InvalidWebhookEventType"]


class InvalidWebhookEventType(InvalidValueException):
    """A webhook names an event that is not a :class:`~aana.storage.models.WebhookEventType`.

    Raised before any SQL is sent; nothing is written. It is also an
    :class:`~aana.exceptions.db.InvalidValueException` and a ``ValueError``.

    Attributes:
        event_type (str): The event type given.
    """

    def __init__(self, event_type: str) -> None:
        """Name the unknown event type in the message, and list the known ones.

        Args:
            event_type (str): The event type given.
        """
        known = ", ".join(event.value for event in WebhookEventType)
        super().__init__("webhooks", f"unknown event type {event_type!r} (known: {known})")
        self.event_type = event_type

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.event_type,)
