"""The caption entity."""

from typing import Self

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from aana.core.models.captions import Caption
from aana.storage.models.base import BaseEntity, TimeStampEntity


class CaptionEntity(BaseEntity, TimeStampEntity):
    """A caption of a video frame; use it directly or as the base of your own.

    Attributes:
        id (int): Auto-incremented id.
        model (str): Name of the model that produced the caption.
        frame_id (int): Index of the frame, non-negative.
        caption (str): The caption.
        timestamp (float): Time of the frame in seconds, non-negative.
        caption_type (str): The polymorphic discriminator.
    """

    __tablename__ = "caption"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(comment="Name of model used to generate the caption")
    frame_id: Mapped[int] = mapped_column(comment="The 0-based frame id of video for caption")
    caption: Mapped[str] = mapped_column(comment="Frame caption")
    timestamp: Mapped[float] = mapped_column(comment="Frame timestamp in seconds")
    caption_type: Mapped[str] = mapped_column(String(50), comment="The type of caption")

    __table_args__ = (
        CheckConstraint("frame_id >= 0", name="frame_id_non_negative"),
        CheckConstraint("timestamp >= 0", name="timestamp_non_negative"),
    )
    __mapper_args__ = {  # noqa: RUF012
        "polymorphic_identity": "caption",
        "polymorphic_on": "caption_type",
    }

    @classmethod
    def from_caption_output(
        cls, model_name: str, caption: Caption, frame_id: int, timestamp: float
    ) -> Self:
        """Build a caption entity from the output of a captioning model.

        Args:
            model_name (str): Name of the model.
            caption (Caption): The caption.
            frame_id (int): Index of the frame.
            timestamp (float): Time of the frame in seconds.

        Returns:
            Self: The new, transient entity.
        """
        return cls(model=model_name, caption=caption, frame_id=frame_id, timestamp=timestamp)
