"""The declarative base of every entity, and the mixins entities share."""

import datetime
from typing import Any, Self

from sqlalchemy import JSON, Connection, MetaData, String, event, func, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, object_session

from aana.core.models.media import MEDIA_ID_MAX_LENGTH, MediaId
from aana.storage.types import UtcDateTime, timestamp, utc_now

__all__ = ["BaseEntity", "InheritanceReuseMixin", "TimeStampEntity", "timestamp"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class InheritanceReuseMixin:
    """Lets an entity subclass be built from an instance of its parent."""

    @classmethod
    def from_parent(cls, parent: Any, **kwargs: Any) -> Self:
        """Build an instance of this class carrying the column values of ``parent``.

        Args:
            parent (Any): An instance of a mapped parent class.
            **kwargs (Any): Values of this class's own columns; they win over the parent's.

        Returns:
            Self: The new, transient instance.
        """
        parent_mapper = inspect(type(parent))
        skip = (
            {parent_mapper.polymorphic_on.key}
            if parent_mapper.polymorphic_on is not None
            else set()
        )
        values = {
            attr.key: getattr(parent, attr.key)
            for attr in parent_mapper.column_attrs
            if attr.key not in skip
        }
        return cls(**{**values, **kwargs})


class BaseEntity(InheritanceReuseMixin, DeclarativeBase):
    """Base class of every entity; inherit your own entities from it.

    Its metadata carries a constraint naming convention, so migrations name constraints the
    same on every backend, and ``MediaId`` columns map to ``String(36)``.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        MediaId: String(MEDIA_ID_MAX_LENGTH),
        datetime.datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


class TimeStampEntity:
    """Adds ``created_at`` and ``updated_at``, kept as timezone-aware UTC.

    Python fills both with microsecond precision (``CURRENT_TIMESTAMP`` on SQLite has whole
    seconds only); the server defaults cover rows inserted by plain SQL. ``onupdate`` refreshes
    ``updated_at`` when its own table's row is updated; :func:`_touch` covers the flush of a
    joined-inheritance subclass whose changes are all in the subclass table, which would
    otherwise leave the base row, and its ``updated_at``, untouched.
    """

    created_at: Mapped[datetime.datetime] = mapped_column(
        default=utc_now, server_default=func.now(), comment="Timestamp when row is inserted"
    )
    updated_at: Mapped[datetime.datetime] = mapped_column(
        default=utc_now,
        onupdate=utc_now,
        server_default=func.now(),
        comment="Timestamp when row is updated",
    )


@event.listens_for(TimeStampEntity, "before_update", propagate=True)
def _touch(_mapper: Mapper[Any], _connection: Connection, target: TimeStampEntity) -> None:
    session = object_session(target)
    if session is not None and session.is_modified(target, include_collections=False):
        target.updated_at = utc_now()
