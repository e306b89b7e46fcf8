"""The block on database access, and the ``aana_db_blocker`` fixture that lifts it.

The plugin blocks database access when the run starts: ``get_session()``, ``get_engine()``,
their async twins and every engine built on the database ``DB_CONFIG`` names are refused
outside a test database (see :mod:`aana.testing.access`). A session-scoped fixture that must
write before the tests run, to seed the worker's database, lifts the block for a while::

    @pytest.fixture(scope="session")
    def seeded(db_engine, aana_db_blocker):
        with aana_db_blocker.unblock(db_engine):
            seed()  # application code calling get_session()

The block is :data:`aana.storage.process_engine.ACCESS_GATE`'s check: each :meth:`DbBlocker.block`
and :meth:`DbBlocker.unblock` replaces it at once, and :meth:`DbBlocker.restore` (or leaving the
``with`` block) puts back the one before, as pytest-django's ``django_db_blocker`` does.
"""

from contextlib import ExitStack
from types import TracebackType

import pytest
from sqlalchemy import Engine

from aana.configs.db import DbSettings
from aana.storage.process_engine import ACCESS_GATE, AccessCheck
from aana.testing.access import REFUSAL, refusal
from aana.testing.isolation import committing_sessions

SYNC_ONLY = (
    "aana_db_blocker.unblock(engine) points only the synchronous get_session() and "
    "get_engine() at the engine's database; the async half stays refused rather than reach "
    "the database DB_CONFIG names"
)


class DbBlocker:
    """Blocks and unblocks database access for the whole process.

    Each :meth:`block` and :meth:`unblock` takes effect when called and returns a context
    manager whose exit calls :meth:`restore`; called without ``with``, pair it with
    ``request.addfinalizer(aana_db_blocker.restore)``.
    """

    def __init__(self) -> None:
        """Start with nothing blocked; the plugin calls :meth:`start` when the run starts."""
        self._history: list[tuple[AccessCheck | None, ExitStack]] = []
        self._guarded_before: DbSettings | None = None

    def block(self) -> "Restoring":
        """Refuse database access until :meth:`restore`, as outside a test database.

        A test's own fixtures (``db_session``, ...) still reach the test's database.

        Returns:
            Restoring: Restores the previous state when its ``with`` block ends.
        """
        self._push(refusal(REFUSAL), ExitStack())
        return Restoring(self)

    def unblock(self, engine: Engine | None = None) -> "Restoring":
        """Allow database access until :meth:`restore`.

        Args:
            engine (Engine | None): The test database to reach, usually ``db_engine``:
                ``get_session()`` and ``get_engine()`` return real sessions on it, and the
                engine itself, as do engines asked for on the database ``DB_CONFIG`` names;
                what they commit stays for the rest of the run, and each ``db_session`` test
                starts from it. The async half stays refused. Without an engine, the calls
                reach the database ``DB_CONFIG`` names itself.

        Returns:
            Restoring: Restores the previous state when its ``with`` block ends.
        """
        sessions = ExitStack()
        check: AccessCheck | None = None
        if engine is not None:
            sessions.enter_context(committing_sessions(engine))
            check = refusal(SYNC_ONLY)
        self._push(check, sessions)
        return Restoring(self)

    def restore(self) -> None:
        """Undo the last :meth:`block` or :meth:`unblock` still in effect.

        Raises:
            RuntimeError: If none is in effect.
        """
        if not self._history:
            raise RuntimeError("aana_db_blocker.restore(): no block() or unblock() to undo")
        check, sessions = self._history.pop()
        ACCESS_GATE.check = check
        sessions.close()

    def start(self, guarded: DbSettings | None) -> None:
        """Guard a database and block access; the plugin calls it when the run starts.

        Args:
            guarded (DbSettings | None): The database ``DB_CONFIG`` names: no engine is built
                on it, however asked for, while access is blocked; None when ``DB_CONFIG``
                names none.
        """
        self._guarded_before, ACCESS_GATE.guarded = ACCESS_GATE.guarded, guarded
        self.block()

    def finish(self) -> None:
        """Undo every block and unblock still in effect and stop guarding; at the run's end."""
        while self._history:
            self.restore()
        ACCESS_GATE.guarded = self._guarded_before

    def _push(self, check: AccessCheck | None, sessions: ExitStack) -> None:
        self._history.append((ACCESS_GATE.check, sessions))
        ACCESS_GATE.check = check


class Restoring:
    """What :meth:`DbBlocker.block` and :meth:`DbBlocker.unblock` return."""

    def __init__(self, blocker: DbBlocker) -> None:
        """Remember the blocker whose :meth:`DbBlocker.restore` leaving the block calls.

        Args:
            blocker (DbBlocker): The blocker.
        """
        self._blocker = blocker

    def __enter__(self) -> None:
        """The block or unblock is already in effect; nothing more to do."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Restore what was in effect before."""
        self._blocker.restore()


_BLOCKER = pytest.StashKey[DbBlocker]()


def install_blocker(config: pytest.Config) -> DbBlocker:
    """Make the run's blocker and keep it in pytest's stash.

    Args:
        config (pytest.Config): pytest's config.

    Returns:
        DbBlocker: The blocker, not blocking yet.
    """
    blocker = config.stash[_BLOCKER] = DbBlocker()
    return blocker


def db_blocker(config: pytest.Config) -> DbBlocker:
    """Return the run's blocker.

    Args:
        config (pytest.Config): pytest's config.

    Returns:
        DbBlocker: The blocker :func:`install_blocker` made.

    Raises:
        RuntimeError: If the ``aana.testing`` plugin has not configured this run.
    """
    blocker = config.stash.get(_BLOCKER, None)
    if blocker is None:
        raise RuntimeError("the aana.testing plugin has not configured this run: no blocker")
    return blocker


@pytest.fixture(scope="session")
def aana_db_blocker(pytestconfig: pytest.Config) -> DbBlocker:
    """Blocks or unblocks database access, for fixtures that seed the test database.

    ``with aana_db_blocker.unblock(db_engine): ...`` lets ``get_session()`` commit into this
    worker's database, for the rest of the run; ``block()`` refuses access again, and
    ``restore()`` undoes the last of the two.
    """
    return db_blocker(pytestconfig)
