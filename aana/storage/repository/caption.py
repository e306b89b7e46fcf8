"""The repository of caption entities."""

import math
from typing import TypeVar

from sqlalchemy.orm import Session

from aana.core.models.captions import Caption
from aana.storage.models.caption import CaptionEntity
from aana.storage.repository.base import BaseRepository

C = TypeVar("C", bound=CaptionEntity)


class CaptionRepository(BaseRepository[C]):
    """Repository of captions; use it directly or subclass it."""

    def __init__(self, session: Session, model_class: type[C] = CaptionEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the captions of ``model_class``.

        Args:
            session (Session): The session to work in.
            model_class (type[C]): The caption entity class.
        """
        super().__init__(session, model_class)

    def save(self, model_name: str, caption: Caption, timestamp: float, frame_id: int) -> C:
        """Save one caption.

        Args:
            model_name (str): Name of the captioning model.
            caption (Caption): The caption.
            timestamp (float): Time of the frame in seconds.
            frame_id (int): Index of the frame.

        Returns:
            C: The saved entity, with its id.

        Raises:
            ValueError: If the timestamp is NaN or infinite; nothing is written.
            CheckViolation: If the timestamp or the frame id is negative.
        """
        _check_finite([timestamp])
        entity = self.model_class.from_caption_output(model_name, caption, frame_id, timestamp)
        return self.create(entity)

    def save_all(
        self,
        model_name: str,
        captions: list[Caption],
        timestamps: list[float],
        frame_ids: list[int],
    ) -> list[C]:
        """Save many captions in batched statements.

        Args:
            model_name (str): Name of the captioning model.
            captions (list[Caption]): The captions.
            timestamps (list[float]): Time of each frame in seconds.
            frame_ids (list[int]): Index of each frame.

        Returns:
            list[C]: The saved entities with their ids, in input order.

        Raises:
            ValueError: If the three lists differ in length, or a timestamp is NaN or
                infinite; nothing is written.
            CheckViolation: If a timestamp or a frame id is negative; nothing is written.
        """
        lengths = (len(captions), len(timestamps), len(frame_ids))
        if len(set(lengths)) != 1:
            raise ValueError(
                "captions, timestamps and frame_ids must have the same length, got "
                f"{lengths[0]}, {lengths[1]} and {lengths[2]}"
            )
        _check_finite(timestamps)
        rows = [
            {"model": model_name, "caption": caption, "timestamp": timestamp, "frame_id": frame_id}
            for caption, timestamp, frame_id in zip(captions, timestamps, frame_ids, strict=True)
        ]
        return self._insert_rows(rows)


def _check_finite(timestamps: list[float]) -> None:
    """Refuse NaN and infinite timestamps, which PostgreSQL's CHECK (timestamp >= 0) lets in."""
    for index, timestamp in enumerate(timestamps):
        if not math.isfinite(timestamp):
            raise ValueError(f"timestamps[{index}] is {timestamp}; a timestamp must be finite")
