"""Store a video, its transcript and its captions, then read them back.

Run ``aana migrate`` first, with the same ``DB_CONFIG``.
"""

from aana.core.models import (
    AsrSegment,
    AsrSegments,
    AsrTranscription,
    AsrTranscriptionInfo,
    TimeInterval,
    Video,
)
from aana.storage.repository import CaptionRepository, TranscriptRepository, VideoRepository
from aana.storage.session import get_session

video = Video(
    url="https://example.com/talks/databases.mp4",
    title="Databases for media",
    description="A short talk",
)
segments = AsrSegments(
    [
        AsrSegment(text="Hello and welcome.", time_interval=TimeInterval(start=0.0, end=1.6)),
        AsrSegment(text="Today: databases.", time_interval=TimeInterval(start=1.6, end=3.1)),
    ]
)

with get_session() as session:
    media_id = VideoRepository(session).save(video)["media_id"]
    transcript_id = (
        TranscriptRepository(session)
        .save(
            "whisper-large-v3",
            AsrTranscriptionInfo(language="en", language_confidence=0.98),
            AsrTranscription(text="Hello and welcome. Today: databases."),
            segments,
        )
        .id
    )
    caption_ids = [
        caption.id
        for caption in CaptionRepository(session).save_all(
            "blip2", ["a speaker on stage", "a slide with a table"], [0.0, 2.0], [0, 60]
        )
    ]

with get_session() as session:
    metadata = VideoRepository(session).get_metadata(media_id)
    transcript = TranscriptRepository(session).read(transcript_id)
    captions = [CaptionRepository(session).read(caption_id) for caption_id in caption_ids]
    print(f"video {media_id}: {metadata.title!r} - {metadata.description!r}")
    print(f"transcript ({transcript.language}): {transcript.transcript!r}")
    for caption in captions:
        print(
            f"caption at {caption.timestamp:.1f}s (frame {caption.frame_id}): {caption.caption!r}"
        )
