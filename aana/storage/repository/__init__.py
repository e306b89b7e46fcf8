"""Repositories: the interface to read and write entities."""

from aana.storage.repository.base import BaseRepository
from aana.storage.repository.caption import CaptionRepository
from aana.storage.repository.media import MediaRepository
from aana.storage.repository.task import TaskRepository
from aana.storage.repository.transcript import TranscriptRepository
from aana.storage.repository.video import VideoRepository
from aana.storage.repository.webhook import WebhookRepository

__all__ = [
    "BaseRepository",
    "CaptionRepository",
    "MediaRepository",
    "TaskRepository",
    "TranscriptRepository",
    "VideoRepository",
    "WebhookRepository",
]
