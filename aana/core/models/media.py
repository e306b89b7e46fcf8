"""Media identifiers."""

import uuid
from typing import Annotated

from pydantic import StringConstraints, TypeAdapter

MEDIA_ID_MAX_LENGTH = 36
MEDIA_ID_PATTERN = r"^[A-Za-z0-9_-]+$"

MediaId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MEDIA_ID_MAX_LENGTH, pattern=MEDIA_ID_PATTERN),
]
"""A media identifier: 1 to 36 characters from ``[A-Za-z0-9_-]``."""

_media_id_adapter: TypeAdapter[str] = TypeAdapter(MediaId)


def validate_media_id(media_id: object) -> str:
    """Validate a media id before it reaches any SQL.

    Args:
        media_id (object): The candidate media id.

    Returns:
        str: The media id, unchanged.

    Raises:
        pydantic.ValidationError: If it is not a string of 1 to 36 characters from
            ``[A-Za-z0-9_-]``.
    """
    return _media_id_adapter.validate_python(media_id, strict=True)


def new_media_id() -> str:
    """Return a fresh random media id (a uuid4 string)."""
    return str(uuid.uuid4())
