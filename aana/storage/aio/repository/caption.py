"""The async repository of caption entities."""

from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.aio.repository.base import BaseRepository, awaiting
from aana.storage.models.caption import CaptionEntity
from aana.storage.repository import base as sync_base
from aana.storage.repository import caption as sync

C = TypeVar("C", bound=CaptionEntity)


class CaptionRepository(BaseRepository[C]):
    """The async twin of :class:`aana.storage.repository.CaptionRepository`."""

    sync_class: ClassVar[type[sync_base.BaseRepository[Any]]] = sync.CaptionRepository

    def __init__(self, session: AsyncSession, model_class: type[C] = CaptionEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the captions of ``model_class``, through the synchronous twin.

        Args:
            session (AsyncSession): The session to work in.
            model_class (type[C]): The caption entity class.
        """
        super().__init__(session, model_class)

    save = awaiting(sync.CaptionRepository[C].save)
    save_all = awaiting(sync.CaptionRepository[C].save_all)
