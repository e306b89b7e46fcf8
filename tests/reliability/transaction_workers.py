"""Helpers of the transaction-rule tests (issue 10), importable by spawned worker processes.

Processes are started with ``spawn``, so what they run must live in an importable module.
"""

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from either import remember_settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from aana.configs import DbSettings
from aana.configs.db import DbType, SQLiteConfig
from aana.core.models import Video
from aana.storage.engine import create_database_engine
from aana.storage.repository import CaptionRepository, VideoRepository

SHORT_BUSY_TIMEOUT = 2.0
"""Seconds an SQLite connection of these tests waits for another one's write lock."""


def sqlite_engine_with_timeout(
    path: str | Path, busy_timeout: float = SHORT_BUSY_TIMEOUT
) -> Engine:
    """An engine built by aana's own factory on an SQLite file, with a short busy timeout."""
    settings = DbSettings(
        datastore_type=DbType.SQLITE,
        datastore_config=SQLiteConfig(path=Path(path), busy_timeout=busy_timeout),
    )
    return remember_settings(create_database_engine(settings), settings)


def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions as :func:`aana.storage.session.get_session` makes them: no expiry on commit."""
    return sessionmaker(engine, expire_on_commit=False)


# --- SQLite: is the database free? -----------------------------------------------------------


def sqlite_write_lock_is_free(path: str | Path, wait: float = 0.2) -> tuple[bool, str]:
    """Try to take SQLite's write lock from a fresh connection, waiting at most ``wait`` seconds.

    Returns:
        tuple[bool, str]: Whether the lock was taken, and the error otherwise.
    """
    connection = sqlite3.connect(str(path), timeout=wait, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True, ""
    except sqlite3.OperationalError as error:
        return False, str(error)
    finally:
        connection.close()


# --- recording the SQL a call sends ------------------------------------------------------------


# --- worker process: one write, timed -------------------------------------------------------


def warm_up(path: str) -> str:
    """Import everything and open the database once, so that a timed call measures the write."""
    engine = sqlite_engine_with_timeout(path)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    return "ready"


def timed_write(path: str, kind: str, name: str) -> dict[str, Any]:
    """Write once to the SQLite database at ``path`` with a short busy timeout, and time it.

    Args:
        path (str): The database file.
        kind (str): ``video`` saves a video with media id ``name``; ``caption`` saves one caption
            of model ``name``.
        name (str): The media id or the caption model.

    Returns:
        dict[str, Any]: ``ok``, ``error`` (type and message, if any) and ``seconds``.
    """
    engine = sqlite_engine_with_timeout(path)
    started = time.monotonic()
    try:
        with Session(engine) as session:
            if kind == "video":
                VideoRepository(session).save(Video(media_id=name))
            else:
                CaptionRepository(session).save(name, "a caption", 1.0, 1)
        return {"ok": True, "error": "", "seconds": time.monotonic() - started}
    except Exception as error:
        return {
            "ok": False,
            "error": f"{type(error).__name__}: {error}",
            "seconds": time.monotonic() - started,
        }
    finally:
        engine.dispose()


def call_quietly(function: Callable[[], Any]) -> BaseException | None:
    """Call ``function`` and return the exception it raised, if any."""
    try:
        function()
    except Exception as error:
        return error
    return None
