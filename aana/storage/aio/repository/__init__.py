"""Async repositories: the twins of :mod:`aana.storage.repository`, awaited."""

from aana.storage.aio.repository.base import BaseRepository, awaiting
from aana.storage.aio.repository.caption import CaptionRepository
from aana.storage.aio.repository.media import MediaRepository
from aana.storage.aio.repository.task import TaskRepository
from aana.storage.aio.repository.transcript import TranscriptRepository
from aana.storage.aio.repository.video import VideoRepository

__all__ = [
    "BaseRepository",
    "CaptionRepository",
    "MediaRepository",
    "TaskRepository",
    "TranscriptRepository",
    "VideoRepository",
    "awaiting",
]
