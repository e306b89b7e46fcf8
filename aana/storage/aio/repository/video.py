"""The async repository of video entities."""

from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.aio.repository.base import awaiting
from aana.storage.aio.repository.media import MediaRepository
from aana.storage.models.video import VideoEntity
from aana.storage.repository import base as sync_base
from aana.storage.repository import video as sync

V = TypeVar("V", bound=VideoEntity)


class VideoRepository(MediaRepository[V]):
    """The async twin of :class:`aana.storage.repository.VideoRepository`."""

    sync_class: ClassVar[type[sync_base.BaseRepository[Any]]] = sync.VideoRepository

    def __init__(self, session: AsyncSession, model_class: type[V] = VideoEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the videos of ``model_class``, through the synchronous twin.

        Args:
            session (AsyncSession): The session to work in.
            model_class (type[V]): The video entity class; ``VideoEntity`` by default.
        """
        super().__init__(session, model_class)

    save = awaiting(sync.VideoRepository[V].save)
    get_metadata = awaiting(sync.VideoRepository[V].get_metadata)
