"""Translating driver errors into :mod:`aana.exceptions.db` exceptions.

The kind of violation is read from the driver's error code (PostgreSQL's SQLSTATE, SQLite's
extended result code), never from message text; the message is only mined for the table
and constraint names, which SQLite reports nowhere else.

Values the database cannot hold (a data error on PostgreSQL, or the ``OverflowError`` and
``UnicodeEncodeError`` the drivers raise while binding parameters) become
:class:`~aana.exceptions.db.InvalidValueException`, so that bad input never surfaces as a
driver-specific exception.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
)

from aana.exceptions.db import (
    CheckViolation,
    ConnectionLostException,
    DatabaseFullException,
    ForeignKeyViolation,
    IntegrityViolation,
    InvalidValueException,
    NotNullViolation,
    TableMissingException,
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

_DISK_FULL_SQLSTATE = "53100"
_SQLITE_FULL = 13  # a primary result code: the low byte of an extended one

_SQLITE_COLUMN = re.compile(r"constraint failed: (\w+)\.\w+")
# A named CHECK reports its name; an unnamed one reports its expression, which is no name.
_SQLITE_CONSTRAINT = re.compile(r"CHECK constraint failed: (\w+)\s*$")
_STATEMENT_TABLE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)


def integrity_violation(error: IntegrityError, table_name: str | None = None) -> IntegrityViolation:
    """Classify an ``IntegrityError`` raised by the driver.

    Args:
        error (IntegrityError): The error SQLAlchemy raised.
        table_name (str | None): The table to name when neither the driver nor the
            statement tells.

    Returns:
        IntegrityViolation: The matching domain exception, naming the table and, where the
        driver reports it, the constraint.
    """
    orig = error.orig
    detail = str(orig).strip().splitlines()[0] if orig is not None else str(error)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        diag = _diagnostics(orig)
        kind = _SQLSTATES.get(sqlstate, IntegrityViolation)
        return kind(
            getattr(diag, "table_name", None) or _statement_table(error) or table_name,
            getattr(diag, "constraint_name", None),
            detail,
        )
    code = getattr(orig, "sqlite_errorcode", None)
    kind = _SQLITE_CODES.get(code, IntegrityViolation) if code is not None else IntegrityViolation
    column = _SQLITE_COLUMN.search(detail)
    constraint = _SQLITE_CONSTRAINT.search(detail)
    table = column.group(1) if column else _statement_table(error) or table_name
    return kind(table, constraint.group(1) if constraint else None, detail)


def invalid_value(error: DataError, table_name: str | None = None) -> InvalidValueException:
    """Describe a ``DataError`` raised by the driver: a value its column cannot hold.

    Args:
        error (DataError): The error SQLAlchemy raised.
        table_name (str | None): The table to name when the statement does not tell.

    Returns:
        InvalidValueException: The domain exception, with the driver's message.
    """
    orig = error.orig
    detail = str(orig).strip().splitlines()[0] if orig is not None else str(error)
    diag = _diagnostics(orig)
    table = getattr(diag, "table_name", None) or _statement_table(error) or table_name
    return InvalidValueException(table, detail)


def database_full(error: OperationalError) -> DatabaseFullException | None:
    """Tell whether an ``OperationalError`` says the database is full, by the driver's code.

    Args:
        error (OperationalError): The error SQLAlchemy raised.

    Returns:
        DatabaseFullException | None: The domain exception, or None for any other error.
    """
    orig = error.orig
    code = getattr(orig, "sqlite_errorcode", None)
    full = getattr(orig, "sqlstate", None) == _DISK_FULL_SQLSTATE or (
        code is not None and code & 0xFF == _SQLITE_FULL
    )
    return DatabaseFullException(str(orig).strip().splitlines()[0]) if full else None


def _diagnostics(orig: object) -> object:
    """Return what names the table and constraint of a PostgreSQL error, for either driver.

    psycopg puts them in the error's ``diag``; under asyncpg, SQLAlchemy's error wraps
    asyncpg's, which carries them as attributes of the same names.
    """
    return getattr(orig, "diag", None) or getattr(orig, "__cause__", None)


def _statement_table(error: DataError | IntegrityError) -> str | None:
    match = _STATEMENT_TABLE.match(error.statement or "")
    return match.group(1) if match else None


@contextmanager
def translate_integrity_errors() -> Iterator[None]:
    """Re-raise an ``IntegrityError`` from the block as an :class:`IntegrityViolation`.

    The repositories use :func:`translate_errors`, which also covers values a column cannot
    hold and a full disk.

    Yields:
        None
    """
    try:
        yield
    except IntegrityError as error:
        raise integrity_violation(error) from error


@contextmanager
def translate_errors(table_name: str | None = None) -> Iterator[None]:
    """Re-raise driver errors about the values in the block's statements as domain exceptions.

    ``IntegrityError`` becomes an :class:`IntegrityViolation`; ``DataError``, and the
    ``OverflowError`` or ``UnicodeEncodeError`` that sqlite3 and psycopg raise while binding a
    parameter (an integer beyond 64 bits, a lone surrogate), become an
    :class:`InvalidValueException`; a full disk becomes a :class:`DatabaseFullException`; a
    connection that broke, or could not be made, becomes a :class:`ConnectionLostException`; a
    missing table (a database not migrated) becomes a :class:`TableMissingException`. Other
    errors pass through untouched.

    Args:
        table_name (str | None): The table to name when the driver's error does not tell.

    Yields:
        None
    """
    try:
        yield
    except IntegrityError as error:
        raise integrity_violation(error, table_name) from error
    except DataError as error:
        raise invalid_value(error, table_name) from error
    except (OverflowError, UnicodeEncodeError) as error:
        raise InvalidValueException(table_name, f"{type(error).__name__}: {error}") from error
    except (OperationalError, ProgrammingError) as error:
        if isinstance(error, OperationalError):
            full = database_full(error)
            if full is not None:
                raise full from error
            if _no_connection(error):
                raise connection_lost(error, table_name) from error
        missing = _table_missing(error, table_name)
        if missing is not None:
            raise missing from error
        raise
    except DBAPIError as error:
        if error.connection_invalidated:
            raise connection_lost(error, table_name) from error
        raise


_UNDEFINED_TABLE = "42P01"
# SQLite reports a missing table with its generic SQLITE_ERROR code: only the message tells.
_SQLITE_NO_SUCH_TABLE = re.compile(r"^no such table: (\w+)")


def _table_missing(error: DBAPIError, table_name: str | None) -> TableMissingException | None:
    """Tell whether the error says a table does not exist: the database is not migrated."""
    orig = error.orig
    detail = str(orig).strip().splitlines()[0] if orig is not None else str(error)
    if getattr(orig, "sqlstate", None) == _UNDEFINED_TABLE:
        return TableMissingException(table_name, detail)
    match = _SQLITE_NO_SUCH_TABLE.match(detail)
    return TableMissingException(match.group(1), detail) if match else None


# PostgreSQL's SQLSTATEs of a server that is shutting down, restarting or starting up.
_SERVER_GOING = {"57P01", "57P02", "57P03"}
_NOT_PSYCOPG = object()


def _no_connection(error: OperationalError) -> bool:
    """Tell whether the connection broke, or none could be made (the server is down).

    psycopg's errors carry an SQLSTATE, None when no server answered; sqlite3's carry none.
    """
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", _NOT_PSYCOPG)
    if sqlstate is _NOT_PSYCOPG:
        return False
    return sqlstate is None or str(sqlstate).startswith("08") or sqlstate in _SERVER_GOING


def connection_lost(error: DBAPIError, table_name: str | None = None) -> ConnectionLostException:
    """Describe a driver error raised because the connection broke or could not be made.

    Args:
        error (DBAPIError): The error SQLAlchemy raised.
        table_name (str | None): The table the call worked on.

    Returns:
        ConnectionLostException: The domain exception, with the driver's message.
    """
    orig = error.orig
    detail = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else ""
    return ConnectionLostException(table_name, detail or type(orig or error).__name__)
