"""Exceptions raised by the database layer.

Every exception here derives from :class:`DatabaseException` and can be pickled, so it
survives the trip from a worker process back to its parent.
"""

from collections.abc import Iterable
from typing import Any


class DatabaseException(Exception):
    """Base class of the database layer's exceptions."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuild from the constructor arguments, which subclasses keep in ``_args``."""
        return (type(self), self._args)

    @property
    def _args(self) -> tuple[Any, ...]:
        return tuple(self.args)


class DatabaseConfigError(DatabaseException, ValueError):
    """The database settings are invalid; the message names the setting."""


class NotFoundException(DatabaseException):
    """No row with the given id exists in the table.

    Attributes:
        table_name (str): The table that was searched.
        id (object): The id that was not found.
    """

    def __init__(self, table_name: str, id: object) -> None:
        """Name the table and the id that was not found in the message.

        Args:
            table_name (str): The table that was searched.
            id (object): The id that was not found.
        """
        super().__init__(f"{table_name}: no row with id {id!r}")
        self.table_name = table_name
        self.id = id

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.table_name, self.id)


class IntegrityViolation(DatabaseException):
    """A write broke a constraint; the transaction it ran in is still usable.

    Attributes:
        table_name (str | None): The table the write went to, where the driver says.
        constraint_name (str | None): The violated constraint, where the driver says.
        detail (str): The driver's message.
    """

    kind = "integrity"

    def __init__(
        self, table_name: str | None, constraint_name: str | None = None, detail: str = ""
    ) -> None:
        """Name the kind of violation, the table and the constraint in the message.

        Args:
            table_name (str | None): The table the write went to.
            constraint_name (str | None): The violated constraint.
            detail (str): The driver's message.
        """
        where = table_name or "unknown table"
        if constraint_name:
            where += f" (constraint {constraint_name})"
        super().__init__(f"{self.kind} violation on {where}: {detail}".rstrip(": "))
        self.table_name = table_name
        self.constraint_name = constraint_name
        self.detail = detail

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.table_name, self.constraint_name, self.detail)


class UniqueViolation(IntegrityViolation):
    """A unique or primary key constraint was violated."""

    kind = "unique"


class ForeignKeyViolation(IntegrityViolation):
    """A foreign key constraint was violated."""

    kind = "foreign key"


class CheckViolation(IntegrityViolation):
    """A check constraint was violated."""

    kind = "check"


class NotNullViolation(IntegrityViolation):
    """A NOT NULL constraint was violated."""

    kind = "not null"


class InvalidValueException(DatabaseException, ValueError):
    """The database cannot store a value the write (or filter) carries.

    Raised instead of the driver's data error: a string too long for its column or holding a
    character the database cannot take (NUL on PostgreSQL, a lone surrogate anywhere), a
    number out of the column's range, NaN or infinity where JSON is stored. Nothing is
    written, and the session stays usable. It is also a ``ValueError``, since the value is at
    fault.

    Attributes:
        table_name (str | None): The table the statement went to, where known.
        detail (str): What is wrong, in the driver's words where it gave any.
    """

    def __init__(self, table_name: str | None, detail: str = "") -> None:
        """Name the table and what is wrong with the value in the message.

        Args:
            table_name (str | None): The table the statement went to.
            detail (str): What is wrong.
        """
        where = table_name or "unknown table"
        super().__init__(f"invalid value for {where}: {detail}".rstrip(": "))
        self.table_name = table_name
        self.detail = detail

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.table_name, self.detail)


class DatabaseFullException(DatabaseException):
    """The database has no room for a write: its disk is full, or its size limit is reached.

    Told by the driver's code (SQLite's ``SQLITE_FULL``, PostgreSQL's SQLSTATE 53100). Nothing
    of the failed write is kept; what was committed before is intact.

    Attributes:
        detail (str): The driver's message.
    """

    def __init__(self, detail: str = "") -> None:
        """Say that the database is full, followed by the driver's message.

        Args:
            detail (str): The driver's message.
        """
        super().__init__(f"the database is full: {detail}".rstrip(": "))
        self.detail = detail

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.detail,)


class TableMissingException(DatabaseException):
    """The database has no such table: it was not migrated, or not to this version of aana.

    Told by PostgreSQL's SQLSTATE 42P01 and by SQLite's "no such table" error.

    Attributes:
        table_name (str | None): The table the call worked on.
        detail (str): The driver's message.
    """

    def __init__(self, table_name: str | None, detail: str = "", remedy: str | None = None) -> None:
        """Name the table and what creates it: ``aana migrate``, unless ``remedy`` says otherwise.

        Args:
            table_name (str | None): The table the call worked on.
            detail (str): The driver's message.
            remedy (str | None): What to do, when it is not to migrate the database: a table
                of the API service's own database, which aana's migrations do not create.
        """
        where = table_name or "unknown table"
        fix = remedy or (
            "migrate the database with `aana migrate` (or AanaSDK.migrate()) before using it"
        )
        super().__init__(f"{where}: a table is missing; {fix}: {detail}".rstrip(": "))
        self.table_name = table_name
        self.detail = detail
        self.remedy = remedy

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.table_name, self.detail, self.remedy)


class ConnectionLostException(DatabaseException):
    """The connection to the database was lost during a call, or could not be made.

    The call's own transaction is gone: rolled back by the server or, when the connection
    broke during ``COMMIT``, in doubt (committed or not, the client cannot know, as with any
    lost connection). What was committed before is intact, and the session that made the call
    goes on: its next call gets a new connection, once the server answers again.

    Attributes:
        table_name (str | None): The table the call worked on.
        detail (str): The driver's message.
        in_doubt (bool): The connection broke during ``COMMIT``.
    """

    def __init__(self, table_name: str | None, detail: str = "", in_doubt: bool = False) -> None:
        """Name the table and whether the call's transaction is lost or in doubt.

        Args:
            table_name (str | None): The table the call worked on.
            detail (str): The driver's message.
            in_doubt (bool): The connection broke during ``COMMIT``.
        """
        where = table_name or "unknown table"
        if in_doubt:
            what = f"connection to the database lost during COMMIT, working on {where}"
            outcome = "the transaction may or may not have been committed"
        else:
            what = f"connection to the database lost or not made, working on {where}"
            outcome = "nothing of the call was committed"
        super().__init__(f"{what}: {outcome}: {detail}".rstrip(": "))
        self.table_name = table_name
        self.detail = detail
        self.in_doubt = in_doubt

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.table_name, self.detail, self.in_doubt)


class MediaIdAlreadyExistsException(UniqueViolation):
    """A media row with this id already exists.

    Attributes:
        table_name (str): The table of the media entity.
        media_id (str): The media id that is taken.
    """

    def __init__(self, table_name: str, media_id: str) -> None:
        """Name the table and the media id that is taken in the message.

        Args:
            table_name (str): The table of the media entity.
            media_id (str): The media id that is taken.
        """
        DatabaseException.__init__(self, f"{table_name}: media id {media_id!r} already exists")
        self.table_name = table_name
        self.constraint_name = None
        self.detail = ""
        self.media_id = media_id

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.table_name, self.media_id)


class StaleTaskUpdateException(DatabaseException):
    """A task update was refused: the caller does not own the task, or the move is not allowed.

    Raised by ``TaskRepository.update_status`` when the task was claimed again since the
    caller's claim (its ``attempt`` is newer than the caller's), or when the task's status
    does not allow the move (a completed or failed task is final; a queued task belongs to
    whoever claims it next). Nothing was written: the current owner's status and result stay,
    and the session is usable.

    Attributes:
        task_id (str): The task.
        status (str): The task's current status.
        requested (str): The status the caller asked for.
        attempt (int): The task's current attempt: the claim that owns it.
        caller_attempt (int | None): The attempt the caller passed, if any.
    """

    def __init__(
        self,
        task_id: str,
        status: str,
        requested: str,
        attempt: int,
        caller_attempt: int | None = None,
    ) -> None:
        """Say why the update was refused: a newer claim, an ended attempt or a final status.

        Args:
            task_id (str): The task.
            status (str): The task's current status.
            requested (str): The status the caller asked for.
            attempt (int): The task's current attempt.
            caller_attempt (int | None): The attempt the caller passed, if any.
        """
        if caller_attempt is not None and caller_attempt != attempt:
            why = (
                f"it was claimed again: attempt {attempt} owns it, the caller holds attempt "
                f"{caller_attempt}"
            )
        elif caller_attempt is not None:
            why = f"attempt {attempt} is no longer running (the task is {status})"
        else:
            why = f"a {status} task cannot move to {requested}"
        super().__init__(
            f"tasks: update of task {task_id} to {requested} refused: {why}; the task is left "
            f"{status}"
        )
        self.task_id = task_id
        self.status = status
        self.requested = requested
        self.attempt = attempt
        self.caller_attempt = caller_attempt

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.task_id, self.status, self.requested, self.attempt, self.caller_attempt)


class ConcurrentSessionUseException(DatabaseException):
    """A repository call was made on an ``AsyncSession`` that is running another one.

    An ``AsyncSession`` runs one call at a time; tasks run concurrently (``asyncio.gather``,
    a ``TaskGroup``) each need a session of their own. The refused call sent nothing, and the
    session goes on with the call it was running.

    Attributes:
        call (str): The refused call, as ``Repository.method``.
        running (str): The call the session was running.
    """

    def __init__(self, call: str, running: str) -> None:
        """Name the refused call and the call the session is running in the message.

        Args:
            call (str): The refused call.
            running (str): The call the session was running.
        """
        super().__init__(
            f"{call}: this AsyncSession is running {running} already, and an AsyncSession runs "
            "one call at a time; give each concurrent task a session of its own "
            "(async with get_async_session() as session: ...)"
        )
        self.call = call
        self.running = running

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.call, self.running)


def tables_and_rows(tables: Iterable[tuple[str, int]]) -> str:
    """Say tables and their row counts: ``media (2 rows), tasks (1 row)``.

    Args:
        tables (Iterable[tuple[str, int]]): Table names and row counts, in the order to say.

    Returns:
        str: The list.
    """
    return ", ".join(f"{name} ({rows} row{'' if rows == 1 else 's'})" for name, rows in tables)


class DowngradeWouldDropData(DatabaseException):
    """A downgrade would drop tables that hold rows, and was not told to; nothing was changed.

    Attributes:
        target (str): The revision the downgrade was to go to.
        tables (dict[str, int]): The tables it would drop that hold rows, and their row counts.
    """

    def __init__(self, target: str, tables: dict[str, int]) -> None:
        """List the tables holding rows, and how to drop them anyway, in the message.

        Args:
            target (str): The revision the downgrade was to go to.
            tables (dict[str, int]): The tables holding rows, and how many each.
        """
        listed = tables_and_rows(sorted(tables.items()))
        super().__init__(
            f"downgrading to {target!r} would drop {len(tables)} table(s) holding "
            f"{sum(tables.values())} row(s): {listed}; nothing was changed. To drop them and "
            "their rows, downgrade with --drop-data (AanaSDK.downgrade(..., drop_data=True))"
        )
        self.target = target
        self.tables = dict(tables)

    @property
    def _args(self) -> tuple[Any, ...]:
        return (self.target, self.tables)
