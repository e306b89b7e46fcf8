"""The guides run as written: docs/fastapi.md, docs/first-steps.md and docs/app-tests.md.

The FastAPI apps map no entity of their own, so they and their tests run in this process,
each guide test with the fixture it names, on this run's backend. The notes app of the other
two guides maps one: it is scaffolded, installed, migrated and tested in a virtualenv of its
own, by the commands of the pages.
"""

import ast
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from plugin_runs import suite_server_url
from sqlalchemy import Engine

from aana.testing.backends import TestDatabases, db_settings_for

REPO = Path(__file__).resolve().parents[1]
FASTAPI = REPO / "docs" / "fastapi.md"
FIRST_STEPS = REPO / "docs" / "first-steps.md"
APP_TESTS = REPO / "docs" / "app-tests.md"


def fenced(page: Path, lang: str) -> list[tuple[str | None, str]]:
    """The page's fenced blocks in a language, each with the file its marker names, if any."""
    text = page.read_text()
    found = []
    for fence in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        if fence.group(1) == lang:
            marker = re.search(r"<!-- file: (\S+) -->\n\Z", text[: fence.start()])
            found.append((marker.group(1) if marker else None, fence.group(2)))
    return found


def files(page: Path) -> dict[str, str]:
    """The page's python blocks that are files, by path."""
    return {path: body for path, body in fenced(page, "python") if path is not None}


def commands(page: Path) -> list[str]:
    """The page's shell blocks."""
    return [body for _, body in fenced(page, "bash")]


# --- docs/fastapi.md ---------------------------------------------------------------------

GUIDE_TESTS = [
    (path, function.name, function.args.args[0].arg)
    for path, body in files(FASTAPI).items()
    if path.startswith("tests/")
    for function in ast.parse(body).body
    if isinstance(function, ast.AsyncFunctionDef) and function.name.startswith("test_")
]


@pytest.fixture
def videos_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The page's files under ``tmp_path``, its ``videos_api`` package importable."""
    for path, body in files(FASTAPI).items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    (tmp_path / "videos_api" / "__init__.py").touch()
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield tmp_path
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "videos_api"]:
            del sys.modules[name]


def guide_module(root: Path, path: str) -> ModuleType:
    """Import one of the page's test files under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"guide_{Path(path).stem}", root / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_has_both_apps_and_their_tests() -> None:
    assert sorted(files(FASTAPI)) == [
        "tests/test_async_app.py",
        "tests/test_sync_app.py",
        "videos_api/async_app.py",
        "videos_api/sync_app.py",
    ]
    held = {(path, fixture) for path, _, fixture in GUIDE_TESTS}
    assert held == {
        ("tests/test_sync_app.py", "db_session"),
        ("tests/test_async_app.py", "async_db_session"),
    }
    assert len(GUIDE_TESTS) == 4


def guide_tests(fixture: str) -> list[tuple[str, str]]:
    return [(path, name) for path, name, held in GUIDE_TESTS if held == fixture]


@pytest.mark.parametrize(("path", "name"), guide_tests("db_session"))
async def test_the_sync_apps_tests_pass(
    videos_api: Path, db_session: Any, path: str, name: str
) -> None:
    await getattr(guide_module(videos_api, path), name)(db_session)


@pytest.mark.parametrize(("path", "name"), guide_tests("async_db_session"))
async def test_the_async_apps_tests_pass(
    videos_api: Path, async_db_session: Any, path: str, name: str
) -> None:
    await getattr(guide_module(videos_api, path), name)(async_db_session)


async def test_a_malformed_media_id_never_reaches_the_database(
    videos_api: Path, db_session: Any, count_queries: Any
) -> None:
    module = guide_module(videos_api, "tests/test_sync_app.py")
    async with module.client() as api:
        with count_queries() as looked_up:
            missing = await api.get("/videos/no-such-video")
        with count_queries() as refused:
            malformed = await api.get("/videos/not an id")
    assert (missing.status_code, malformed.status_code) == (404, 422)
    assert len(looked_up) > 0
    assert refused.statements == []


async def test_the_sync_app_under_async_db_session_is_refused(
    videos_api: Path, async_db_session: Any
) -> None:
    module = guide_module(videos_api, "tests/test_sync_app.py")
    with pytest.raises(RuntimeError, match="holds async_db_session"):
        async with module.client() as api:
            await api.get("/videos/some-video")


async def test_the_async_app_under_db_session_is_refused(videos_api: Path, db_session: Any) -> None:
    module = guide_module(videos_api, "tests/test_async_app.py")
    with pytest.raises(RuntimeError, match="holds db_session"):
        async with module.client() as api:
            await api.get("/videos/some-video")


async def test_the_async_apps_lifespan_runs(videos_api: Path, async_db_session: Any) -> None:
    app = importlib.import_module("videos_api.async_app").app
    async with app.router.lifespan_context(app):
        pass


# --- docs/first-steps.md and docs/app-tests.md ---------------------------------------------


@pytest.fixture
def app_venv(tmp_path: Path) -> Path:
    """A fresh virtualenv with pip and this aana, editable with its testing extra."""
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    uv = shutil.which("uv")
    if uv is not None:
        subprocess.run([uv, "venv", "-q", "--seed", "--python", sys.executable, venv], check=True)
        install = [uv, "pip", "install", "-q", "--python", python]
    else:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        install = [python, "-m", "pip", "install", "-q"]
    subprocess.run([*install, "-e", f"{REPO}[testing]"], check=True, timeout=600)
    return venv


def shell(script: str, project: Path, venv: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a page's block in bash, in the project, with the virtualenv active."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DB_CONFIG", "PYTEST_ADDOPTS", "PYTHONPATH", "AANA_TEST_POSTGRES_URL")
    }
    environment.update(env)
    environment["VIRTUAL_ENV"] = str(venv)
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment['PATH']}"
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def database(aana_test_databases: TestDatabases) -> Iterator[Engine]:
    """An empty database on the selected backend, dropped afterwards."""
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    yield engine
    aana_test_databases.drop(engine)


@pytest.mark.subprocesses
def test_a_new_app_from_aana_init_to_its_tests(
    app_venv: Path, database: Engine, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """The first steps' commands, then the app tests' files and commands, on this backend.

    On PostgreSQL, the development database of the migration commands is the test's.
    """
    project = tmp_path / "notes-project"
    project.mkdir()
    scaffold, migrate, run_tests = commands(FIRST_STEPS)
    done = shell(scaffold, project, app_venv)
    assert done.returncode == 0, done.stderr

    for path, body in {**files(FIRST_STEPS), **files(APP_TESTS)}.items():
        (project / path).write_text(body)

    # The order matters: before the app is installed, `aana` cannot import it, as the page says.
    migrate_first = next(line for line in migrate.splitlines() if line.startswith("aana migrate"))
    done = shell(migrate_first, project, app_venv)
    assert done.returncode == 2
    said = re.search(r"^`(Error: Invalid value for APP: .*)`\.$", FIRST_STEPS.read_text(), re.M)
    assert said and said.group(1) in done.stderr, done.stderr

    postgresql = database.dialect.name == "postgresql"
    if postgresql:
        development = db_settings_for(database.url).model_dump_json()
        migrate = re.sub(r"^export DB_CONFIG=.*$", "", migrate, flags=re.M)
        done = shell(migrate, project, app_venv, DB_CONFIG=development)
    else:
        done = shell(migrate, project, app_venv)
        assert (project / "dev.db").is_file()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "Database at head; the models match the migrations."
    (revision,) = (project / "notes" / "migrations" / "versions").glob("*_add_notes.py")
    assert "op.create_table('note'" in revision.read_text()

    # The app's tests: the first steps' command, then the parallel runs, on this backend.
    parallel = commands(APP_TESTS)[0].splitlines()
    if postgresql:
        server = suite_server_url(pytestconfig)
        assert server is not None
        runs = [line for line in parallel if "--aana-db postgresql" in line]
        env = {"AANA_TEST_POSTGRES_URL": server}
    else:
        runs = [run_tests.strip(), *(line for line in parallel if "--aana-db" not in line)]
        env = {}
    for command in runs:
        done = shell(command, project, app_venv, **env)
        assert done.returncode == 0, (command, done.stdout + done.stderr)
        assert "2 passed" in done.stdout, (command, done.stdout)

    # The other layout the page names: tests/ a package, the factories imported through it.
    if not postgresql:
        (project / "tests" / "__init__.py").touch()
        test_module = project / "tests" / "test_notes.py"
        source = test_module.read_text()
        test_module.write_text(source.replace("from factories ", "from tests.factories "))
        done = shell(run_tests, project, app_venv)
        assert done.returncode == 0, done.stdout + done.stderr
