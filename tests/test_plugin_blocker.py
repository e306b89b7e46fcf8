"""The aana_db_blocker fixture: a session fixture lifts the block to seed the test database.

The seeding fixture is docs/testing.md's own example, run as the conftest of a nested run on
the suite's backend, with ``DB_CONFIG`` naming a database that must never be created.
"""

import re
import sqlite3
from pathlib import Path

import pytest
from plugin_runs import run_plugin

from aana.testing.blocker import DbBlocker

PAGE = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
MARKER = "<!-- conftest.py, run by tests/test_plugin_blocker.py -->"

SEEDED_TESTS = """
import pytest
from sqlalchemy import select

from aana.configs.settings import load_settings
from aana.storage.aio.session import get_async_session
from aana.storage.models import VideoEntity
from aana.storage.session import get_session


def test_a_test_finds_the_seeded_videos(catalogue, db_session):
    assert sorted(db_session.scalars(select(VideoEntity.id))) == catalogue
    db_session.delete(db_session.get(VideoEntity, "intro"))
    db_session.commit()  # rolled back after the test, to the seeded state


def test_the_next_test_starts_from_them_again(catalogue, db_session):
    with get_session() as session:
        assert sorted(session.scalars(select(VideoEntity.id))) == catalogue


def test_outside_the_fixture_access_is_blocked_again(catalogue):
    with pytest.raises(RuntimeError, match="get_session\\\\(\\\\) refused"):
        get_session()


def test_within_unblock_the_configured_database_is_the_engines(db_engine, aana_db_blocker):
    with aana_db_blocker.unblock(db_engine):
        assert load_settings().db_config.get_engine() is db_engine
        with pytest.raises(RuntimeError, match="the async half stays refused"):
            get_async_session()
"""

UNBLOCK_TESTS = """
import pytest
from sqlalchemy import text

from aana.storage.session import get_engine, get_session

REFUSED = "get_engine\\\\(\\\\) refused"


def test_unblock_reaches_the_configured_database_until_the_with_block_ends(aana_db_blocker):
    with aana_db_blocker.unblock():
        with get_session() as session:
            session.execute(text("CREATE TABLE reached (id INTEGER)"))
            session.commit()
        with aana_db_blocker.block():
            with pytest.raises(RuntimeError, match=REFUSED):
                get_engine()
        get_engine()
    with pytest.raises(RuntimeError, match=REFUSED):
        get_engine()


@pytest.fixture
def unblocked(request, aana_db_blocker):
    aana_db_blocker.unblock()
    request.addfinalizer(aana_db_blocker.restore)


def test_an_unblock_without_with_lasts_until_restore(unblocked):
    get_engine()


def test_the_block_is_back_after_restore():
    with pytest.raises(RuntimeError, match=REFUSED):
        get_engine()
"""


def documented_conftest() -> str:
    """The python block that follows the marker in docs/testing.md."""
    page = PAGE.read_text()
    found = re.search(re.escape(MARKER) + r"\n```python\n(.*?)^```$", page, re.M | re.S)
    assert found, f"docs/testing.md has no python block after {MARKER}"
    return found.group(1)


@pytest.mark.subprocesses
def test_a_session_fixture_seeds_the_test_database_through_get_session(
    pytester: pytest.Pytester, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev_db = pytester.path / "dev.db"
    monkeypatch.setenv("DB_CONFIG", f'{{"datastore_config": {{"path": "{dev_db}"}}}}')
    pytester.makeconftest(documented_conftest())
    pytester.makepyfile(test_app=SEEDED_TESTS)
    result = run_plugin(pytester, pytestconfig)
    result.assert_outcomes(passed=4)
    assert not dev_db.exists()


@pytest.mark.subprocesses
def test_unblock_without_an_engine_lifts_the_block_until_restored(
    pytester: pytest.Pytester, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev_db = pytester.path / "dev.db"
    monkeypatch.setenv("DB_CONFIG", f'{{"datastore_config": {{"path": "{dev_db}"}}}}')
    pytester.makepyfile(test_app=UNBLOCK_TESTS)
    result = run_plugin(pytester, pytestconfig)
    result.assert_outcomes(passed=3)
    with sqlite3.connect(dev_db) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert tables == ["reached"]


def test_restore_with_nothing_to_undo_says_so() -> None:
    with pytest.raises(RuntimeError, match="no block\\(\\) or unblock\\(\\) to undo"):
        DbBlocker().restore()
