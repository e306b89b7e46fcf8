"""The sync half or the async half, chosen by where the code runs; imported by workers too.

Code running in a greenlet of SQLAlchemy's, on an event loop (an async-half test body, an
asyncio worker), is on the async half: :func:`open_session` gives the ``sync_session`` of an
``AsyncSession`` on the async engine (aiosqlite, psycopg async), and the repository classes
here build async repositories whose calls are awaited on the loop (``await_only``). Anywhere
else they are the synchronous ones. So one test body or worker checks both halves.

Light on purpose: spawned worker processes import it.
"""

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import greenlet
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_session
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only, greenlet_spawn

from aana.configs import DbSettings
from aana.storage import repository as sync_repository
from aana.storage.aio import repository as async_repository
from aana.storage.aio.engine import create_async_database_engine

_twins: dict[tuple[str, int, int], AsyncEngine] = {}
_settings: dict[str, DbSettings] = {}


def on_async_half() -> bool:
    """Whether the caller runs in a greenlet that SQLAlchemy spawned on an event loop."""
    return greenlet.getcurrent().parent is not None


def remember_settings(engine: Engine, settings: DbSettings) -> Engine:
    """Build ``engine``'s async twin from ``settings`` (a busy timeout, say), not its URL."""
    _settings[engine.url.render_as_string(hide_password=False)] = settings
    return engine


def async_twin(engine: Engine) -> AsyncEngine:
    """The async engine on ``engine``'s database, with its pool size; one per process."""
    size = engine.pool.size()  # type: ignore[attr-defined]
    overflow = getattr(engine.pool, "_max_overflow", 10)
    url = engine.url.render_as_string(hide_password=False)
    key = (url, size, overflow)
    if key not in _twins:
        settings = _settings.get(url) or DbSettings.from_url(engine.url)
        pool = {"pool_size": size, "max_overflow": max(overflow, 0)}
        _twins[key] = create_async_database_engine(settings.model_copy(update=pool))
    return _twins[key]


async def dispose_twins() -> None:
    """Close the async engines :func:`async_twin` built, in the loop that used them."""
    while _twins:
        await _twins.popitem()[1].dispose()


def dispose(engine: Engine) -> None:
    """Close ``engine``'s pooled connections, and its async twin's on the async half."""
    engine.dispose()
    if on_async_half():
        await_only(async_twin(engine).dispose())


def on_connect(engine: Engine, listener: Callable[[Any, Any], None]) -> Callable[[], None]:
    """Listen to new connections of ``engine``, and of its async twin on the async half.

    Returns:
        Callable[[], None]: Stops listening.
    """
    engines = [engine, async_twin(engine).sync_engine] if on_async_half() else [engine]
    for target in engines:
        event.listen(target, "connect", listener)

    def remove() -> None:
        for target in engines:
            event.remove(target, "connect", listener)

    return remove


def open_session(engine: Engine, **options: Any) -> Session:
    """A new session on ``engine``'s database, on the half the caller runs on.

    ``binds`` (entity -> engine) are given sync engines; the async half binds their twins.
    """
    if not on_async_half():
        return Session(engine, **options)
    if "binds" in options:
        options["binds"] = {key: async_twin(bound) for key, bound in options["binds"].items()}
    return AsyncSession(async_twin(engine), **options).sync_session


def on_half(half: str, work: Callable[..., Any], *args: Any) -> Any:
    """Run ``work(*args)`` on ``half``: as it is, or in a greenlet on an event loop of its own.

    For worker processes, which are told the half by name.
    """
    if half == "sync":
        return work(*args)

    async def on_loop() -> Any:
        try:
            return await greenlet_spawn(work, *args)
        finally:
            await dispose_twins()

    return asyncio.run(on_loop())


def pause(seconds: float) -> None:
    """Sleep without holding up the other tasks of the loop, on the async half."""
    if on_async_half():
        await_only(asyncio.sleep(seconds))
    else:
        import time

        time.sleep(seconds)


class _Awaited:
    """An async repository whose coroutine methods are awaited where they are called."""

    def __init__(self, repository: Any) -> None:
        self._repository = repository

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._repository, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        def awaited(*args: Any, **kwargs: Any) -> Any:
            return await_only(attribute(*args, **kwargs))

        return awaited


def _either(name: str) -> Callable[..., Any]:
    sync_class = getattr(sync_repository, name)
    async_class = getattr(async_repository, name)

    def build(session: Session, *args: Any, **kwargs: Any) -> Any:
        proxy = async_session(session)
        if proxy is None:
            return sync_class(session, *args, **kwargs)
        return _Awaited(async_class(proxy, *args, **kwargs))

    build.__name__ = name
    return build


BaseRepository = _either("BaseRepository")
CaptionRepository = _either("CaptionRepository")
MediaRepository = _either("MediaRepository")
TaskRepository = _either("TaskRepository")
TranscriptRepository = _either("TranscriptRepository")
VideoRepository = _either("VideoRepository")
WebhookRepository = _either("WebhookRepository")
