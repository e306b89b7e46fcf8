"""Pydantic models for media, videos, transcripts and captions."""

from aana.core.models.asr import (
    AsrSegment,
    AsrSegments,
    AsrTranscription,
    AsrTranscriptionInfo,
    AsrWord,
)
from aana.core.models.captions import Caption, CaptionsList
from aana.core.models.media import MediaId
from aana.core.models.time import TimeInterval
from aana.core.models.video import Video, VideoMetadata

__all__ = [
    "AsrSegment",
    "AsrSegments",
    "AsrTranscription",
    "AsrTranscriptionInfo",
    "AsrWord",
    "Caption",
    "CaptionsList",
    "MediaId",
    "TimeInterval",
    "Video",
    "VideoMetadata",
]
