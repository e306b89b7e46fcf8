"""The async half: every repository method has an awaitable twin; the async fixtures isolate.

The repositories' behaviour on the async half is checked by the repository, race and fault
tests, which run on both halves (see ``halves``). Here: the API's shape, the async engine's
SQLite transactions, and the plugin's async fixtures and factories under pytest-asyncio.
"""

import asyncio
import inspect
import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from aana.configs.db import DbSettings
from aana.core.models import Video
from aana.exceptions.db import (
    CheckViolation,
    DatabaseConfigError,
    MediaIdAlreadyExistsException,
    TableMissingException,
    UniqueViolation,
)
from aana.storage import repository as sync_repository
from aana.storage.aio import repository as async_repository
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.aio.repository import (
    CaptionRepository,
    TaskRepository,
    VideoRepository,
    awaiting,
)
from aana.storage.aio.session import get_async_engine, get_async_session
from aana.storage.models import MediaEntity, Status, TaskEntity, VideoEntity
from aana.storage.session import get_session
from aana.testing.backends import TestDatabases, db_settings_for
from aana.testing.factories import CaptionEntityFactory, VideoEntityFactory

PAIRS = [
    (getattr(sync_repository, name), getattr(async_repository, name))
    for name in sync_repository.__all__
]


MODELS = {"BaseRepository": TaskEntity, "MediaRepository": MediaEntity}


def public_names(obj: object) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_") and name != "sync_class"}


@pytest.mark.parametrize(("sync_class", "async_class"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_public_method_has_an_awaitable_twin_with_its_signature(
    sync_class: type, async_class: type
) -> None:
    model = MODELS.get(sync_class.__name__)
    async_repo = async_class(AsyncSession(), *([model] if model else []))
    sync_repo = async_repo.sync
    assert type(sync_repo) is sync_class
    methods = {
        name for name in public_names(sync_repo) if inspect.ismethod(getattr(sync_repo, name))
    }
    assert public_names(async_repo) - {"sync"} == public_names(sync_repo)
    for name in methods:
        method = getattr(async_repo, name)
        assert inspect.iscoroutinefunction(method), name
        assert inspect.signature(method) == inspect.signature(getattr(sync_repo, name)), name
        assert method.__doc__ == getattr(sync_repo, name).__doc__


def test_a_twin_declared_under_another_name_is_refused() -> None:
    # Python 3.11 wraps an error of __set_name__ in a RuntimeError; 3.12 raises it as it is.
    with pytest.raises((TypeError, RuntimeError)) as raised:

        class Misnamed(TaskRepository):
            store = awaiting(sync_repository.TaskRepository.save)

    error = raised.value if isinstance(raised.value, TypeError) else raised.value.__cause__
    assert "Misnamed.store" in str(error) and "name it save" in str(error)


async def test_an_override_in_the_synchronous_subclass_is_what_runs(
    async_db_session: AsyncSession,
) -> None:
    class TitledVideos(sync_repository.VideoRepository[VideoEntity]):
        def save(self, video: Video) -> dict[str, str]:
            return super().save(video.model_copy(update={"title": "from the override"}))

    class AsyncTitledVideos(VideoRepository[VideoEntity]):
        sync_class = TitledVideos

    await AsyncTitledVideos(async_db_session).save(Video(media_id="overridden"))
    stored = await async_db_session.get(VideoEntity, "overridden")
    assert stored is not None and stored.title == "from the override"


async def test_sqlite_writes_take_the_lock_up_front_on_aiosqlite(
    async_transactional_db_engine: AsyncEngine,
) -> None:
    engine = async_transactional_db_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's BEGIN modes")
    assert engine.dialect.driver == "aiosqlite"
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    async with AsyncSession(engine) as session:
        assert await session.scalar(text("PRAGMA foreign_keys")) == 1
        assert await session.scalar(text("PRAGMA journal_mode")) == "wal"
        await session.rollback()
        statements.clear()
        await TaskRepository(session).save("/e", {})
        # The transaction rule: the unit committed, and left no transaction open.
        assert not session.in_transaction()
        await TaskRepository(session).count()
    assert statements[0] == "BEGIN IMMEDIATE", statements
    assert statements.count("BEGIN IMMEDIATE") == 1, statements
    assert "BEGIN DEFERRED" in statements  # the read


async def test_application_sessions_join_the_test_transaction(
    async_db_session: AsyncSession,
) -> None:
    await VideoRepository(async_db_session).save(Video(media_id="seen-by-app"))
    async with get_async_session() as app_session:
        assert await app_session.get(VideoEntity, "seen-by-app") is not None
        await VideoRepository(app_session).save(Video(media_id="written-by-app"))
    assert await async_db_session.get(VideoEntity, "written-by-app") is not None
    assert get_async_engine() is not None


@pytest.mark.parametrize("attempt", ["first", "second"])
async def test_committed_rows_do_not_survive_the_test(
    async_db_session: AsyncSession, attempt: str
) -> None:
    # Both runs see an empty table and commit the same id: the second would fail if the
    # first one's commit had survived.
    assert await async_db_session.scalar(select(func.count()).select_from(MediaEntity)) == 0
    await VideoRepository(async_db_session).save(Video(media_id="isolation-pair", title=attempt))
    await async_db_session.commit()
    async with get_async_session() as app_session:
        await app_session.commit()
        assert await app_session.get(VideoEntity, "isolation-pair") is not None


async def test_factories_write_through_the_async_session(async_db_session: AsyncSession) -> None:
    video = await VideoEntityFactory.acreate(title="awaited")
    captions = await CaptionEntityFactory.acreate_batch(3)
    assert (await async_db_session.get(VideoEntity, video.id)).title == "awaited"
    assert [caption.id for caption in captions] == sorted(caption.id for caption in captions)
    count = select(func.count()).select_from(MediaEntity)
    assert await async_db_session.scalar(count) == 1


async def test_a_factory_called_without_await_says_what_to_do_and_breaks_nothing(
    async_db_session: AsyncSession,
) -> None:
    with pytest.raises(RuntimeError, match=r"await VideoEntityFactory.acreate\(\.\.\.\)"):
        VideoEntityFactory(title="not awaited")
    video = await VideoEntityFactory.acreate()
    assert await VideoRepository(async_db_session).check_media_exists(video.id)


async def test_acreate_without_async_db_session_names_the_fixture(db_session: object) -> None:
    with pytest.raises(RuntimeError, match="async_db_session"):
        await VideoEntityFactory.acreate()


async def test_the_sync_half_is_refused_in_an_async_test_naming_the_async_one(
    async_db_session: AsyncSession,
) -> None:
    with pytest.raises(RuntimeError, match=r"get_session\(\) refused: this test holds async_db"):
        get_session()


def test_the_async_half_is_refused_in_a_sync_test_naming_the_sync_one(db_session: Session) -> None:
    with pytest.raises(RuntimeError, match=r"get_async_session\(\) refused: this test holds db_s"):
        get_async_session()


async def test_a_committing_engine_commits_for_real(
    async_transactional_db_engine: AsyncEngine, transactional_db_engine: Engine
) -> None:
    async with get_async_session() as session:
        await VideoRepository(session).save(Video(media_id="committed"))
    with transactional_db_engine.connect() as other:
        assert other.scalar(text("SELECT count(*) FROM video WHERE id = 'committed'")) == 1
    assert get_async_engine() is async_transactional_db_engine


async def test_code_written_for_the_async_aana_sdk_runs_with_only_its_imports_changed(
    async_db_session: AsyncSession,
) -> None:
    # The calls of the async Aana SDK's task queue and endpoints, keyword for keyword; only
    # `aana.storage` became `aana.storage.aio` in the imports above.
    from aana.storage.aio.repository.task import TaskRepository as AanaTaskRepository
    from aana.storage.aio.repository.video import VideoRepository as AanaVideoRepository
    from aana.storage.aio.session import get_db, get_session
    from aana.storage.models.task import Status as TaskStatus

    async with get_session() as session:
        repo = AanaTaskRepository(session)
        task = await repo.save(endpoint="/t", data={"x": 1}, user_id="u", priority=2)
        failed = await repo.save(endpoint="/t", data={}, priority=1)
        await repo.update_status(task_id=failed.id, status=TaskStatus.ASSIGNED)
        await repo.update_status(
            task_id=failed.id, status=TaskStatus.FAILED, progress=0, result={"error": "E"}
        )
        claimed = await repo.fetch_unprocessed_tasks(
            limit=5, max_retries=3, retryable_exceptions=["E"]
        )
        assert [t.id for t in claimed] == [task.id, failed.id]
        await repo.update_status(
            task_id=str(task.id), status=TaskStatus.RUNNING, progress=50, commit=False
        )
        await session.commit()
        assert [t.id for t in await repo.get_active_tasks()] == [task.id, failed.id]
        assert await repo.filter_incomplete_tasks([str(task.id)]) == [str(task.id)]
        expired = await repo.update_expired_tasks(
            execution_timeout=0, heartbeat_timeout=0, max_retries=1
        )
        assert {t.id for t in expired} == {task.id, failed.id}
        await repo.retry_task(str(task.id))
        assert (await repo.read(str(task.id))).status is TaskStatus.CREATED
        assert await repo.delete(str(task.id), check=True) is not None
        await AanaVideoRepository(session).save(Video(media_id="ported"))
    async for session in get_db():
        assert await AanaVideoRepository(session).check_media_exists("ported")


PROCESS_ENGINE_SCRIPT = """
import asyncio
from aana.core.models import Video
from aana.storage.aio.repository import VideoRepository
from aana.storage.aio.session import dispose_async_engine, get_async_engine, get_async_session

async def main():
    first = get_async_engine()
    assert get_async_engine() is first
    async with get_async_session() as session:
        await VideoRepository(session).save(Video(media_id="from-db-config", title="t"))
        video = await VideoRepository(session).read("from-db-config")
        await session.commit()
        assert video.title == "t"  # not expired by the commit: no await could load it
    await dispose_async_engine()
    second = get_async_engine()
    assert second is not first
    async with get_async_session() as session:
        print(await VideoRepository(session).check_media_exists("from-db-config"),
              second.dialect.driver)
    await dispose_async_engine()

asyncio.run(main())
"""


@pytest.mark.subprocesses
def test_the_process_engine_is_built_from_db_config_once_and_rebuilt_after_dispose(
    transactional_db_engine: Engine,
) -> None:
    # A process of its own: the plugin refuses DB_CONFIG's database inside the test run.
    settings = DbSettings.from_url(transactional_db_engine.url)
    env = {**os.environ, "DB_CONFIG": settings.model_dump_json()}
    done = subprocess.run(
        [sys.executable, "-c", PROCESS_ENGINE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    driver = "aiosqlite" if transactional_db_engine.dialect.name == "sqlite" else "psycopg"
    assert done.stdout.split() == ["True", driver]


def test_the_in_memory_database_is_refused_to_the_async_engine_naming_the_path() -> None:
    settings = DbSettings.from_url("sqlite:///:memory:")
    with pytest.raises(DatabaseConfigError, match=r"':memory:'.*use a database file"):
        create_async_database_engine(settings)


def every_column(entity: object) -> dict[str, object]:
    """Read every column attribute: in async code an expired one raises MissingGreenlet."""
    mapper = sa_inspect(entity).mapper
    return {attribute.key: getattr(entity, attribute.key) for attribute in mapper.column_attrs}


async def test_returned_entities_stay_readable_in_async_code_after_a_refused_write(
    async_db_session: AsyncSession,
) -> None:
    # Plain async code, not the both-halves bridge: a lazy load here raises MissingGreenlet.
    async with get_async_session() as session:
        videos, tasks = VideoRepository(session), TaskRepository(session)
        captions = CaptionRepository(session)
        task = await tasks.save("/e", {"n": 1})
        await videos.save(Video(media_id="kept", title="kept"))
        video = await videos.read("kept")
        saved = await captions.save_all("m", ["a", "b"], [0.0, 1.0], [0, 1])
        held = [task, video, *saved]
        with pytest.raises(MediaIdAlreadyExistsException):
            await videos.save(Video(media_id="kept"))
        with pytest.raises(CheckViolation):
            await captions.save("m", "negative frame", 1.0, -1)
        with pytest.raises(UniqueViolation):
            await tasks.create_multiple([TaskEntity(id=task.id, endpoint="/e", data={})])
        for entity in held:
            assert every_column(entity)["id"] is not None
        assert every_column(video)["title"] == "kept"


async def test_every_method_returns_entities_readable_in_async_code(
    async_db_session: AsyncSession,
) -> None:
    async with get_async_session() as session:
        tasks, videos = TaskRepository(session), VideoRepository(session)
        returned: list[object] = []
        saved = await tasks.save("/e", {"n": 1}, priority=1)
        returned += [saved, *await tasks.create_multiple([TaskEntity(endpoint="/e", data={})])]
        returned += await tasks.fetch_unprocessed_tasks(limit=1)
        returned += [await tasks.update_status(saved.id, Status.RUNNING, progress=5.0)]
        returned += await tasks.get_active_tasks()
        returned += await tasks.get_tasks()
        returned += await tasks.update_expired_tasks(0, 0, max_retries=5)
        returned += [await tasks.retry_task(saved.id), await tasks.read(saved.id)]
        returned += [await tasks.delete(saved.id)]
        returned += await videos.create_multiple([VideoEntity(id="v1"), VideoEntity(id="v2")])
        returned += [await videos.read("v1"), await videos.delete("v2")]
        returned += [await CaptionRepository(session).save("m", "c", 0.5, 15)]
        assert len(returned) >= 12
        for entity in returned:
            every_column(entity)


async def test_a_cancelled_call_leaves_its_session_ready_for_the_next(
    async_transactional_db_engine: AsyncEngine,
) -> None:
    if async_transactional_db_engine.dialect.name != "postgresql":
        # sqlite3 cannot interrupt a wait for the write lock: a cancelled call there ends
        # when the busy timeout does, or the lock is released.
        pytest.skip("PostgreSQL: a row lock another session holds, and a cancelled wait for it")
    async with get_async_session() as session:
        task = await TaskRepository(session).save("/e", {})
        await TaskRepository(session).update_status(task.id, Status.ASSIGNED)
    async with get_async_session() as locker, get_async_session() as session:
        await locker.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": task.id})
        tasks = TaskRepository(session)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(tasks.update_status(task.id, Status.RUNNING), 0.5)
        assert not session.in_transaction()
        await locker.rollback()
        assert (await tasks.update_status(task.id, Status.RUNNING)).status is Status.RUNNING
    async with get_async_session() as other:
        assert (await TaskRepository(other).read(task.id)).status is Status.RUNNING


async def test_concurrent_app_sessions_take_turns_on_the_tests_connection(
    async_db_session: AsyncSession,
) -> None:
    async def handle_request(n: int) -> int:
        async with get_async_session() as session:
            tasks = TaskRepository(session)
            for _ in range(5):
                await tasks.save("/e", {"request": n})
            return (await tasks.count())["total"]

    totals = await asyncio.gather(*(handle_request(n) for n in range(4)))
    assert sorted(totals)[-1] == 20
    assert (await TaskRepository(async_db_session).count())["total"] == 20


async def test_an_async_session_given_to_a_sync_repository_names_the_async_one(
    async_db_session: AsyncSession,
) -> None:
    with pytest.raises(TypeError, match=r"aana\.storage\.aio\.repository\.VideoRepository"):
        sync_repository.VideoRepository(async_db_session)  # type: ignore[arg-type]


@pytest.mark.parametrize("on_half", ["sync", "async"])
def test_an_unmigrated_database_says_to_migrate(
    aana_test_databases: TestDatabases, on_half: str
) -> None:
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    try:
        if on_half == "sync":
            with Session(engine) as session, pytest.raises(TableMissingException) as raised:
                sync_repository.VideoRepository(session).save(Video(media_id="nowhere"))
        else:

            async def save() -> None:
                async_engine = create_async_database_engine(db_settings_for(engine.url))
                try:
                    async with AsyncSession(async_engine) as session:
                        await VideoRepository(session).save(Video(media_id="nowhere"))
                finally:
                    await async_engine.dispose()

            with pytest.raises(TableMissingException) as raised:
                asyncio.run(save())
    finally:
        aana_test_databases.drop(engine)
    assert "aana migrate" in str(raised.value)
    assert raised.value.table_name in {"media", "video"}
