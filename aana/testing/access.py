"""Which tests may reach a database: those holding a test database, by fixture or marker.

As pytest-django does, the plugin refuses :func:`aana.storage.session.get_session` and
:func:`~aana.storage.session.get_engine` for the whole run, and every engine built on the
database ``DB_CONFIG`` names (``DbSettings.get_engine()``, ``create_database_engine()``,
``create_async_database_engine()``): see :mod:`aana.testing.blocker`. ``db_session`` and
``transactional_db_engine`` lift the refusal for their test by pointing both at the test
database, and their async twins do the same for :func:`aana.storage.aio.session.get_async_session`.
A test marked ``@pytest.mark.aana_db`` gets ``db_session``, and one marked
``@pytest.mark.aana_db(transaction=True)`` gets ``transactional_db_engine``; an ``async def``
test gets ``async_db_session`` or ``async_transactional_db_engine``.
"""

import inspect
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from aana.configs.db import DbSettings
from aana.configs.settings import load_settings
from aana.storage.process_engine import ACCESS_GATE, AccessCheck

MARKER = "aana_db"

REFUSAL = (
    "this test holds no test database, and outside one the aana.testing plugin refuses to "
    "reach the database DB_CONFIG names. Request the db_session fixture (or "
    "transactional_db_engine for real commits; async_db_session or "
    "async_transactional_db_engine for get_async_session()), or mark the test with "
    "@pytest.mark.aana_db (@pytest.mark.aana_db(transaction=True) for real commits); a "
    "session-scoped fixture seeding the test database lifts the block with "
    "aana_db_blocker.unblock(db_engine)"
)


def refusal(reason: str) -> AccessCheck:
    """Return an access check that refuses every call, saying ``reason``.

    Args:
        reason (str): Says why, and what to do instead; ends the error message.

    Returns:
        AccessCheck: Raises ``RuntimeError("<call> refused: <reason>")``.
    """

    def refuse(call: str) -> None:
        __tracebackhide__ = True  # the error points at the caller, not at this check
        raise RuntimeError(f"{call} refused: {reason}")

    return refuse


@contextmanager
def refusing(reason: str) -> Iterator[None]:
    """Refuse database access within the block, then let the previous check stand again.

    A half whose sessions are overridden (the test's) still passes.

    Args:
        reason (str): Says why, and what to do instead; ends the error message.

    Yields:
        None
    """
    previous = ACCESS_GATE.check
    ACCESS_GATE.check = refusal(reason)
    try:
        yield
    finally:
        ACCESS_GATE.check = previous


def configured_database() -> DbSettings | None:
    """Return the settings of the database ``DB_CONFIG`` names, the one tests must not touch.

    Returns:
        DbSettings | None: The settings, or None when ``DB_CONFIG`` is invalid: no engine can
        be built from it then.
    """
    try:
        return load_settings().db_config
    except Exception:
        return None


def register_marker(config: pytest.Config) -> None:
    """Declare the ``aana_db`` marker, so that ``--strict-markers`` accepts it.

    Args:
        config (pytest.Config): pytest's config.
    """
    config.addinivalue_line(
        "markers",
        f"{MARKER}(transaction=False): give the test a test database: db_session, or "
        "transactional_db_engine with transaction=True (their async_ twins for an async test)",
    )


@pytest.fixture(autouse=True)
def _aana_db_marker(request: pytest.FixtureRequest) -> None:
    """Hand a test marked ``aana_db`` the database fixture the marker asks for."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return
    unknown = set(marker.kwargs) - {"transaction"}
    if marker.args or unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} on {request.node.nodeid} takes only transaction=True or "
            f"transaction=False, not {marker.args or ''}{sorted(unknown) or ''}"
        )
    fixture = "transactional_db_engine" if marker.kwargs.get("transaction") else "db_session"
    if inspect.iscoroutinefunction(getattr(request.node, "obj", None)):
        fixture = f"async_{fixture}"
    request.getfixturevalue(fixture)
