"""The async fixtures from the outside: a user's suite in pytest-asyncio's strict mode, anyio.

Nested pytest runs, on the suite's backend, of a project that has only the plugin and its
tests: nothing of ours configures pytest-asyncio for it.
"""

import asyncio
import re
from pathlib import Path

import pytest
from plugin_runs import run_plugin
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(containing: str) -> str:
    """The README's python block that contains ``containing``."""
    blocks = re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)
    (block,) = [block for block in blocks if containing in block]
    return block


USER_TESTS = """
import pytest
from sqlalchemy import text

from aana.core.models import Video
from aana.storage.aio.repository import TaskRepository, VideoRepository
from aana.storage.aio.session import get_async_session
from aana.testing.factories import TaskEntityFactory, VideoEntityFactory


async def app_saves(media_id):
    # Application code: opens its own session, as a request handler would.
    async with get_async_session() as session:
        await VideoRepository(session).save(Video(media_id=media_id))


@pytest.mark.asyncio
async def test_app_code_writes_into_the_tests_transaction(async_db_session):
    await app_saves("from-the-app")
    assert await VideoRepository(async_db_session).check_media_exists("from-the-app")
    task = await TaskEntityFactory.acreate()
    claimed = await TaskRepository(async_db_session).fetch_unprocessed_tasks()
    assert [t.id for t in claimed] == [task.id]


@pytest.mark.asyncio
async def test_and_nothing_survived_it(async_db_session):
    assert not await VideoRepository(async_db_session).check_media_exists("from-the-app")
    assert await TaskRepository(async_db_session).count() == {
        **{s: 0 for s in ("created", "assigned", "completed", "running", "failed",
                          "not_finished")}, "total": 0}


@pytest.mark.asyncio
@pytest.mark.aana_db
async def test_the_marker_gives_an_async_test_the_async_session():
    await app_saves("marked")
    async with get_async_session() as session:
        assert await VideoRepository(session).check_media_exists("marked")


@pytest.mark.asyncio
async def test_without_a_test_database_the_app_is_refused():
    with pytest.raises(RuntimeError, match="get_async_session.. refused: .*async_db_session"):
        get_async_session()


async def test_forgot_the_marker(async_db_session):
    pass


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_under_anyio(async_db_session):
    video = await VideoEntityFactory.acreate(title="anyio")
    await app_saves("anyio-app")
    async with get_async_session() as session:
        found = await VideoRepository(session).read(video.id)
        assert found.title == "anyio"
        assert await VideoRepository(session).check_media_exists("anyio-app")
"""


@pytest.mark.subprocesses
def test_a_users_async_tests_in_pytest_asyncios_strict_mode_and_under_anyio(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    pytester.makepyfile(
        test_user=USER_TESTS,
        test_readme=readme_block("async def test_metadata(async_db_session)"),
    )
    # No ini file: pytest-asyncio's default, strict mode; the README's test as it is needs
    # auto mode, which an ini key or, as here, the command line selects.
    result = run_plugin(pytester, pytestconfig, "test_user.py")
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_forgot_the_marker is an async test with async_db_session*mark it, or set*"]
    )
    result = run_plugin(pytester, pytestconfig, "-o", "asyncio_mode=auto", "test_readme.py")
    result.assert_outcomes(passed=1)
    # anyio's plugin alone runs the async fixture itself, in the test's loop.
    result = run_plugin(pytester, pytestconfig, "-p", "no:asyncio", "-k", "anyio", "test_user.py")
    result.assert_outcomes(passed=1, deselected=5)


def test_the_readmes_async_example_saves_a_video(
    async_transactional_db_engine: AsyncEngine, transactional_db_engine: Engine
) -> None:
    namespace: dict[str, object] = {}
    exec(readme_block("async def save_video"), namespace)
    media_id = asyncio.run(namespace["save_video"]("https://example.com/v.mp4"))  # type: ignore[operator]
    with transactional_db_engine.connect() as connection:
        stored = connection.scalar(text("SELECT url FROM video WHERE id = :id"), {"id": media_id})
    assert stored == "https://example.com/v.mp4"
