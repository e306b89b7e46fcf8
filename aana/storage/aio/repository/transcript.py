"""The async repository of transcript entities."""

from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.aio.repository.base import BaseRepository, awaiting
from aana.storage.models.transcript import TranscriptEntity
from aana.storage.repository import base as sync_base
from aana.storage.repository import transcript as sync

TR = TypeVar("TR", bound=TranscriptEntity)


class TranscriptRepository(BaseRepository[TR]):
    """The async twin of :class:`aana.storage.repository.TranscriptRepository`."""

    sync_class: ClassVar[type[sync_base.BaseRepository[Any]]] = sync.TranscriptRepository

    def __init__(self, session: AsyncSession, model_class: type[TR] = TranscriptEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the transcripts of ``model_class``, through the synchronous twin.

        Args:
            session (AsyncSession): The session to work in.
            model_class (type[TR]): The transcript entity class.
        """
        super().__init__(session, model_class)

    save = awaiting(sync.TranscriptRepository[TR].save)
