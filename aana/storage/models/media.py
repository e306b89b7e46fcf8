"""The media entity: the root of every media kind."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from aana.core.models.media import MediaId, new_media_id
from aana.storage.models.base import BaseEntity, TimeStampEntity


class MediaEntity(BaseEntity, TimeStampEntity):
    """Base class of media entities (audio, video, image).

    Attributes:
        id (MediaId): The media id; a fresh uuid4 string by default.
        media_type (str): The polymorphic discriminator.
    """

    __tablename__ = "media"

    id: Mapped[MediaId] = mapped_column(primary_key=True, default=new_media_id)
    media_type: Mapped[str] = mapped_column(String(50), comment="The type of media")

    __mapper_args__ = {  # noqa: RUF012
        "polymorphic_identity": "media",
        "polymorphic_on": "media_type",
    }
