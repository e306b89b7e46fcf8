"""A media item with what the models made of it: a transcript and frame captions."""

from dataclasses import dataclass
from typing import Any

from aana.storage.models import CaptionEntity, TranscriptEntity, VideoEntity
from aana.testing.factories import (
    CaptionEntityFactory,
    TranscriptEntityFactory,
    VideoEntityFactory,
)


@dataclass(frozen=True)
class MediaWithOutputs:
    video: VideoEntity
    transcript: TranscriptEntity
    captions: list[CaptionEntity]


def media_with_outputs(captions: int = 3, **video: Any) -> MediaWithOutputs:
    """A video, its transcript and a caption for each of its first ``captions`` frames."""
    built = VideoEntityFactory(**video)
    return MediaWithOutputs(
        video=built,
        transcript=TranscriptEntityFactory(),
        captions=[
            CaptionEntityFactory(frame_id=frame, caption=f"{built.title}, frame {frame}")
            for frame in range(captions)
        ],
    )
