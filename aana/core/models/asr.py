"""Automatic speech recognition (ASR) outputs."""

from pydantic import BaseModel, Field, RootModel

from aana.core.models.time import TimeInterval


class AsrWord(BaseModel):
    """A recognized word with its timing.

    Attributes:
        word (str): The word.
        time_interval (TimeInterval): When the word is spoken.
        alignment_confidence (float): Confidence of the alignment, between 0 and 1.
    """

    word: str
    time_interval: TimeInterval
    alignment_confidence: float = Field(ge=0.0, le=1.0)


class AsrSegment(BaseModel):
    """A segment of a transcription.

    Attributes:
        text (str): The text of the segment.
        time_interval (TimeInterval): When the segment is spoken.
        confidence (float | None): Confidence of the segment, between 0 and 1.
        no_speech_confidence (float | None): Probability that the segment holds no speech.
        words (list[AsrWord]): The words of the segment.
        speaker (str | None): The speaker label, if diarization ran.
    """

    text: str
    time_interval: TimeInterval
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    no_speech_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    words: list[AsrWord] = Field(default_factory=list)
    speaker: str | None = None


class AsrSegments(RootModel[list[AsrSegment]]):
    """A list of ASR segments."""

    root: list[AsrSegment] = Field(default_factory=list)


class AsrTranscriptionInfo(BaseModel):
    """Information about a transcription.

    Attributes:
        language (str): The detected language.
        language_confidence (float): Confidence of the language detection, between 0 and 1.
    """

    language: str = ""
    language_confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class AsrTranscription(BaseModel):
    """The full text of a transcription.

    Attributes:
        text (str): The text.
    """

    text: str = ""
