"""The async Aana SDK's session API: :class:`DatabaseSessionManager`.

The async Aana SDK (after 0.2.4) builds its engines and sessions with a
``DatabaseSessionManager(settings)``; apps and tests ported from it keep doing so. Its
engines are this library's async engines (:func:`~aana.storage.aio.engine.
create_async_database_engine`), so everything aana's async engines do holds for them.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from aana.configs.db import DbSettings
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.models.api_key import ApiServiceBase
from aana.storage.models.base import BaseEntity

if TYPE_CHECKING:
    from aana.configs.settings import Settings

__all__ = ["DatabaseSessionManager"]


class DatabaseSessionManager:
    """Async engines and sessions built from the settings.

    The app's engine is built from ``settings.db_config``. When the API service is enabled
    (``settings.api_service.enabled``), a second engine is built from
    ``settings.api_service_db_config``, and sessions send the API service's entities
    (:class:`~aana.storage.models.api_key.ApiServiceBase`) to it, everything else to the
    app's. Sessions do not expire objects on commit, as async sessions must not.

    Both engines are built when the manager is, without connecting; :meth:`close` disposes
    of them. A closed manager refuses further use.
    """

    def __init__(self, settings: "Settings") -> None:
        """Build the engines, without connecting, and the factory of sessions from ``settings``.

        Args:
            settings (Settings): The settings, such as ``aana.configs.settings.settings``.

        Raises:
            DatabaseConfigError: If a database's settings are unusable (an SQLite path whose
                directory is missing, ``:memory:``, an async driver that is not installed).
        """
        self._settings = settings
        self._db_config = settings.db_config
        self._api_service_db_config = settings.api_service_db_config
        self._is_api_service_enabled = settings.api_service.enabled
        self._engine: AsyncEngine | None = self.create_database_engine(self._db_config)
        self._api_service_engine: AsyncEngine | None = None
        binds: dict[Any, AsyncEngine] | None = None
        if self._is_api_service_enabled:
            self._api_service_engine = self.create_database_engine(self._api_service_db_config)
            binds = {ApiServiceBase: self._api_service_engine, BaseEntity: self._engine}
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = async_sessionmaker(
            bind=self._engine, binds=binds, expire_on_commit=False
        )

    @classmethod
    def create_database_engine(cls, db_config: DbSettings) -> AsyncEngine:
        """Build an async engine from database settings.

        Args:
            db_config (DbSettings): The settings.

        Returns:
            AsyncEngine: The engine (``sqlite+aiosqlite``, or ``postgresql+psycopg`` or
            ``postgresql+asyncpg`` as ``datastore_config.async_driver`` says).
        """
        return create_async_database_engine(db_config)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session, closed (what it did not commit rolled back) when the block ends.

        Yields:
            AsyncSession: The session.

        Raises:
            RuntimeError: If the manager is closed.
        """
        if self._sessionmaker is None:
            raise RuntimeError("DatabaseSessionManager is closed: build a new one")
        async with self._sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """Open a connection to the app's database in a transaction.

        The transaction is committed when the block ends, rolled back if it raises.

        Yields:
            AsyncConnection: The connection.

        Raises:
            RuntimeError: If the manager is closed.
        """
        if self._engine is None:
            raise RuntimeError("DatabaseSessionManager is closed: build a new one")
        async with self._engine.begin() as connection:
            yield connection

    async def close(self) -> None:
        """Dispose of the engines (closing their pooled connections); a second call does nothing."""
        engines = [self._engine, self._api_service_engine]
        self._engine = self._api_service_engine = None
        self._sessionmaker = None
        for engine in engines:
            if engine is not None:
                await engine.dispose()
