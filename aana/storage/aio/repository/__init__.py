"""Async repositories: the twins of :mod:`aana.storage.repository`, awaited."""

from aana.storage.aio.repository.base import BaseRepository as BaseRepository
from aana.storage.aio.repository.base import awaiting as awaiting
from aana.storage.aio.repository.caption import CaptionRepository as CaptionRepository
from aana.storage.aio.repository.media import MediaRepository as MediaRepository
from aana.storage.aio.repository.task import TaskRepository as TaskRepository
from aana.storage.aio.repository.transcript import TranscriptRepository as TranscriptRepository
from aana.storage.aio.repository.video import VideoRepository as VideoRepository
from aana.storage.aio.repository.webhook import WebhookRepository as WebhookRepository
