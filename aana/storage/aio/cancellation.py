"""Cancelling an async repository call: the database stops it, the call ends by its own rules.

Cancelling the task that awaits a statement throws ``CancelledError`` into SQLAlchemy
mid-statement. SQLAlchemy can then only discard the connection: the statement may still be
running, in aiosqlite's thread or on the server. Discarding is where connections leaked: one
cancelled while it was being opened (the driver's connect, the first statements on a new
connection) was dropped unclosed, open until the garbage collector found it, and on SQLite a
discarded connection kept its write lock (see :mod:`aana.storage.sqlite_connection`).

So a repository call is never cancelled from outside. It runs as a task of its own, shielded;
when the caller is cancelled, the database is asked to stop the statement running (a
PostgreSQL cancel request, SQLite's ``interrupt()``), and a unit of work that has not begun
its work yet stops once its connection is there. The call fails on its own connection as it
would on any error of the database, its unit of work rolls back (see
:mod:`aana.storage.repository.transaction`), and then the caller's ``CancelledError`` goes on.
A call that was already committing ends committed. The connection stays usable and goes back
to the pool; the session is ready for the next call.

On SQLite a call waiting for the write lock is not interrupted: SQLite does not stop a wait of
its busy handler, so the cancellation takes effect when the lock is obtained or the busy
timeout ends.
"""

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from aana.storage.repository.transaction import CALLER_CANCELLED

R = TypeVar("R")

_CANCEL_REQUEST_TIMEOUT = 10.0
"""Seconds to wait for PostgreSQL to take a cancel request; the call ends on its own anyway."""


async def run_to_the_end(call: Coroutine[Any, Any, R], session: AsyncSession) -> R:
    """Await a repository call; when cancelled, stop its statement and let the call end first.

    Args:
        call (Coroutine[Any, Any, R]): The call, ``session.run_sync(...)``.
        session (AsyncSession): The session it runs in.

    Returns:
        R: The call's result.

    Raises:
        asyncio.CancelledError: If the caller was cancelled, once the call has ended; the
            call's own error, if it failed because of the cancellation, is its context.
    """
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await _stop(task, session)
        raise


async def _stop(task: "asyncio.Future[Any]", session: AsyncSession) -> None:
    """Interrupt the statement the call is waiting for, then wait for the call to end.

    A caller cancelled again meanwhile (anyio cancels at every await of a cancelled scope)
    still waits: leaving the call running would leave its session and connection in use.
    """
    info = session.sync_session.info
    info[CALLER_CANCELLED] = True
    try:
        if not task.done():
            with contextlib.suppress(Exception):
                await _interrupt(session)
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task])
    finally:
        del info[CALLER_CANCELLED]
    if not task.cancelled():
        task.exception()  # retrieved: the caller hears of the cancellation, not of this


async def _interrupt(session: AsyncSession) -> None:
    """Ask the database to stop the statement running on the session's connection, if any."""
    for connection in _connections(session):
        if connection.closed or connection.invalidated:
            continue
        driver = connection.connection.driver_connection
        if connection.dialect.name == "postgresql":
            # A no-op when no statement is running (psycopg checks first).
            await driver.cancel_safe(timeout=_CANCEL_REQUEST_TIMEOUT)  # type: ignore[union-attr]
        else:
            # A no-op when none is running; SQLite clears it when the next one starts.
            await driver.interrupt()  # type: ignore[union-attr]


def _connections(session: AsyncSession) -> list[Connection]:
    """The connections of the session's transaction, read without acquiring any."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        return []
    # SessionTransaction.connections is SQLAlchemy 2.1.7's; before, only the private mapping.
    connections = getattr(transaction, "connections", None)
    if connections is None:
        return [entry[0] for entry in transaction._connections.values()]
    return list(connections)
