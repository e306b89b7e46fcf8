"""The repository of transcript entities."""

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy.orm import Session

from aana.core.models.asr import (
    AsrSegment,
    AsrSegments,
    AsrTranscription,
    AsrTranscriptionInfo,
)
from aana.storage.models.transcript import TranscriptEntity
from aana.storage.repository.base import BaseRepository

TR = TypeVar("TR", bound=TranscriptEntity)


class TranscriptRepository(BaseRepository[TR]):
    """Repository of ASR transcripts; use it directly or subclass it."""

    def __init__(self, session: Session, model_class: type[TR] = TranscriptEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the transcripts of ``model_class``.

        Args:
            session (Session): The session to work in.
            model_class (type[TR]): The transcript entity class.
        """
        super().__init__(session, model_class)

    def save(
        self,
        model_name: str,
        transcription_info: AsrTranscriptionInfo,
        transcription: AsrTranscription,
        segments: AsrSegments | Iterable[AsrSegment],
    ) -> TR:
        """Save the output of an ASR model.

        Args:
            model_name (str): Name of the model.
            transcription_info (AsrTranscriptionInfo): Language and its confidence.
            transcription (AsrTranscription): The full text.
            segments (AsrSegments | Iterable[AsrSegment]): The segments.

        Returns:
            TR: The saved entity, with its id.
        """
        entity = self.model_class.from_asr_output(
            model_name, transcription_info, transcription, segments
        )
        return self.create(entity)
