"""Column types shared by the entities."""

import datetime
from typing import Annotated, Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

from aana.core.models.media import MEDIA_ID_MAX_LENGTH

MediaIdSqlType = String(MEDIA_ID_MAX_LENGTH)
"""The column type of a media id, as Aana SDK 0.2.4 named it: ``String(36)``."""


def utc_now() -> datetime.datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.datetime.now(datetime.UTC)


class UtcDateTime(TypeDecorator[datetime.datetime]):
    """A timestamp that is timezone-aware UTC on write and on read, on every backend.

    SQLite has no time zones: values are stored as naive UTC and tagged as UTC when read.
    PostgreSQL stores ``timestamptz`` and returns it in the session's zone, converted here.
    Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Convert an aware datetime to UTC; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware datetime")
        value = value.astimezone(datetime.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Return the stored value as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)

    def compare_against_backend(self, dialect: Dialect, conn_type: Any) -> bool | None:
        """Tell Alembic's autogenerate that a reflected timestamp is this type."""
        return isinstance(conn_type, DateTime) or None


timestamp = Annotated[datetime.datetime, mapped_column(UtcDateTime())]
"""A timezone-aware UTC timestamp column, as Aana SDK 0.2.4 named it: ``Mapped[timestamp]``."""
