"""A malformed PostgreSQL URL is one usage error naming the option, its password masked."""

import pytest

SECRET = "s3cr3t"

MALFORMED = {
    "port not a number": (
        f"postgresql://postgres:{SECRET}@127.0.0.1:abc/postgres",
        "postgresql://postgres:***@127.0.0.1:abc/postgres: the port is not a number",
    ),
    "unescaped @ in the password": (
        f"postgresql://postgres:{SECRET}@x@127.0.0.1:5432/postgres",
        "postgresql://postgres:***@127.0.0.1:5432/postgres: the user or password holds an "
        "unescaped '@'*",
    ),
    "unescaped @ and : in the password": (
        f"postgresql://postgres:{SECRET}:@x:1@127.0.0.1/postgres",
        "postgresql://postgres:***@127.0.0.1/postgres: the user or password holds an "
        "unescaped '@'*",
    ),
    "mysql": (
        f"mysql://root:{SECRET}@127.0.0.1/app",
        "mysql://root:***@127.0.0.1/app is not a postgresql:// URL",
    ),
}

OPTION = "--aana-postgres-url / AANA_TEST_POSTGRES_URL / aana_postgres_url"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "aana.testing", "-p", "no:cacheprovider", "--aana-db=postgresql", *args, timeout=60
    )


def assert_one_usage_error(result: pytest.RunResult, expected: str) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    result.stderr.fnmatch_lines([f"ERROR: {OPTION}: {expected}"])
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    assert output.count(OPTION) == 1, output
    assert SECRET not in output


@pytest.mark.subprocesses
@pytest.mark.parametrize(("url", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_url_on_the_command_line(
    pytester: pytest.Pytester, url: str, expected: str
) -> None:
    pytester.makepyfile(test_db="def test_db(db_session):\n    pass\n")
    assert_one_usage_error(run(pytester, f"--aana-postgres-url={url}"), expected)


@pytest.mark.subprocesses
def test_a_malformed_url_in_the_environment_and_the_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_db="def test_db(db_session):\n    pass\n")
    url, expected = MALFORMED["port not a number"]
    monkeypatch.setenv("AANA_TEST_POSTGRES_URL", url)
    assert_one_usage_error(run(pytester), expected)
    monkeypatch.delenv("AANA_TEST_POSTGRES_URL")
    url, expected = MALFORMED["unescaped @ in the password"]
    pytester.makeini(f"[pytest]\naana_postgres_url = {url}\n")
    assert_one_usage_error(run(pytester), expected)


@pytest.mark.subprocesses
def test_a_colon_in_the_password_is_the_passwords(pytester: pytest.Pytester) -> None:
    # libpq and SQLAlchemy both read the password up to the '@': the ':' is not ambiguous.
    pytester.makepyfile(test_db="def test_db(db_session):\n    pass\n")
    result = run(
        pytester,
        "--co",
        f"--aana-postgres-url=postgresql://postgres:a:{SECRET}@db.invalid:5432/postgres",
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "aana: backend postgresql, server from the URL postgresql://postgres:***@db.invalid:5432/postgres"
        ]
    )
    assert SECRET not in result.stdout.str() + result.stderr.str()
