"""Autogenerate's differences between models and a database, one line each."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Column, Table


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
