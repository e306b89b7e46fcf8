"""The process-wide engine of one half, sync or async, and where its sessions come from.

:mod:`aana.storage.session` and :mod:`aana.storage.aio.session` each keep one
:class:`ProcessEngine`: built from :class:`~aana.configs.Settings` on first use, once, with
the sessions it hands out; swapped for the length of a test by ``aana.testing``; and refused,
both halves at once, while :func:`refuse_access` is in force.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from aana.configs.db import DbSettings
from aana.configs.settings import load_settings

E = TypeVar("E")
S = TypeVar("S")

_refusal: str | None = None


class ProcessEngine(Generic[E, S]):
    """An engine built on first use from the settings, and the factory of its sessions."""

    def __init__(
        self,
        build: Callable[[DbSettings], E],
        sessionmaker: Callable[..., Callable[[], S]],
        kind: str = "",
    ) -> None:
        """Constructor.

        Args:
            build (Callable[[DbSettings], E]): Builds the engine from the settings.
            sessionmaker (Callable[..., Callable[[], S]]): ``sessionmaker`` or
                ``async_sessionmaker``: the factory of the engine's sessions, which do not
                expire objects on commit.
            kind (str): ``""`` or ``"async_"``: names the half's functions in errors
                (``get_{kind}engine()``, ``get_{kind}session()``).
        """
        self._build = build
        self._sessionmaker = sessionmaker
        self._kind = kind
        self._lock = threading.Lock()
        self._engine: E | None = None
        self._factory: Callable[[], S] | None = None
        self._factory_override: Callable[[], S] | None = None
        self._engine_override: E | None = None

    def engine(self) -> E:
        """Return the engine for the current settings, building it on first call, once.

        Returns:
            E: The process-wide engine, or the test's while ``aana.testing`` overrides it.

        Raises:
            RuntimeError: Within :func:`refuse_access`, unless an override is active.
        """
        if self._engine_override is not None:
            return self._engine_override
        _check_access(f"get_{self._kind}engine()")
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = self._build(load_settings().db_config)
                    self._factory = self._sessionmaker(engine, expire_on_commit=False)
                    self._engine = engine
        return self._engine

    def session(self) -> S:
        """Return a new session on the configured database.

        The session is a context manager (``with``, or ``async with`` for an async one) that
        closes it. Objects stay readable after ``commit()`` (``expire_on_commit=False``).

        Returns:
            S: A new session, from the test's factory while ``aana.testing`` overrides it.

        Raises:
            RuntimeError: Within :func:`refuse_access`, unless an override is active.
        """
        if self._factory_override is not None:
            return self._factory_override()
        _check_access(f"get_{self._kind}session()")
        self.engine()
        assert self._factory is not None
        return self._factory()

    def forget(self) -> E | None:
        """Forget the engine, so that the next call builds a new one; return it to dispose of."""
        with self._lock:
            engine, self._engine, self._factory = self._engine, None, None
        return engine

    @contextmanager
    def override(self, factory: Callable[[], S], engine: E | None = None) -> Iterator[None]:
        """Hand out sessions from ``factory``, and return ``engine`` if given, within the block.

        Args:
            factory (Callable[[], S]): Builds the sessions to hand out.
            engine (E | None): The engine to return within the block, if given.

        Yields:
            None
        """
        previous = self._factory_override, self._engine_override
        self._factory_override, self._engine_override = factory, engine
        try:
            yield
        finally:
            self._factory_override, self._engine_override = previous


def _check_access(call: str) -> None:
    if _refusal is not None:
        raise RuntimeError(f"{call} refused: {_refusal}")


@contextmanager
def refuse_access(reason: str) -> Iterator[None]:
    """Make every half's session and engine functions raise within the block.

    An override (``override_session_factory`` and its async twin) active at call time lifts
    the refusal for its half.

    Args:
        reason (str): Says why, and what to do instead; ends the error message.

    Yields:
        None
    """
    global _refusal
    previous, _refusal = _refusal, reason
    try:
        yield
    finally:
        _refusal = previous
