"""Translating driver integrity errors into :mod:`aana.exceptions.db` exceptions.

The kind of violation is read from the driver's error code (PostgreSQL's SQLSTATE, SQLite's
extended result code), never from message text; the message is only mined for the table
and constraint names, which SQLite reports nowhere else.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from aana.exceptions.db import (
    CheckViolation,
    ForeignKeyViolation,
    IntegrityViolation,
    NotNullViolation,
    UniqueViolation,
)

_SQLSTATES: dict[str, type[IntegrityViolation]] = {
    "23505": UniqueViolation,
    "23503": ForeignKeyViolation,
    "23514": CheckViolation,
    "23502": NotNullViolation,
}

# SQLite extended result codes: SQLITE_CONSTRAINT (19) | (n << 8).
_SQLITE_CODES: dict[int, type[IntegrityViolation]] = {
    2067: UniqueViolation,  # SQLITE_CONSTRAINT_UNIQUE
    1555: UniqueViolation,  # SQLITE_CONSTRAINT_PRIMARYKEY
    787: ForeignKeyViolation,  # SQLITE_CONSTRAINT_FOREIGNKEY
    275: CheckViolation,  # SQLITE_CONSTRAINT_CHECK
    1299: NotNullViolation,  # SQLITE_CONSTRAINT_NOTNULL
}

_SQLITE_COLUMN = re.compile(r"constraint failed: (\w+)\.\w+")
_SQLITE_CONSTRAINT = re.compile(r"CHECK constraint failed: (\w+)")
_STATEMENT_TABLE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)


def integrity_violation(error: IntegrityError) -> IntegrityViolation:
    """Classify an ``IntegrityError`` raised by the driver.

    Args:
        error (IntegrityError): The error SQLAlchemy raised.

    Returns:
        IntegrityViolation: The matching domain exception, naming the table and, where the
        driver reports it, the constraint.
    """
    orig = error.orig
    detail = str(orig).strip().splitlines()[0] if orig is not None else str(error)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        diag = getattr(orig, "diag", None)
        kind = _SQLSTATES.get(sqlstate, IntegrityViolation)
        return kind(
            getattr(diag, "table_name", None) or _statement_table(error),
            getattr(diag, "constraint_name", None),
            detail,
        )
    code = getattr(orig, "sqlite_errorcode", None)
    kind = _SQLITE_CODES.get(code, IntegrityViolation) if code is not None else IntegrityViolation
    column = _SQLITE_COLUMN.search(detail)
    constraint = _SQLITE_CONSTRAINT.search(detail)
    table = column.group(1) if column else _statement_table(error)
    return kind(table, constraint.group(1) if constraint else None, detail)


def _statement_table(error: IntegrityError) -> str | None:
    match = _STATEMENT_TABLE.match(error.statement or "")
    return match.group(1) if match else None


@contextmanager
def translate_integrity_errors() -> Iterator[None]:
    """Re-raise an ``IntegrityError`` from the block as an :class:`IntegrityViolation`.

    Yields:
        None
    """
    try:
        yield
    except IntegrityError as error:
        raise integrity_violation(error) from error
