"""Checks of the values a repository method is given, made before any SQL is sent.

A value the database would refuse is refused here instead, with the same
:class:`~aana.exceptions.db.InvalidValueException` on every backend: PostgreSQL and SQLite
disagree on what they take (NaN in a float column, integers past 32 bits, NUL in text), and a
value refused mid-transaction by PostgreSQL aborts the whole transaction.
"""

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from pydantic_core import PydanticSerializationError, to_jsonable_python

from aana.exceptions.db import InvalidValueException

T = TypeVar("T")

INT32_MAX = 2**31 - 1

CHUNK_SIZE = 10_000
"""Values bound in one statement at most: PostgreSQL takes 65,535 parameters per statement."""

# NUL, and a UTF-16 surrogate not part of a pair: PostgreSQL cannot turn either into text,
# so a JSON value holding one breaks every JSON operator applied to its row.
_UNSTORABLE = re.compile("\x00|[\ud800-\udfff]")


def integer(value: Any, table_name: str, field: str, bits: int = 32) -> int:
    """Return ``value`` as an int that a signed integer column of ``bits`` bits can hold.

    Args:
        value (Any): The value given.
        table_name (str): The table, for the error.
        field (str): The argument or column, for the error.
        bits (int): The column's width.

    Returns:
        int: The value.

    Raises:
        InvalidValueException: If ``value`` is not an int (``bool`` is not) or out of range.
    """
    limit = 2 ** (bits - 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueException(
            table_name, f"{field} must be an integer, got {type(value).__name__} {value!r}"
        )
    if not -limit <= value < limit:
        raise InvalidValueException(
            table_name, f"{field} must be between {-limit} and {limit - 1}, got {value}"
        )
    return value


def clamped(value: int) -> int:
    """Bring a count into the range of an SQL INTEGER; a query means the same either way.

    No table holds more rows, nor a task more retries, than an INTEGER counts; beyond it
    PostgreSQL fails with an error that aborts the transaction, and SQLite overflows at 2**63.

    Args:
        value (int): A count, a limit or an offset.

    Returns:
        int: The value, clamped to a signed 32-bit integer.
    """
    return max(-INT32_MAX - 1, min(value, INT32_MAX))


def finite(value: Any, table_name: str, field: str) -> float:
    """Return ``value`` as a finite float.

    Args:
        value (Any): The value given.
        table_name (str): The table, for the error.
        field (str): The argument or column, for the error.

    Returns:
        float: The value.

    Raises:
        InvalidValueException: If ``value`` is not a real number, or is NaN, infinite or too
            large for a float.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueException(
            table_name, f"{field} must be a number, got {type(value).__name__} {value!r}"
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        shown = value if isinstance(value, float) else "an integer too large for a float"
        raise InvalidValueException(table_name, f"{field} must be finite, got {shown}")
    return number


def json_value(value: Any, table_name: str, field: str) -> Any:
    """Return ``value`` as JSON-ready data that every backend stores and reads back.

    Args:
        value (Any): The value; pydantic models become their JSON dump.
        table_name (str): The table, for the error.
        field (str): The argument or column, for the error.

    Returns:
        Any: The JSON-ready data.

    Raises:
        TypeError: If ``value`` holds a value of a type JSON cannot store; the message names
            the type.
        InvalidValueException: If ``value`` holds NaN or infinity, a circular reference, bytes
            that are not UTF-8, or a string (or key) with NUL or an unpaired surrogate; the
            message gives where.
    """
    try:
        jsonable = to_jsonable_python(value)
        # NaN and infinity are not JSON: PostgreSQL refuses them and SQLite stores text
        # that its JSON functions then reject.
        json.dumps(jsonable, allow_nan=False)
    except PydanticSerializationError as error:
        raise TypeError(f"{table_name}.{field} cannot be stored as JSON: {error}") from None
    except ValueError as error:
        raise InvalidValueException(
            table_name, f"{field} cannot be stored as JSON: {error}"
        ) from None
    for path, text in _strings(jsonable, field):
        found = _UNSTORABLE.search(text)
        if found is not None:
            raise InvalidValueException(
                table_name,
                f"{path} holds {found.group()!r}, which the database cannot store as text "
                "(NUL and unpaired surrogates are refused)",
            )
    return jsonable


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield every string in JSON-ready data, keys included, with where it stands."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path} key {key!r}", str(key)
            yield from _strings(item, f"{path}[{key!r}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def chunks(items: list[T], size: int = CHUNK_SIZE) -> Iterable[list[T]]:
    """Split ``items`` into lists of at most ``size``, for statements with a bound per value.

    Args:
        items (list[T]): The values.
        size (int): The most values in one list.

    Returns:
        Iterable[list[T]]: The lists, in order.
    """
    return (items[start : start + size] for start in range(0, len(items), size))
