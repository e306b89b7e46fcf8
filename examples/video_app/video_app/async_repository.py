"""video_app's async repository: the async twin of ``ExtendedVideoRepository``.

The methods are written once, in ``video_app.repository``; each is declared here with
``awaiting`` and runs there, through ``AsyncSession.run_sync``.
"""

from aana.storage.aio.repository import VideoRepository, awaiting

from video_app.models import ExtendedVideoEntity
from video_app.repository import ExtendedVideoRepository


class AsyncExtendedVideoRepository(VideoRepository[ExtendedVideoEntity]):
    """Videos with additional metadata, for async code."""

    sync_class = ExtendedVideoRepository

    save = awaiting(ExtendedVideoRepository.save)
    get_status = awaiting(ExtendedVideoRepository.get_status)
    update_status = awaiting(ExtendedVideoRepository.update_status)
