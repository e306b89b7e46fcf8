"""The sqlite3 connection class of aana's engines: closing it ends its transaction at once.

SQLAlchemy closes a connection it invalidates, which it does when a call is interrupted
mid-statement: an asyncio cancellation (a timeout around a repository call), a
``KeyboardInterrupt``. Since Python 3.11, ``sqlite3.Connection.close()`` is SQLite's
``sqlite3_close_v2()``, which only marks a connection that still has statements "to be closed"
and keeps it, open transaction and write lock included, until the last statement is finalized.
A cursor's statement is finalized when the cursor object is freed; the interrupted call's
cursor lives on in the traceback of the cancellation, often in a reference cycle that only the
garbage collector frees, maybe never. Every other writer, in this process and in others, then
waits out its busy timeout.

:class:`ClosingConnection` closes its cursors (which releases their statements) and rolls back
before closing, so that a closed connection holds nothing.
"""

import sqlite3
import weakref
from contextlib import suppress
from typing import Any


class ClosingConnection(sqlite3.Connection):
    """An ``sqlite3.Connection`` whose ``close()`` ends its transaction and frees its statements.

    Given to ``sqlite3.connect`` (and so to aiosqlite, which calls it in its thread) as
    ``factory``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Constructor: ``sqlite3.connect``'s arguments."""
        super().__init__(*args, **kwargs)
        self._cursors: weakref.WeakSet[sqlite3.Cursor] = weakref.WeakSet()

    def cursor(self, factory: Any = sqlite3.Cursor) -> Any:
        """Open a cursor, remembered so that :meth:`close` can close it.

        ``execute()`` and ``executemany()`` of the connection open theirs through this method
        too.
        """
        cursor = super().cursor(factory)
        self._cursors.add(cursor)
        return cursor

    def close(self) -> None:
        """Close the cursors, roll back an open transaction, then close the connection."""
        try:
            for cursor in list(self._cursors):
                # ProgrammingError: the connection is closed already, or the cursor is busy
                # in another thread; the rollback still releases the lock.
                with suppress(sqlite3.ProgrammingError):
                    cursor.close()
            with suppress(sqlite3.ProgrammingError):  # closed already: nothing to end
                if self.in_transaction:
                    self.rollback()
        finally:
            super().close()
