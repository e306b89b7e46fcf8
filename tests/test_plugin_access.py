"""Database access outside a test database is refused; the aana_db marker grants it."""

import pytest
from plugin_runs import run_plugin
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from aana.storage.models import VideoEntity
from aana.storage.session import get_engine, get_session
from aana.testing.factories import VideoEntityFactory


@pytest.mark.parametrize("call", [get_session, get_engine], ids=["get_session", "get_engine"])
def test_a_test_without_a_database_is_refused_naming_the_ways_in(call: object) -> None:
    with pytest.raises(RuntimeError) as refused:
        call()  # type: ignore[operator]
    message = str(refused.value)
    for way in ("db_session", "transactional_db_engine", "@pytest.mark.aana_db", "DB_CONFIG"):
        assert way in message


def test_get_engine_in_a_db_session_test_is_the_test_database(
    db_session: Session, db_engine: Engine
) -> None:
    assert get_engine() is db_engine


@pytest.mark.aana_db
def test_the_marker_gives_the_test_db_session() -> None:
    VideoEntityFactory(id="marked")
    with get_session() as session:
        assert session.get(VideoEntity, "marked") is not None


@pytest.mark.aana_db(transaction=True)
def test_the_transaction_marker_gives_real_commits() -> None:
    with get_session() as session:
        session.add(VideoEntity(id="committed-by-marker"))
        session.commit()
    with get_engine().connect() as other:
        found = other.scalar(select(func.count()).select_from(VideoEntity))
    assert found == 1


@pytest.mark.subprocesses
def test_a_marker_with_an_unknown_argument_names_it(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    pytester.makepyfile(
        test_marked="import pytest\n\n@pytest.mark.aana_db(transactions=True)\n"
        "def test_marked():\n    pass\n"
    )
    result = run_plugin(pytester, pytestconfig, "--strict-markers")
    result.stdout.fnmatch_lines(["*aana_db on test_marked.py::test_marked takes only*"])
    assert result.ret != pytest.ExitCode.OK


@pytest.mark.subprocesses
def test_a_plugin_run_writes_nothing_to_the_database_db_config_names(
    pytester: pytest.Pytester, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev_db = pytester.path / "dev.db"
    monkeypatch.setenv("DB_CONFIG", f'{{"datastore_config": {{"path": "{dev_db}"}}}}')
    pytester.makepyfile(
        test_app="""
        from sqlalchemy import text
        from aana.storage.session import get_session

        def test_forgot_the_fixture():
            with get_session() as session:
                session.execute(text("CREATE TABLE leaked (id INTEGER)"))
                session.commit()
        """
    )
    result = run_plugin(pytester, pytestconfig)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*get_session() refused*Request the db_session fixture*"])
    assert not dev_db.exists()


def test_raw_sql_still_works_on_the_test_connection(db_session: Session) -> None:
    assert db_session.scalar(text("SELECT 1")) == 1
