"""What a failed migration says: the statement the database refused, or the session it waited on.

A migration runs in one transaction, so when the database refuses one of its statements
nothing is changed; ``aana`` says that, and not "cannot reach the database", which is kept
for connections that fail. On PostgreSQL a statement that needs a lock another session holds
(``ALTER TABLE`` on a table a session is reading in an open transaction) would wait for as
long as that session lives, and every query on that table would queue behind it; a
``lock_timeout`` ends the wait, and a watch from a second session names the session that
held the lock.
"""

import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

MIGRATION_LOCK_TIMEOUT = 10.0
"""Seconds a migration's statement waits for a lock on PostgreSQL before the run fails."""

_LOCK_NOT_AVAILABLE = "55P03"

_BLOCKERS = text(
    "SELECT pid, application_name, state, query_start, query FROM pg_stat_activity "
    "WHERE pid = ANY(pg_blocking_pids(:pid)) ORDER BY pid"
)


class MigrationLockTimeout(CommandError):
    """A statement of a migration waited too long for a lock that another session held."""


def set_lock_timeout(connection: Connection, seconds: float) -> None:
    """Bound the wait for a lock of every later statement of the connection's transaction.

    Args:
        connection (Connection): A PostgreSQL connection, in a transaction.
        seconds (float): The bound; 0 waits forever, as PostgreSQL does by default.

    Raises:
        ValueError: If ``seconds`` is negative.
    """
    if seconds < 0:
        raise ValueError(f"lock_timeout must be 0 or more seconds, got {seconds}")
    connection.execute(
        text("SELECT set_config('lock_timeout', :value, true)"),
        {"value": f"{round(seconds * 1000)}ms"},
    )


class BlockerWatch:
    """Which sessions block a PostgreSQL session, looked at from a second session meanwhile.

    Once the blocked statement has timed out, PostgreSQL no longer says whom it waited for,
    so the watch asks while it waits: every quarter of the lock timeout (at most every
    second), it records the sessions ``pg_blocking_pids`` names, with their
    ``pg_stat_activity`` row. The watch is diagnostics only: if its own session fails, the
    migration goes on and the error names no session.

    Attributes:
        blockers (list[dict[str, Any]]): The blocking sessions seen last: ``pid``,
            ``application_name``, ``state``, ``query_start`` and ``query``.
    """

    def __init__(self, engine: Engine, watched: Connection, lock_timeout: float) -> None:
        """Prepare a watch of the session of ``watched``; started by ``with``.

        Args:
            engine (Engine): The engine of the watched connection; the watch opens its own
                connection with its URL.
            watched (Connection): The migration's connection.
            lock_timeout (float): The migration's lock timeout, in seconds.
        """
        self.blockers: list[dict[str, Any]] = []
        self._url = engine.url
        self._pid = watched.scalar(text("SELECT pg_backend_pid()"))
        self._interval = min(1.0, lock_timeout / 4) if lock_timeout > 0 else 1.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="aana-migration-locks")

    def __enter__(self) -> "BlockerWatch":
        """Start watching."""
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        """Stop watching, and close the watch's session."""
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        engine = create_engine(self._url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                while not self._stop.wait(self._interval):
                    rows = connection.execute(_BLOCKERS, {"pid": self._pid}).mappings().all()
                    connection.rollback()
                    if rows:
                        self.blockers = [dict(row) for row in rows]
        except SQLAlchemyError:
            return  # diagnostics only: the migration's own error is what matters
        finally:
            engine.dispose()


def lock_timeout_error(
    error: DBAPIError, blockers: list[dict[str, Any]]
) -> "MigrationLockTimeout | None":
    """Return the error to raise when a migration's statement timed out waiting for a lock.

    Args:
        error (DBAPIError): What the driver raised.
        blockers (list[dict[str, Any]]): The sessions a :class:`BlockerWatch` saw blocking
            the migration.

    Returns:
        MigrationLockTimeout | None: The error naming the blocking sessions; None if
        ``error`` is not a lock timeout.
    """
    if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
        return None
    sessions = "".join(f"\n  {_describe_session(row)}" for row in blockers)
    return MigrationLockTimeout(
        "The migration waited longer than its lock timeout for a lock that another session "
        "holds, so it stopped and nothing was changed. "
        + (
            f"Blocking session(s):{sessions}"
            if sessions
            else "The blocking session had gone before it could be named."
        )
        + "\nEnd or commit that session (or stop the app's processes), then run aana migrate "
        f"again. Statement: {_statement(error)}"
    )


def refused_statement(error: DBAPIError) -> str:
    """Say that the database refused a statement, with its reason and the statement.

    ``aana`` commands run in one transaction, rolled back on error, so nothing was changed.

    Args:
        error (DBAPIError): What the driver raised for the statement.

    Returns:
        str: The message, with a hint to adopt when a table or type exists already.
    """
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    message = (
        "The database refused a statement, so nothing was changed (the command's "
        f"transaction was rolled back): {reason}\n  Statement: {_statement(error)}"
    )
    if "already exists" in reason:
        message += (
            "\nIf the app created its tables itself (with create_all, or with its own "
            "revisions under the Aana SDK), adopt them: aana migrate APP --adopt."
        )
    return message


def _statement(error: DBAPIError) -> str:
    statement = " ".join(str(error.statement or "").split())
    return statement if len(statement) <= 300 else statement[:300] + "..."


def _describe_session(row: dict[str, Any]) -> str:
    started = row["query_start"]
    when = started.isoformat(sep=" ", timespec="seconds") if isinstance(started, datetime) else "-"
    query = " ".join(str(row["query"] or "").split())[:200]
    return (
        f"pid {row['pid']}, application_name {row['application_name']!r}, state "
        f"{row['state']!r}, query started {when}: {query}"
    )
