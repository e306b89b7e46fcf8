"""The transaction rule that every repository method follows.

A repository method does its work in a *unit*, which :func:`unit` opens:

- When the session has no transaction, or only one that SQLAlchemy began on its own
  (autobegin, after the caller's plain ``session.execute`` or ``session.add``), the unit is a
  transaction of its own. The autobegun transaction is committed first, with whatever the
  caller left in it, as ``session.commit()`` would. The unit commits on success and rolls back
  entirely on failure, so that afterwards the session holds no transaction, no SQLite lock and
  no read snapshot. A writing unit on SQLite begins with ``BEGIN IMMEDIATE``: it takes the
  write lock before its first read, so a read-then-write cannot fail at once with "database is
  locked" because another connection committed in between.
- When the caller began the transaction (``session.begin()``, ``session.begin_nested()``) or
  asked the method not to commit (``commit=False``), the unit is a SAVEPOINT in it: an error
  rolls back the unit's own work only, the caller's transaction goes on, and committing it is
  the caller's business. A transaction that a ``commit=False`` call joined or began is the
  caller's from then on: later methods do not commit it either.

A lost connection leaves nothing to go on with: the session is rolled back in either case, so
that its next call starts afresh on a new connection.

Committing a unit does not expire the session's objects, whatever ``expire_on_commit`` says:
an expired object would reload on its next access, in a new transaction that no unit ends (and
in async code could not reload at all). A constraint that refuses an insert or a delete does
not expire them either: such a unit works in a SAVEPOINT of its own transaction.
Reads load with ``populate_existing`` instead (:data:`FRESH`), so they return the rows as the
database has them, never a copy the session held.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransactionOrigin

from aana.exceptions.db import ConnectionLostException, IntegrityViolation
from aana.storage.engine import SQLITE_BEGIN_OPTION
from aana.storage.errors import database_full, translate_errors

FRESH: dict[str, Any] = {"populate_existing": True}
"""Execution options of every read: rows replace what the session holds of them."""

_WRITE_LOCK_UP_FRONT = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}

# Key in ``Session.info`` of the transaction that a ``commit=False`` call made the caller's.
_CALLERS = "aana_callers_transaction"

CALLER_CANCELLED = "aana_caller_cancelled"
"""Key in ``Session.info``, true while the caller of an async call is cancelled
(:mod:`aana.storage.aio.cancellation`): a unit stops before its work, and rolls back."""


class CallerCancelled(Exception):
    """Stops a unit whose async caller was cancelled; the caller sees its ``CancelledError``."""


@contextmanager
def unit(
    session: Session,
    table_name: str,
    *,
    write: bool,
    commit: bool = True,
    may_break_constraints: bool = False,
) -> Iterator[None]:
    """Run the block as one unit of a repository method, translating driver errors.

    Args:
        session (Session): The repository's session.
        table_name (str): The table to name in errors.
        write (bool): The block writes; on SQLite a transaction of its own then takes the
            write lock up front.
        commit (bool): End the unit with a COMMIT when it is a transaction of its own; with
            False the unit is a SAVEPOINT, in the caller's transaction (begun if need be).
        may_break_constraints (bool): The block inserts or deletes rows, which a constraint
            may refuse. A transaction of its own then does the work in a SAVEPOINT, so that
            a refusal rolls back the block alone and the session's other objects keep their
            loaded state: a whole-session rollback would expire every one of them, and async
            code cannot load an expired attribute.

    Yields:
        None
    """
    transaction = session.get_transaction()
    owned = commit and (
        transaction is None
        or (
            transaction.origin is SessionTransactionOrigin.AUTOBEGIN
            and session.get_nested_transaction() is None
            and session.info.get(_CALLERS) is not transaction
        )
    )
    if owned and transaction is not None:
        _commit(session, table_name)
        transaction = None
    lock_first = write and transaction is None
    if not commit:
        # Begun now if need be, so that the caller's transaction is the one recorded.
        with _rolled_back_if_lost(session), translate_errors(table_name):
            _begin(session, lock_first)
        session.info[_CALLERS] = session.get_transaction()
    if owned:
        with _rolled_back_on_error(session):
            with translate_errors(table_name):
                _begin(session, lock_first)
            _check_cancelled(session)
            if may_break_constraints:
                try:
                    with _savepoint(session, table_name):
                        yield
                except IntegrityViolation:
                    _commit(session, table_name)  # of nothing: the SAVEPOINT took the work back
                    raise
            else:
                with translate_errors(table_name):
                    yield
            _commit(session, table_name)
        return
    with _rolled_back_if_lost(session), _savepoint(session, table_name):
        _check_cancelled(session)
        yield


def _check_cancelled(session: Session) -> None:
    """Stop the unit, once its connection is there, if its async caller was cancelled."""
    if session.info.get(CALLER_CANCELLED):
        raise CallerCancelled("the caller was cancelled")


def _begin(session: Session, lock_first: bool) -> None:
    """Begin the session's transaction now, if it has none; with SQLite's write lock if asked."""
    session.connection(execution_options=_WRITE_LOCK_UP_FRONT if lock_first else None)


def _commit(session: Session, table_name: str) -> None:
    """Commit without expiring the session's objects (see the module's docstring)."""
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        with _rolled_back_on_error(session), translate_errors(table_name):
            session.commit()
    except ConnectionLostException as lost:
        raise ConnectionLostException(lost.table_name, lost.detail, in_doubt=True) from lost
    finally:
        session.expire_on_commit = expire_on_commit


@contextmanager
def _rolled_back_on_error(session: Session) -> Iterator[None]:
    """Roll the whole session back when the block fails.

    A failed COMMIT, too, must be rolled back: it leaves the session in its "prepared" state,
    refusing all SQL until then.
    """
    try:
        yield
    except BaseException:
        session.rollback()
        raise


@contextmanager
def _rolled_back_if_lost(session: Session) -> Iterator[None]:
    """Roll the whole session back when the connection broke: the transaction is gone."""
    try:
        yield
    except ConnectionLostException:
        session.rollback()
        raise


@contextmanager
def _savepoint(session: Session, table_name: str) -> Iterator[None]:
    """Run the block in a SAVEPOINT of the caller's transaction, translating driver errors."""
    try:
        with translate_errors(table_name), session.begin_nested():
            yield
    except OperationalError as error:
        # SQLite may meet a full disk mid-statement by rolling back the whole transaction,
        # SAVEPOINT and all, so that rolling back to the SAVEPOINT fails in turn. The
        # transaction is lost, as at a failed COMMIT: the session goes on without it.
        context = error.__context__
        full = database_full(context) if isinstance(context, OperationalError) else None
        if full is None:
            raise
        session.rollback()
        raise full from context
