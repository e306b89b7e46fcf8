"""Per-test isolation: a session joined to an outer transaction that is rolled back.

This is SQLAlchemy's "joining a session into an external transaction" recipe: the test's
session runs on one connection inside a transaction that the test never commits. With
``join_transaction_mode="create_savepoint"`` every ``commit()`` the code under test makes
releases a SAVEPOINT instead, so the code behaves as in production and nothing survives
the test.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aana.storage.session import override_session_factory

_current: Session | None = None

# One sessionmaker for all tests: every sessionmaker makes a Session subclass of its own, whose
# event dispatch SQLAlchemy builds on first use; one per test made every test pay for it again.
_joining_sessions = sessionmaker(join_transaction_mode="create_savepoint", expire_on_commit=False)


def current_session() -> Session:
    """Return the session of the running test; factories are bound to it.

    Returns:
        Session: The ``db_session`` of the running test.

    Raises:
        RuntimeError: If no test holding ``db_session`` is running.
    """
    if _current is None:
        raise RuntimeError(
            "no test database session is active: request the db_session fixture in the test "
            "(or in a fixture it uses) before using an aana.testing factory"
        )
    return _current


def has_current_session() -> bool:
    """Tell whether a test holding ``db_session`` is running."""
    return _current is not None


@contextmanager
def isolated_session(engine: Engine) -> Iterator[Session]:
    """Yield a session whose work is rolled back afterwards, however often it commits.

    While the block runs, :func:`aana.storage.session.get_session` returns sessions on the
    same transaction, so application code sees the test's data, and
    :func:`aana.storage.session.get_engine` returns ``engine``.

    Args:
        engine (Engine): The engine of the test database.

    Yields:
        Session: The test's session.
    """
    global _current
    connection = engine.connect()
    transaction = connection.begin()
    factory = partial(_joining_sessions, bind=connection)
    session = factory()
    previous, _current = _current, session
    try:
        with override_session_factory(factory, engine):
            yield session
    finally:
        _current = previous
        session.close()
        transaction.rollback()
        connection.close()


@contextmanager
def committing_sessions(engine: Engine) -> Iterator[None]:
    """Make :func:`aana.storage.session.get_session` return real sessions on ``engine``.

    :func:`aana.storage.session.get_engine` returns ``engine`` meanwhile.

    Args:
        engine (Engine): The engine of the test database.

    Yields:
        None
    """
    with override_session_factory(sessionmaker(engine, expire_on_commit=False), engine):
        yield
