"""The header names the backend and its server; a server that is down stops the run once."""

import pytest
from plugin_runs import run_plugin, suite_server_url
from sqlalchemy.engine import make_url

from aana.testing.settings import plugin_settings

pytestmark = pytest.mark.subprocesses


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("AANA_TEST_DB", raising=False)
    monkeypatch.delenv("AANA_TEST_POSTGRES_URL", raising=False)
    pytester.makepyfile(test_db="def test_one(db_session):\n    pass\n")
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "aana.testing", "-p", "no:cacheprovider", *args)


def test_sqlite_is_named_and_a_url_it_ignores_is_a_warning(project: pytest.Pytester) -> None:
    result = run(project, "--aana-postgres-url=postgresql://u:topsecret@h/db")
    result.stdout.fnmatch_lines(
        [
            "aana: backend sqlite*",
            "aana: WARNING: a PostgreSQL URL is given*but the backend is sqlite*--aana-db "
            "postgresql",
        ]
    )
    assert "topsecret" not in result.stdout.str()
    result.assert_outcomes(passed=1)


def test_the_server_url_is_named_with_its_password_masked(
    project: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    url = suite_server_url(pytestconfig)
    if plugin_settings(pytestconfig).backend != "postgresql" or not url:
        pytest.skip("needs the PostgreSQL server the suite runs on")
    # Servers on trust authentication ignore the password.
    with_password = make_url(url).set(password="topsecret")
    result = run(
        project,
        "--aana-db=postgresql",
        f"--aana-postgres-url={with_password.render_as_string(False)}",
    )
    host = f"{with_password.host}:{with_password.port or 5432}"
    result.stdout.fnmatch_lines([f"aana: backend postgresql, server from the URL *:***@{host}*"])
    assert "topsecret" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)


def test_reuse_is_named(project: pytest.Pytester, pytestconfig: pytest.Config) -> None:
    result = run_plugin(project, pytestconfig, "--co", "--aana-reuse-db", "--aana-create-db")
    result.stdout.fnmatch_lines(
        ["aana: migrated template kept across runs (--aana-reuse-db, rebuilt once in this run)"]
    )


def test_a_refused_connection_stops_the_run_once(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_more="def test_two(db_session):\n    pass\n\ndef test_three(db_session):\n    pass\n"
    )
    result = run(
        project,
        "--aana-db=postgresql",
        "--aana-postgres-url=postgresql://u:topsecret@127.0.0.1:1/x",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count("cannot connect to PostgreSQL at 127.0.0.1:1") == 1
    for way in ("--aana-postgres-url", "AANA_TEST_POSTGRES_URL", "pg_ctl", "Docker"):
        assert way in output
    assert "within 5s" not in output
    assert "topsecret" not in output
