"""Autogenerate's differences between models and a database, one line each."""

from collections.abc import Iterator
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Float, Table
from sqlalchemy.types import TypeEngine


def compare_type(
    context: MigrationContext,
    _inspected_column: Column[Any],
    _metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Compare column types as autogenerate does, except floating-point types on SQLite.

    ``Float`` (``FLOAT``, as the Aana SDK's entities declared floats) and ``Double``
    (``DOUBLE``, as aana's do) are names of the same storage on SQLite (REAL affinity), as
    on PostgreSQL they are both ``double precision``: a database an Aana app created is not
    reported as differing from aana's models for that.

    Returns:
        bool | None: False for two floating-point types on SQLite; None (autogenerate's own
        comparison) otherwise.
    """
    sqlite = context.dialect.name == "sqlite"
    if sqlite and isinstance(inspected_type, Float) and isinstance(metadata_type, Float):
        return False
    return None


def describe_diffs(diffs: list[Any]) -> Iterator[str]:
    """Turn autogenerate's diff tuples into one line each: the operation, then what it is on.

    For example ``add_column extended_video rating`` or
    ``modify_type extended_video duration FLOAT INTEGER``.

    Args:
        diffs (list[Any]): The diffs, as ``compare_metadata`` or ``command.check`` give them.

    Yields:
        str: One line per difference.
    """
    for diff in diffs:
        if isinstance(diff, list):
            yield from describe_diffs(diff)
            continue
        kind, *arguments = diff
        words = [_describe_part(argument) for argument in arguments]
        yield " ".join([kind, *(word for word in words if word)])


def _describe_part(part: Any) -> str:
    if isinstance(part, Table | Column):
        return part.name
    if part is None or isinstance(part, dict):
        return ""
    name = getattr(part, "name", None)
    return str(name) if isinstance(name, str) else str(part)
