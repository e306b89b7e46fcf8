"""The generic async repository, and :func:`awaiting`, which makes a repository method async.

An async repository holds the synchronous repository of the same kind, built on the async
session's ``sync_session``; each of its methods is that repository's method, run through
:meth:`AsyncSession.run_sync <sqlalchemy.ext.asyncio.AsyncSession.run_sync>` (see
:mod:`aana.storage.aio`). An app that adds a method to its own repository writes it once,
synchronously, and declares it here with :func:`awaiting`::

    class ExtendedVideoRepository(aana.storage.aio.repository.VideoRepository[ExtendedVideo]):
        sync_class = myapp.repository.ExtendedVideoRepository

        get_by_title = awaiting(myapp.repository.ExtendedVideoRepository.get_by_title)
"""

import functools
import inspect
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from aana.exceptions.db import ConcurrentSessionUseException
from aana.storage.aio.cancellation import run_to_the_end
from aana.storage.models.base import BaseEntity
from aana.storage.repository import base as sync

SHARED_CONNECTION_LOCK = "aana_shared_connection_lock"
"""Key in ``AsyncSession.info`` of an :class:`asyncio.Lock` that sessions sharing one
connection (the test plugin's, joined to a test's transaction) hold around each repository
call: their SAVEPOINTs on the one connection must not interleave. Sessions take turns;
calls on one session never do (see :data:`RUNNING_CALL`)."""

RUNNING_CALL = "aana_running_call"
"""Key in ``AsyncSession.info`` naming the repository call the session is running.

SQLAlchemy refuses concurrent operations on one session only once they reach it, with an
error that can leave the session unable to close; a second call made while this key is set
is refused before it sends anything, with :class:`ConcurrentSessionUseException`, in
production as under the test plugin's turn-taking."""


@contextmanager
def one_call_at_a_time(session: AsyncSession, call: str) -> Iterator[None]:
    """Mark ``session`` as running ``call`` within the block; refuse a second call meanwhile.

    Args:
        session (AsyncSession): The session the call runs on.
        call (str): The call, as ``Repository.method``.

    Yields:
        None

    Raises:
        ConcurrentSessionUseException: If the session is running another call.
    """
    running = session.info.get(RUNNING_CALL)
    if running is not None:
        raise ConcurrentSessionUseException(call, running)
    session.info[RUNNING_CALL] = call
    try:
        yield
    finally:
        del session.info[RUNNING_CALL]


def turn_on_the_connection(session: AsyncSession) -> AbstractAsyncContextManager[Any]:
    """Wait for the turn of ``session`` on a shared connection (see SHARED_CONNECTION_LOCK).

    Args:
        session (AsyncSession): The session about to send statements.

    Returns:
        AbstractAsyncContextManager[Any]: Holds the turn within the block; a session with a
        connection of its own has it at once.
    """
    lock: AbstractAsyncContextManager[Any] | None = session.info.get(SHARED_CONNECTION_LOCK)
    return lock or nullcontext()


T = TypeVar("T", bound=BaseEntity)
S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


class Awaiting(Generic[S, P, R]):
    """A repository method that runs its synchronous twin; made by :func:`awaiting`.

    Read on an async repository, it is a coroutine function with the twin's parameters and
    result. The twin is looked up by name on the repository's ``sync`` repository when
    called, so a synchronous subclass's override is the one that runs.
    """

    def __init__(self, method: Callable[Concatenate[S, P], R]) -> None:
        """Wrap the synchronous ``method``, taking its name and its docstring.

        Args:
            method (Callable[Concatenate[S, P], R]): The synchronous method, read on its class.
        """
        self.name: str = method.__name__
        self.__doc__ = method.__doc__
        self._method = method

    def __set_name__(self, owner: type[Any], name: str) -> None:
        """Refuse a twin declared under another name, or one its class's sync_class lacks."""
        if name != self.name:
            raise TypeError(
                f"{owner.__name__}.{name} = awaiting(...{self.name}): an async method runs the "
                f"synchronous method of the same name; name it {self.name}"
            )
        sync_class = getattr(owner, "sync_class", None)
        mro = sync_class.__mro__ if sync_class is not None else ()
        if not any(cls.__dict__.get(name) is self._method for cls in mro):
            raise TypeError(
                f"{owner.__name__}.{name} = awaiting({self._method.__qualname__}), but "
                f"{owner.__name__}.sync_class is "
                f"{getattr(sync_class, '__name__', sync_class)}, which does not have it: set "
                f"sync_class to the class that defines {self._method.__qualname__} (or a subclass)"
            )

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(
        self, instance: "BaseRepository[Any]", owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, instance: "BaseRepository[Any] | None", owner: type[Any]) -> Any:
        """Return the method bound to ``instance``, or this descriptor when read on a class."""
        if instance is None:
            return self
        method: Callable[..., R] = getattr(instance.sync, self.name)
        session = instance.session
        call = f"{type(instance).__name__}.{self.name}"

        @functools.wraps(method)
        async def run(*args: Any, **kwargs: Any) -> R:
            # Marked before waiting for a turn: a second call on this session is refused even
            # while the first still waits, as it would be in production.
            with one_call_at_a_time(session, call):
                async with turn_on_the_connection(session):
                    return await run_to_the_end(
                        session.run_sync(lambda _sync_session: method(*args, **kwargs)), session
                    )

        return run


def awaiting(method: Callable[Concatenate[S, P], R]) -> Awaiting[S, P, R]:
    """Declare the async twin of a synchronous repository method.

    Args:
        method (Callable[Concatenate[S, P], R]): The method, read on the synchronous class
            (``TaskRepository.save``); for a generic class, on the class subscripted with the
            async class's type variable (``BaseRepository[T].read``), so that the result
            type follows the entity class.

    Returns:
        Awaiting[S, P, R]: The descriptor to assign, under the same name, in the async class.
    """
    return Awaiting(method)


class BaseRepository(Generic[T]):
    """Create, read and delete entities of one class, awaiting each call.

    The async twin of :class:`aana.storage.repository.BaseRepository`: the same methods,
    arguments, results, errors and transaction rule. A subclass names its synchronous twin
    in ``sync_class``.

    Attributes:
        session (AsyncSession): The session the repository works in.
        model_class (type[T]): The entity class.
        table_name (str): The entity's table.
        sync (aana.storage.repository.BaseRepository): The synchronous repository on the
            session's ``sync_session`` that runs every call.
    """

    sync_class: ClassVar[type[sync.BaseRepository[Any]]] = sync.BaseRepository
    """The synchronous repository that runs the calls. It is built with the session's
    ``sync_session``, followed by the entity class when its constructor takes one (aana's
    do; an app's, such as ``ExtendedVideoRepository(session)``, may take the session alone and
    name its entity class itself)."""

    def __init__(self, session: AsyncSession, model_class: type[T]) -> None:
        """Build :attr:`sync`, the twin on ``session.sync_session`` that runs every call.

        Args:
            session (AsyncSession): The session to work in.
            model_class (type[T]): The entity class.
        """
        self.session = session
        self.sync = _sync_twin(self.sync_class, session.sync_session, model_class)
        self.model_class: type[T] = self.sync.model_class
        self.table_name: str = self.sync.table_name

    create = awaiting(sync.BaseRepository[T].create)
    create_multiple = awaiting(sync.BaseRepository[T].create_multiple)
    read = awaiting(sync.BaseRepository[T].read)
    delete = awaiting(sync.BaseRepository[T].delete)


def _sync_twin(
    sync_class: type[sync.BaseRepository[Any]], session: Session, model_class: type[Any]
) -> sync.BaseRepository[Any]:
    """Build the synchronous repository of an async one (see ``BaseRepository.sync_class``)."""
    if _takes_the_entity_class(sync_class):
        return sync_class(session, model_class)
    return sync_class(session)  # type: ignore[call-arg]


def _takes_the_entity_class(sync_class: type[Any]) -> bool:
    """Whether the constructor takes a second positional argument after the session."""
    positional = [
        parameter
        for parameter in inspect.signature(sync_class).parameters.values()
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) > 1
