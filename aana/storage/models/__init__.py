"""The SDK's entities. Importing this package maps all of them on ``BaseEntity.metadata``."""

from aana.storage.models.base import BaseEntity, InheritanceReuseMixin, TimeStampEntity
from aana.storage.models.caption import CaptionEntity
from aana.storage.models.media import MediaEntity
from aana.storage.models.task import Status, TaskEntity
from aana.storage.models.transcript import TranscriptEntity
from aana.storage.models.video import VideoEntity
from aana.storage.models.webhook import WebhookEntity, WebhookEventType

__all__ = [
    "BaseEntity",
    "CaptionEntity",
    "InheritanceReuseMixin",
    "MediaEntity",
    "Status",
    "TaskEntity",
    "TimeStampEntity",
    "TranscriptEntity",
    "VideoEntity",
    "WebhookEntity",
    "WebhookEventType",
]
