"""The async repository of media entities."""

from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.aio.repository.base import BaseRepository, awaiting
from aana.storage.models.media import MediaEntity
from aana.storage.repository import base as sync_base
from aana.storage.repository import media as sync

M = TypeVar("M", bound=MediaEntity)


class MediaRepository(BaseRepository[M]):
    """The async twin of :class:`aana.storage.repository.MediaRepository`."""

    sync_class: ClassVar[type[sync_base.BaseRepository[Any]]] = sync.MediaRepository

    def __init__(self, session: AsyncSession, model_class: type[M] = MediaEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the media of ``model_class``, through the synchronous twin.

        Args:
            session (AsyncSession): The session to work in.
            model_class (type[M]): The media entity class; ``MediaEntity`` by default.
        """
        super().__init__(session, model_class)

    check_media_exists = awaiting(sync.MediaRepository[M].check_media_exists)
