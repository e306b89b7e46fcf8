"""The events a webhook can subscribe to.

Here, below the storage layer, so that :mod:`aana.exceptions` can name them without importing
the entities; :mod:`aana.storage.models.webhook` exports the same class, under Aana's name.
"""

from enum import StrEnum

__all__ = ["WebhookEventType"]


class WebhookEventType(StrEnum):
    """The events a webhook can subscribe to."""

    TASK_COMPLETED = "task.completed"
    TASK_FAILED = "task.failed"
    TASK_STARTED = "task.started"
