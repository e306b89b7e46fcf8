"""The aana.testing plugin: options, server selection, factories and fixture lifecycles."""

import importlib.metadata
import textwrap

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from aana.storage.models import CaptionEntity, VideoEntity
from aana.storage.repository import VideoRepository
from aana.storage.session import get_session
from aana.testing.factories import CaptionEntityFactory, VideoEntityFactory
from aana.testing.isolation import current_session
from aana.testing.postgres_server import PostgresSource, choose_source

PRINT_OPTIONS = """
from aana.testing.options import DB, POSTGRES_URL, get_option

def pytest_report_header(config):
    return ["DB=" + str(get_option(config, DB)), "URL=" + str(get_option(config, POSTGRES_URL))]
"""


def run_pytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "aana.testing", "-p", "no:cacheprovider", *args)


@pytest.fixture
def option_probe(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("AANA_TEST_DB", raising=False)
    monkeypatch.delenv("AANA_TEST_POSTGRES_URL", raising=False)
    pytester.makeconftest(PRINT_OPTIONS)
    return pytester


@pytest.mark.subprocesses
def test_option_defaults(option_probe: pytest.Pytester) -> None:
    result = run_pytest(option_probe, "--co")
    result.stdout.fnmatch_lines(["*DB=sqlite*", "*URL=None*"])


@pytest.mark.subprocesses
def test_cli_beats_env_beats_ini(
    option_probe: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    option_probe.makeini(
        "[pytest]\naana_db = postgresql\naana_postgres_url = postgresql://ini@h/db\n"
    )
    run_pytest(option_probe, "--co").stdout.fnmatch_lines(
        ["*DB=postgresql*", "*URL=postgresql://ini@h/db*"]
    )
    monkeypatch.setenv("AANA_TEST_POSTGRES_URL", "postgresql://env@h/db")
    monkeypatch.setenv("AANA_TEST_DB", "sqlite")
    run_pytest(option_probe, "--co").stdout.fnmatch_lines(
        ["*DB=sqlite*", "*URL=postgresql://env@h/db*"]
    )
    result = run_pytest(
        option_probe, "--co", "--aana-db=postgresql", "--aana-postgres-url=postgresql://cli@h/db"
    )
    result.stdout.fnmatch_lines(["*DB=postgresql*", "*URL=postgresql://cli@h/db*"])


@pytest.mark.subprocesses
def test_unknown_backend_is_a_usage_error(option_probe: pytest.Pytester) -> None:
    result = run_pytest(option_probe, "--aana-db=oracle")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--aana-db / AANA_TEST_DB / aana_db: unknown backend 'oracle'*"])


@pytest.mark.subprocesses
def test_unreachable_server_fails_fast_naming_host_and_port(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db="def test_db(db_session):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p",
        "aana.testing",
        "--aana-db=postgresql",
        "--aana-postgres-url=postgresql://postgres:topsecret@127.0.0.1:1/postgres",
        timeout=60,
    )
    assert result.ret != pytest.ExitCode.OK
    output = result.stdout.str() + result.stderr.str()
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in output
    assert "topsecret" not in output


def test_plugin_is_not_registered_through_an_entry_point() -> None:
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert not [plugin for plugin in plugins if plugin.value.startswith("aana")]


@pytest.mark.subprocesses
def test_pytest_p_loads_the_plugin_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With every installed plugin, as an app's run has them (conftest.py blocks two).
    monkeypatch.delenv("PYTEST_ADDOPTS")
    pytester.makeconftest('pytest_plugins = ["aana.testing"]')
    pytester.makepyfile(test_one="def test_one(db_session):\n    pass\n")
    result = run_pytest(pytester)
    result.assert_outcomes(passed=1)


class TestChooseSource:
    def never(self) -> bool:
        raise AssertionError("docker must not be probed when an earlier source applies")

    def test_url_wins(self) -> None:
        assert (
            choose_source("auto", "postgresql://x", "/bin/pg_ctl", False, self.never)
            is PostgresSource.URL
        )

    def test_pg_ctl_when_not_root(self) -> None:
        source = choose_source("auto", None, "/bin/pg_ctl", False, self.never)
        assert source is PostgresSource.PG_CTL

    def test_pg_ctl_as_root_too(self) -> None:
        # Root runs the server as nobody, so a Docker engine is not needed for it.
        source = choose_source("auto", None, "/bin/pg_ctl", True, self.never)
        assert source is PostgresSource.PG_CTL

    def test_container_when_pg_ctl_is_missing_and_docker_answers(self) -> None:
        yes = lambda: True  # noqa: E731
        assert choose_source("auto", None, None, False, yes) is PostgresSource.CONTAINER
        assert choose_source("auto", None, None, True, yes) is PostgresSource.CONTAINER

    def test_none_names_the_three_ways(self) -> None:
        with pytest.raises(pytest.UsageError) as raised:
            choose_source("auto", None, None, True, lambda: False)
        message = str(raised.value)
        for way in ("--aana-postgres-url", "AANA_TEST_POSTGRES_URL", "pg_ctl", "Docker"):
            assert way in message
        assert "/usr/lib/postgresql/*/bin" in message

    def test_forced_container_skips_a_given_url(self) -> None:
        assert (
            choose_source("container", "postgresql://x", "/bin/pg_ctl", False, lambda: True)
            is PostgresSource.CONTAINER
        )

    def test_forced_pg_ctl_skips_a_given_url(self) -> None:
        assert (
            choose_source("pg_ctl", "postgresql://x", "/bin/pg_ctl", False, self.never)
            is PostgresSource.PG_CTL
        )

    @pytest.mark.parametrize(
        ("requested", "url", "pg_ctl", "root", "expected"),
        [
            ("url", None, "/bin/pg_ctl", False, "is url, but no URL is given"),
            ("pg_ctl", None, None, False, "is pg_ctl, but pg_ctl is neither on the PATH nor in"),
            ("container", "postgresql://x", None, False, "is container, but no Docker engine"),
        ],
    )
    def test_a_forced_source_that_cannot_be_used_says_why(
        self, requested: str, url: str | None, pg_ctl: str | None, root: bool, expected: str
    ) -> None:
        with pytest.raises(pytest.UsageError, match=expected) as raised:
            choose_source(requested, url, pg_ctl, root, lambda: False)
        assert "--aana-postgres-source" in str(raised.value)


def test_factories_write_through_the_test_session(db_session: Session) -> None:
    video = VideoEntityFactory()
    captions = CaptionEntityFactory.create_batch(3)
    assert db_session.get(VideoEntity, video.id) is video
    assert [caption.frame_id for caption in captions] == sorted(c.frame_id for c in captions)
    assert db_session.scalar(select(func.count()).select_from(CaptionEntity)) == 3


class TitledVideoFactory(VideoEntityFactory):
    """A factory an app would write by subclassing ours."""

    title = "fixed title"


def test_subclassed_factories_are_bound_too(db_session: Session) -> None:
    video = TitledVideoFactory()
    assert db_session.get(VideoEntity, video.id).title == "fixed title"


def test_factories_outside_a_database_test_say_what_is_missing() -> None:
    with pytest.raises(RuntimeError, match="request the db_session fixture"):
        current_session()


def test_transactional_engine_commits_for_real(transactional_db_engine: Engine) -> None:
    with get_session() as session:
        session.add(VideoEntity(id="committed"))
        session.commit()
    with transactional_db_engine.connect() as other:
        assert other.scalar(text("SELECT count(*) FROM video WHERE id = 'committed'")) == 1


@pytest.mark.parametrize("attempt", ["first", "second"])
def test_transactional_databases_start_empty(transactional_db_engine: Engine, attempt: str) -> None:
    with transactional_db_engine.begin() as connection:
        assert connection.scalar(text("SELECT count(*) FROM media")) == 0
        connection.execute(
            text(
                "INSERT INTO media (id, media_type, created_at, updated_at) "
                "VALUES ('same-id', 'media', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


@pytest.mark.subprocesses
def test_xdist_workers_share_one_template(
    pytester: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    pytester.makepyfile(
        test_many=textwrap.dedent(
            """
            import pytest
            from aana.testing.factories import VideoEntityFactory

            @pytest.mark.parametrize("n", range(6))
            def test_video(db_session, n):
                VideoEntityFactory(id=f"same-{n % 2}")
            """
        )
    )
    args = [f"--aana-db={request.config.getoption('aana_db') or 'sqlite'}"]
    url = request.config.getoption("aana_postgres_url")
    if url:
        args.append(f"--aana-postgres-url={url}")
    result = run_pytest(pytester, "-n", "2", *args)
    result.assert_outcomes(passed=6)


@pytest.mark.subprocesses
def test_without_the_plugin_db_session_is_not_found(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(db_session):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*fixture 'db_session' not found*"])


def test_the_readme_example(db_session: Session) -> None:
    video = VideoEntityFactory(title="A walk")
    assert VideoRepository(db_session).get_metadata(video.id).title == "A walk"
