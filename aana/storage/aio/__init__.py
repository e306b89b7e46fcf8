"""The asyncio half of the storage layer: async engine, sessions and repositories.

It is not a second copy of the library. An async repository's method runs its synchronous
twin, unchanged, through SQLAlchemy's :meth:`AsyncSession.run_sync
<sqlalchemy.ext.asyncio.AsyncSession.run_sync>`: the twin works on the async session's own
``sync_session``, in a greenlet, and every statement it sends is awaited on the async driver
(aiosqlite, psycopg's async connection) by SQLAlchemy's greenlet bridge. So the statements,
the value checks, the error translation and the transaction rule
(:mod:`aana.storage.repository.transaction`) exist once, and the two halves cannot drift
apart. This is how SQLAlchemy builds ``AsyncSession`` itself: its methods run the
synchronous ``Session``'s the same way, so a repository call costs what an ``AsyncSession``
call costs, one greenlet switch per round trip.

The alternative, writing the async source and generating the sync one token by token
(unasync, as advanced-alchemy does), would keep two copies of every method in the tree, to
be regenerated and kept in step; only the executing of statements differs between the halves,
and ``run_sync`` is exactly that difference.

Only the database round trips are awaited, so an entity's attributes must be loaded before it
leaves a method: the repositories return entities whose columns are all loaded, a write that
a constraint refuses rolls back to a SAVEPOINT and expires nothing else the session holds, and
the sessions of :func:`~aana.storage.aio.session.get_async_session` do not expire objects on
commit. A lost connection does roll the whole session back: its objects are then expired, and
``await session.refresh(entity)`` loads one again.

Migrations stay synchronous (``aana migrate``, ``AanaSDK.migrate()``).
"""
