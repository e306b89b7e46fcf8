"""The repository of media entities."""

from collections import Counter
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from aana.core.models.media import MediaId, validate_media_id
from aana.exceptions.db import MediaIdAlreadyExistsException, UniqueViolation
from aana.storage.models.media import MediaEntity
from aana.storage.repository.base import BaseRepository

M = TypeVar("M", bound=MediaEntity)


class MediaRepository(BaseRepository[M]):
    """Repository of media entities; subclass it for your own media kinds.

    A taken media id raises :class:`~aana.exceptions.db.MediaIdAlreadyExistsException`,
    decided by the database's unique constraint, so two writers racing on one id cannot both
    succeed. Media ids are validated before any SQL is sent.
    """

    def __init__(self, session: Session, model_class: type[M] = MediaEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the media of ``model_class``.

        Args:
            session (Session): The session to work in.
            model_class (type[M]): The media entity class; ``MediaEntity`` by default, as in
                the Aana SDK.
        """
        super().__init__(session, model_class)

    def create(self, entity: M) -> M:
        """Insert a media entity and commit.

        Args:
            entity (M): The entity to insert.

        Returns:
            M: The same entity, now persistent.

        Raises:
            pydantic.ValidationError: If the media id is malformed.
            MediaIdAlreadyExistsException: If the media id is taken; nothing is written.
        """
        if entity.id is not None:
            validate_media_id(entity.id)
        try:
            return super().create(entity)
        except UniqueViolation as violation:
            raise self._id_taken(violation, [entity.id]) from violation

    def create_multiple(self, entities: Iterable[M]) -> list[M]:
        """Insert many media entities in batched statements and commit.

        Args:
            entities (Iterable[M]): The entities to insert.

        Returns:
            list[M]: The persisted entities, in input order.

        Raises:
            pydantic.ValidationError: If a media id is malformed.
            MediaIdAlreadyExistsException: If a media id is taken; nothing is written.
        """
        entities = list(entities)
        for entity in entities:
            if entity.id is not None:
                validate_media_id(entity.id)
        try:
            return super().create_multiple(entities)
        except UniqueViolation as violation:
            raise self._id_taken(violation, [entity.id for entity in entities]) from violation

    def check_media_exists(self, media_id: MediaId) -> bool:
        """Tell whether a media id is taken.

        Args:
            media_id (MediaId): The media id.

        Returns:
            bool: True if a media row with this id exists.
        """
        if self._parse_id(media_id) is None:
            return False
        with self._unit(write=False):
            return bool(self.session.scalar(select(exists().where(MediaEntity.id == media_id))))

    def _parse_id(self, item_id: Any) -> Any | None:
        try:
            return validate_media_id(item_id)
        except ValidationError:
            return None

    def _id_taken(self, violation: UniqueViolation, ids: list[str]) -> Exception:
        """Turn a unique violation on the media key into ``MediaIdAlreadyExistsException``."""
        media_tables = {table.name for table in self.model_class.__mapper__.tables}
        if violation.table_name not in media_tables:
            return violation
        repeated = [media_id for media_id, count in Counter(ids).items() if count > 1]
        if repeated:
            return MediaIdAlreadyExistsException(self.table_name, repeated[0])
        with self._unit(write=False):
            taken = self.session.scalars(
                select(MediaEntity.id).where(MediaEntity.id.in_(ids)).limit(1)
            ).all()
        return MediaIdAlreadyExistsException(self.table_name, taken[0] if taken else ids[0])
