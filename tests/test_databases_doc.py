"""docs/databases.md: every code block runs, and the page covers every entity and repository."""

import asyncio
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy import inspect as inspect_db
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

import aana.storage.models as models
import aana.storage.repository as repositories
from aana.configs.db import DbSettings
from aana.testing.backends import TestDatabases, db_settings_for
from tests.aana_revisions import AANA_HEAD, AANA_REVISIONS

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "databases.md"
BIN = Path(sys.executable).parent


def blocks(lang: str) -> list[tuple[str | None, str]]:
    """The page's fenced blocks in a language, each with the file its marker names, if any."""
    page = PAGE.read_text()
    found = []
    for fence in re.finditer(r"^```(\w*)\n(.*?)^```$", page, re.MULTILINE | re.DOTALL):
        if fence.group(1) != lang:
            continue
        marker = re.search(r"<!-- file: (\S+) -->\n\Z", page[: fence.start()])
        found.append((marker.group(1) if marker else None, fence.group(2)))
    return found


@pytest.fixture
def database(aana_test_databases: TestDatabases) -> Iterator[Engine]:
    """An empty database on the selected backend, dropped afterwards."""
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    yield engine
    aana_test_databases.drop(engine)


def is_async(body: str) -> bool:
    return "aana.storage.aio" in body


def test_the_async_blocks_run(
    async_transactional_db_engine: AsyncEngine, transactional_db_engine: Engine
) -> None:
    """The async blocks, with get_async_session() on a database that commits for real."""
    runnable = [body for path, body in blocks("python") if path is None and is_async(body)]
    assert len(runnable) == 2
    namespace: dict[str, Any] = {}
    for body in runnable:
        exec(compile(body, str(PAGE), "exec"), namespace)

    async def the_declared_twin_runs() -> None:
        async with namespace["get_async_session"]() as session:
            videos = namespace["AsyncTitledVideoRepository"](session)
            await videos.save(namespace["Video"](media_id="titled", title="A title"))
            assert await videos.title_of("titled") == "A title"

    asyncio.run(the_declared_twin_runs())
    with transactional_db_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM video")) == 2
        assert connection.scalar(text("SELECT status FROM tasks")) == "assigned"


def test_the_json_blocks_are_valid_settings() -> None:
    settings = [DbSettings.model_validate(json.loads(body)) for _, body in blocks("json")]
    assert [setting.datastore_type.value for setting in settings] == ["sqlite", "postgresql"]


def test_the_python_blocks_run_in_order(db_session: Session, capsys: pytest.CaptureFixture[str]):
    """The page's usage blocks, in one namespace, on the test's database."""
    runnable = [body for path, body in blocks("python") if path is None and not is_async(body)]
    assert len(runnable) == 7
    namespace: dict[str, object] = {}
    for body in runnable:
        exec(compile(body, str(PAGE), "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("video: no row with id ")
    assert printed[1].startswith("Deleted 0 tasks (failed: 0) that finished before ")


def test_the_marked_blocks_are_the_example_apps_files() -> None:
    marked = [(path, body) for path, body in blocks("python") if path is not None]
    assert [path for path, _ in marked] == [
        "playlists/models.py",
        "examples/video_app/video_app/models.py",
    ]
    assert (REPO / marked[1][0]).read_text() == marked[1][1]


@pytest.mark.subprocesses
def test_the_generated_apps_models_map(tmp_path: Path) -> None:
    """In a subprocess: mapped here, the entities would join aana's own metadata.

    ``.ci/new-app.sh`` writes, applies and tests the app's migrations with this block.
    """
    ((_, body),) = [
        (path, body) for path, body in blocks("python") if path == "playlists/models.py"
    ]
    (tmp_path / "playlists").mkdir()
    (tmp_path / "playlists" / "models.py").write_text(body)
    probe = (
        "from sqlalchemy.orm import configure_mappers\n"
        "from playlists.models import ExtendedTranscriptEntity, PlaylistItemEntity\n"
        "configure_mappers()\n"
        "print(sorted(key.target_fullname for key in PlaylistItemEntity.__table__.foreign_keys))\n"
        "print(ExtendedTranscriptEntity.__mapper__.inherits.class_.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['media.id', 'playlist.id']", "TranscriptEntity"]


@pytest.mark.subprocesses
def test_the_migration_commands_run_as_written(database: Engine, tmp_path: Path) -> None:
    (commands,) = [body for _, body in blocks("bash") if body.startswith("aana migrate")]
    env = {**os.environ, "DB_CONFIG": db_settings_for(database.url).model_dump_json()}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    outputs = []
    for command in commands.splitlines():
        done = subprocess.run(
            command.split(), env=env, cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (command, done.stderr)
        assert "Database: " in done.stderr or command == "aana history"
        outputs.append(done.stdout)
    assert outputs[0].startswith("Migrated database from empty database to ")
    assert outputs[1].startswith("Database at head")
    assert outputs[2].startswith(f"aana: {AANA_HEAD} (head)")
    assert all(revision in outputs[3] for revision in AANA_REVISIONS)
    assert "to empty database. Dropped 6 table(s): caption (0 rows)" in outputs[4]
    assert set(inspect_db(database).get_table_names()) <= {"alembic_version"}


def test_the_install_commands_name_the_distribution() -> None:
    install = "\n".join(body for _, body in blocks("bash") if "pip install" in body)
    assert "dist/aana_storage-0.1.0-py3-none-any.whl" in install
    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert version and version.group(1) == "0.1.0"


def test_every_entity_and_repository_method_is_on_the_page() -> None:
    page = PAGE.read_text()
    for name in models.__all__:
        assert f"`{name}`" in page, name
    for name in repositories.__all__:
        cls = getattr(repositories, name)
        assert f"**`{name}(" in page, name
        section = page[page.index(f"**`{name}(") :].split("\n- **")[0]
        for method, value in vars(cls).items():
            if not method.startswith("_") and inspect.isfunction(value):
                assert f"`{method}" in section, f"{name}.{method}"


def test_no_doc_links_outside_the_repository() -> None:
    for page in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)]+)\)", page.read_text()):
            assert not re.match(r"\w+://", target), (page.name, target)
            resolved = (page.parent / target.split("#")[0]).resolve()
            assert REPO in resolved.parents or resolved == REPO, (page.name, target)
            assert resolved.exists(), (page.name, target)
