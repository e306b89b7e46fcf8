"""The ASR transcript entity."""

from collections.abc import Iterable
from typing import Any, Self

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from aana.core.models.asr import (
    AsrSegment,
    AsrSegments,
    AsrTranscription,
    AsrTranscriptionInfo,
)
from aana.storage.models.base import BaseEntity, TimeStampEntity


class TranscriptEntity(BaseEntity, TimeStampEntity):
    """An ASR transcript; use it directly or as the base of your own transcript entity.

    Attributes:
        id (int): Auto-incremented id.
        model (str): Name of the model that produced the transcript.
        transcript (str): The full text.
        segments (list[dict[str, Any]]): The segments, as JSON.
        language (str): The detected language.
        language_confidence (float): Confidence of the language detection, in [0, 1].
        transcript_type (str): The polymorphic discriminator.
    """

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(comment="Name of model used to generate transcript")
    transcript: Mapped[str] = mapped_column(comment="Full text transcript of media")
    segments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, comment="Segments of the transcript"
    )
    language: Mapped[str] = mapped_column(String(50), comment="Language of the transcript")
    language_confidence: Mapped[float] = mapped_column(
        comment="Confidence score of language prediction"
    )
    transcript_type: Mapped[str] = mapped_column(String(50), comment="The type of transcript")

    __table_args__ = (
        CheckConstraint(
            "language_confidence >= 0 AND language_confidence <= 1",
            name="language_confidence_range",
        ),
    )
    __mapper_args__ = {  # noqa: RUF012
        "polymorphic_identity": "transcript",
        "polymorphic_on": "transcript_type",
    }

    @classmethod
    def from_asr_output(
        cls,
        model_name: str,
        info: AsrTranscriptionInfo,
        transcription: AsrTranscription,
        segments: AsrSegments | Iterable[AsrSegment],
    ) -> Self:
        """Build a transcript entity from the outputs of an ASR model.

        Args:
            model_name (str): Name of the model.
            info (AsrTranscriptionInfo): Language and its confidence.
            transcription (AsrTranscription): The full text.
            segments (AsrSegments | Iterable[AsrSegment]): The segments.

        Returns:
            Self: The new, transient entity.
        """
        items = segments.root if isinstance(segments, AsrSegments) else list(segments)
        return cls(
            model=model_name,
            language=info.language,
            language_confidence=info.language_confidence,
            transcript=transcription.text,
            segments=[segment.model_dump(mode="json") for segment in items],
        )
