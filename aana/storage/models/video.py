"""The video entity."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from aana.core.models.media import MediaId
from aana.storage.models.media import MediaEntity


class VideoEntity(MediaEntity):
    """A video; use it directly or as the base of your own video entity.

    Attributes:
        id (MediaId): The media id, also the key of the ``media`` row.
        path (str | None): Local path of the video file.
        url (str | None): URL of the video.
        title (str | None): Title of the video.
        description (str | None): Description of the video.
    """

    __tablename__ = "video"

    id: Mapped[MediaId] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str | None] = mapped_column(comment="Path")
    url: Mapped[str | None] = mapped_column(comment="URL")
    title: Mapped[str | None] = mapped_column(comment="Title")
    description: Mapped[str | None] = mapped_column(comment="Description")

    __mapper_args__ = {  # noqa: RUF012
        "polymorphic_identity": "video",
    }
