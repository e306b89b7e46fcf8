"""Fault 5 of issue 10: a lost PostgreSQL connection fails one call, never the session.

The call during which the connection is lost raises ``ConnectionLostException``; the next call
on the same session works, and nothing committed is lost. Two ways to lose it: a server of
the test's own is stopped and restarted (the shared server is never touched), and the backends
of the test's database are terminated while a session is mid-transaction.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from either import TaskRepository, VideoRepository, open_session, remember_settings
from halves import Half
from reliability_workers import settings_for, terminate_backends
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session
from transaction_rule_support import MEDIA, connection_lost_exception, raw_media_ids

from aana.core.models import Video
from aana.exceptions.db import DatabaseException
from aana.storage import repository as sync_repository
from aana.storage.engine import create_database_engine
from aana.storage.migrations import alembic_config, upgrade
from aana.storage.models.task import Status
from aana.testing.pg_ctl_server import ThrowawayServer, Unavailable, throwaway_server
from aana.testing.settings import plugin_settings


def require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            f"PostgreSQL only: a lost server connection; this run is on {engine.dialect.name}"
        )


def assert_connection_lost(call: Callable[[], Any]) -> BaseException:
    """``call`` must raise ``aana.exceptions.db.ConnectionLostException``."""
    try:
        call()
    except Exception as error:
        lost = connection_lost_exception(error)
        assert isinstance(error, lost), f"raised {type(error).__name__}: {error}"
        return error
    pytest.fail("the call succeeded although its connection was lost")


def refused(call: Callable[[], Any]) -> None:
    """With the server down: ``ConnectionLostException``, or another aana error, never a raw one."""
    try:
        call()
    except DatabaseException:
        return
    except Exception as error:
        connection_lost_exception(error)
        pytest.fail(f"not an aana error: {type(error).__name__}: {error}")
    pytest.fail("the call succeeded with the server down")


def lost_or_fine(call: Callable[[], Any]) -> None:
    """``call`` either succeeds or raises ``ConnectionLostException``; nothing else."""
    try:
        call()
    except Exception as error:
        lost = connection_lost_exception(error)
        assert isinstance(error, lost), f"raised {type(error).__name__}: {error}"


# --- a server of our own, stopped and restarted --------------------------------------------------


@pytest.fixture(scope="module")
def server(pytestconfig: pytest.Config) -> Iterator[ThrowawayServer]:
    if plugin_settings(pytestconfig).backend != "postgresql":
        pytest.skip("PostgreSQL only: runs in the suite's postgresql run")
    try:
        with throwaway_server() as started:
            engine = create_database_engine(settings_for(started.url))
            try:
                upgrade(engine, alembic_config())
            finally:
                engine.dispose()
            yield started
    except Unavailable as reason:
        pytest.skip(f"cannot start a PostgreSQL server of our own: {reason}")


@pytest.fixture
def own_engine(server: ThrowawayServer) -> Iterator[Engine]:
    settings = settings_for(server.url, connect_timeout=5)
    engine = remember_settings(create_database_engine(settings), settings)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE media, tasks CASCADE"))
    yield engine
    engine.dispose()


def test_server_down_then_up_between_calls(
    server: ThrowawayServer, own_engine: Engine, half: Half
) -> None:
    with open_session(own_engine, expire_on_commit=False) as session:
        videos, tasks = VideoRepository(session), TaskRepository(session)
        videos.save(Video(media_id="before"))
        task_id = tasks.save("ep", {"n": 1}).id
        server.stop()
        try:
            # The pooled connection is dead and a new one is refused.
            refused(lambda: videos.check_media_exists("before"))
            refused(lambda: videos.save(Video(media_id="during")))
            refused(lambda: tasks.update_status(task_id, Status.RUNNING))
        finally:
            server.start()
        assert videos.save(Video(media_id="after")) == {"media_id": "after"}
        assert videos.check_media_exists("before")
        assert tasks.read(task_id).status == Status.CREATED
        assert not session.in_transaction()
    assert raw_media_ids(own_engine) == {"before", "after"}


def test_server_restarted_between_calls(
    server: ThrowawayServer, own_engine: Engine, half: Half
) -> None:
    with open_session(own_engine, expire_on_commit=False) as session:
        videos = VideoRepository(session)
        videos.save(Video(media_id="before"))
        assert videos.check_media_exists("before")  # a read: the old rule left it open
        server.restart()
        # The session holds no connection, so the pool replaces the dead one: no error at all.
        assert videos.save(Video(media_id="after")) == {"media_id": "after"}
        assert videos.check_media_exists("before")
    assert raw_media_ids(own_engine) == {"before", "after"}


def test_server_restarted_inside_the_callers_transaction(
    server: ThrowawayServer, own_engine: Engine, half: Half
) -> None:
    with open_session(own_engine, expire_on_commit=False) as session:
        videos = VideoRepository(session)
        videos.save(Video(media_id="before"))

        def in_a_transaction() -> None:
            with session.begin():
                videos.save(Video(media_id="uncommitted"))
                server.restart()
                videos.save(Video(media_id="cut-off"))

        assert_connection_lost(in_a_transaction)
        assert videos.save(Video(media_id="after")) == {"media_id": "after"}
    assert raw_media_ids(own_engine) == {"before", "after"}


# --- backends terminated mid-transaction, on the shared server ---------------------------------


@pytest.fixture
def engine(transactional_db_engine: Engine) -> Engine:
    require_postgres(transactional_db_engine)
    return transactional_db_engine


@pytest.fixture
def session(engine: Engine, half: Half) -> Iterator[Session]:
    with Session(engine) as setup:
        sync_repository.VideoRepository(setup).save(Video(media_id="committed"))
    with half.session(engine, expire_on_commit=False) as session:
        yield session


def test_terminated_after_a_repository_read(engine: Engine, session: Session) -> None:
    """The landed fault: a read, a terminated backend, then PendingRollbackError forever."""
    videos = VideoRepository(session)
    assert videos.check_media_exists("committed")
    terminate_backends(engine)
    lost_or_fine(lambda: videos.save(Video(media_id="next")))
    assert videos.save(Video(media_id="after")) == {"media_id": "after"}
    assert videos.check_media_exists("committed")
    assert {"committed", "after"} <= raw_media_ids(engine)
    assert not session.in_transaction()


def test_terminated_after_the_callers_plain_read(engine: Engine, session: Session) -> None:
    session.execute(select(MEDIA.c.id))  # autobegun by SQLAlchemy
    assert terminate_backends(engine) >= 1
    lost_or_fine(lambda: TaskRepository(session).count())
    assert TaskRepository(session).save("ep", {}).id is not None
    assert VideoRepository(session).check_media_exists("committed")
    assert not session.in_transaction()


def test_terminated_after_the_callers_plain_write(engine: Engine, session: Session) -> None:
    """The call must commit the caller's write first; it cannot, so it says so."""
    session.execute(insert(MEDIA).values(id="callers-row", media_type="media"))
    assert terminate_backends(engine) >= 1
    assert_connection_lost(lambda: VideoRepository(session).save(Video(media_id="next")))
    assert VideoRepository(session).save(Video(media_id="after")) == {"media_id": "after"}
    assert raw_media_ids(engine) == {"committed", "after"}
    assert not session.in_transaction()


def test_terminated_inside_the_callers_transaction(engine: Engine, session: Session) -> None:
    videos = VideoRepository(session)

    def in_a_transaction() -> None:
        with session.begin():
            assert videos.read("committed") is not None
            videos.save(Video(media_id="uncommitted"))
            assert terminate_backends(engine) >= 1
            videos.check_media_exists("committed")

    assert_connection_lost(in_a_transaction)
    assert videos.save(Video(media_id="after")) == {"media_id": "after"}
    assert videos.read("committed") is not None
    assert raw_media_ids(engine) == {"committed", "after"}


def test_terminated_after_update_status_without_commit(engine: Engine, session: Session) -> None:
    tasks = TaskRepository(session)
    task_id = tasks.save("ep", {}).id
    tasks.update_status(task_id, Status.ASSIGNED)
    tasks.update_status(task_id, Status.RUNNING, commit=False)
    assert terminate_backends(engine) >= 1
    assert_connection_lost(lambda: tasks.update_status(task_id, Status.COMPLETED, commit=False))
    session.rollback()  # the caller's transaction: the caller ends it
    assert tasks.read(task_id).status == Status.ASSIGNED
    assert tasks.update_status(task_id, Status.COMPLETED).status == Status.COMPLETED
