"""Time intervals within a media item."""

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TimeInterval(BaseModel):
    """A time interval in seconds.

    Attributes:
        start (float): Start of the interval, in seconds, non-negative.
        end (float): End of the interval, in seconds, not before ``start``.
    """

    start: float = Field(ge=0.0)
    end: float = Field(ge=0.0)

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _end_not_before_start(self) -> "TimeInterval":
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self
