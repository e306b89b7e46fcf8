"""An app extending aana: its own lineage of migrations, chained after aana's.

The example app in ``examples/video_app`` is only ever imported by ``aana`` subprocesses:
mapping its entity on ``BaseEntity.metadata`` in this process would make our own
``--test-alembic`` see a table that aana's migrations do not create.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect, text
from sqlalchemy import Enum as SqlEnum

import aana
from aana.storage.migrations import (
    aana_script_location,
    alembic_config,
    downgrade,
    new_revision,
    upgrade,
)
from aana.testing.backends import TestDatabases
from tests.aana_revisions import AANA_HEAD, AANA_REVISIONS

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "examples" / "video_app"
APP_SPEC = "video_app.app:aana_app"
SPEC_PAGE = REPO.parent / "shared" / "spec" / "databases.md"
DOCS_PAGE = REPO / "docs" / "extending.md"
CI_SCRIPT = APP / "ci.sh"
BIN = Path(sys.executable).parent
APP_REVISION = next((APP / "video_app" / "migrations" / "versions").glob("*.py"))
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", "build", "*.egg-info")

FIXTURE_REVISION = '''"""A later aana release's revision (a fixture): untitled videos get titles."""

from alembic import op

revision = "0002_fixture_untitled"
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE video SET title = 'untitled' WHERE title IS NULL")


def downgrade() -> None:
    pass
'''


@pytest.fixture
def database(aana_test_databases: TestDatabases) -> Iterator[Engine]:
    """An empty database on the selected backend, dropped afterwards."""
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    yield engine
    aana_test_databases.drop(engine)


def db_config(engine: Engine) -> str:
    """The ``DB_CONFIG`` naming the engine's database."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return json.dumps({"datastore_type": "sqlite", "datastore_config": {"path": url.database}})
    config = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password or "",
        "database": url.database,
    }
    return json.dumps({"datastore_type": "postgresql", "datastore_config": config})


def copy_app(tmp_path: Path) -> Path:
    """A copy of the example app, so that tests may change it and nothing lands in the tree."""
    return Path(shutil.copytree(APP, tmp_path / "video_app", ignore=COPY_IGNORE))


def aana_cli(
    *args: str, app: Path, engine: Engine | None = None, release: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``aana`` with the app importable and, if given, another aana release first."""
    env = {k: v for k, v in os.environ.items() if k != "DB_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(str(path) for path in (release, app) if path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if engine is not None:
        env["DB_CONFIG"] = db_config(engine)
    return subprocess.run(
        [str(BIN / "aana"), *args],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def app_revisions(app: Path) -> list[Path]:
    return sorted((app / "video_app" / "migrations" / "versions").glob("*.py"))


def normalized(revision: Path) -> str:
    """A revision's text without what differs between two runs: its id and its date."""
    content = revision.read_text()
    match = re.search(r"^Revision ID: (\w+)$", content, re.MULTILINE)
    assert match, revision
    content = content.replace(match.group(1), "<id>")
    return re.sub(r"^Create Date: .*$", "Create Date: <date>", content, flags=re.MULTILINE)


def header(revision: Path, name: str) -> object:
    """The value of one of a revision's module-level identifiers."""
    match = re.search(rf"^{name}\b.*= (.+)$", revision.read_text(), re.MULTILINE)
    assert match, (revision, name)
    return ast.literal_eval(match.group(1))


def stored_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


def tree_digest(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


# --- The spec page and the docs page, against the example app ---------------------------


def spec_blocks() -> list[str]:
    if not SPEC_PAGE.is_file():
        pytest.skip(f"the spec page is not at {SPEC_PAGE} (a copy of shared/ beside the clone)")
    return re.findall(r"^```python\n(.*?)^```$", SPEC_PAGE.read_text(), re.MULTILINE | re.DOTALL)


def test_the_example_app_holds_the_spec_pages_code_as_written() -> None:
    entity, repository, usage = spec_blocks()
    assert entity in (APP / "video_app" / "models.py").read_text()
    assert repository in (APP / "video_app" / "repository.py").read_text()
    # The usage block, minus its import, runs in a test where db_session provides `session`.
    import_line, _, statements = usage.partition("\n\n")
    test_module = (APP / "tests" / "test_extended_video.py").read_text()
    assert import_line in test_module
    assert "\n".join(f"    {line}" for line in statements.splitlines()) in test_module
    assert "    session = db_session\n" in test_module


@dataclass(frozen=True)
class DocBlock:
    """A fenced block of the docs page, with the file it shows if it is marked with one.

    Attributes:
        lang (str): The fence's language.
        body (str): The block's text.
        kind (str | None): ``file`` (the whole file) or ``part of`` (a part of it).
        path (str | None): The file, relative to the app's project root; may be a glob.
    """

    lang: str
    body: str
    kind: str | None
    path: str | None


def doc_blocks() -> list[DocBlock]:
    page = DOCS_PAGE.read_text()
    blocks = []
    for fence in re.finditer(r"^```(\w*)\n(.*?)^```$", page, re.MULTILINE | re.DOTALL):
        marker = re.search(r"<!-- (file|part of): (\S+) -->\n\Z", page[: fence.start()])
        kind, path = marker.groups() if marker else (None, None)
        blocks.append(DocBlock(fence.group(1), fence.group(2), kind, path))
    return blocks


def doc_commands() -> list[str]:
    return [
        line for block in doc_blocks() if block.lang == "bash" for line in block.body.splitlines()
    ]


def test_the_docs_pages_files_are_the_example_apps() -> None:
    marked = [block for block in doc_blocks() if block.kind]
    assert {block.path for block in marked} >= {"video_app/migrations/env.py", "pyproject.toml"}
    for block in marked:
        (path,) = APP.glob(block.path)
        if block.kind == "file":
            assert path.read_text() == block.body, block.path
        else:
            assert block.body in path.read_text(), block.path


def test_the_docs_pages_test_commands_are_run_by_ci() -> None:
    ci_lines = {line.strip() for line in CI_SCRIPT.read_text().splitlines()}
    test_commands = [command for command in doc_commands() if command.startswith("pytest")]
    assert len(test_commands) == 4
    assert [command for command in test_commands if command not in ci_lines] == []


SCAFFOLDED = [
    "video_app/alembic.ini",
    "video_app/app.py",
    "video_app/migrations/env.py",
    "video_app/migrations/script.py.mako",
    "tests/conftest.py",
    "tox.ini",
]


@pytest.mark.subprocesses
def test_following_the_docs_page_writes_the_committed_revision(tmp_path: Path) -> None:
    """Run the page's commands, in order, in the app without its scaffold and migrations."""
    project = Path(
        shutil.copytree(
            APP,
            tmp_path / "video_app",
            ignore=shutil.ignore_patterns("*.db", "__pycache__", "build", "*.egg-info"),
        )
    )
    shutil.rmtree(project / "video_app" / "migrations")
    for name in SCAFFOLDED[:2] + SCAFFOLDED[4:]:
        (project / name).unlink()
    script = ["set -euo pipefail"]
    for block in doc_blocks():
        if block.kind == "file":
            script.append(f"cat > {block.path} <<'AANA_DOCS_EOF'\n{block.body}AANA_DOCS_EOF")
        if block.lang != "bash":
            continue
        for command in block.body.splitlines():
            if command.startswith(("pytest", "tox")):
                continue  # run by ci.sh, as the next test checks
            script.append(command)
    env = {k: v for k, v in os.environ.items() if k != "DB_CONFIG"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "models match the migrations" in done.stdout
    assert "kept  pyproject.toml (exists)" in done.stdout
    assert "video_app: " in done.stdout and "(head)" in done.stdout
    (generated,) = app_revisions(project)
    assert normalized(generated) == normalized(APP_REVISION)
    for name in SCAFFOLDED:
        assert (project / name).read_text() == (APP / name).read_text(), name


# --- aana revision ---------------------------------------------------------------------


@pytest.mark.subprocesses
def test_revision_on_this_backend_writes_only_the_apps_table(
    database: Engine, tmp_path: Path
) -> None:
    app = copy_app(tmp_path)
    for revision in app_revisions(app):
        revision.unlink()
    assert aana_cli("migrate", APP_SPEC, app=app, engine=database).returncode == 0
    done = aana_cli(
        "revision", APP_SPEC, "--autogenerate", "-m", "Add extended_video", app=app, engine=database
    )
    assert done.returncode == 0, done.stderr
    (generated,) = app_revisions(app)
    assert normalized(generated) == normalized(APP_REVISION)
    assert header(generated, "down_revision") is None
    assert header(generated, "branch_labels") == ("video_app",)
    assert header(generated, "depends_on") == AANA_HEAD

    assert aana_cli("migrate", APP_SPEC, app=app, engine=database).returncode == 0
    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "extended_video" in inspect(database).get_table_names()


@pytest.mark.subprocesses
def test_a_later_revision_follows_the_apps_head(database: Engine, tmp_path: Path) -> None:
    app = copy_app(tmp_path)
    assert aana_cli("migrate", APP_SPEC, app=app, engine=database).returncode == 0
    models = app / "video_app" / "models.py"
    models.write_text(
        models.read_text().replace(
            '    __tablename__ = "extended_video"\n',
            '    __tablename__ = "extended_video"\n'
            '    rating: Mapped[int | None] = mapped_column(comment="Rating")\n',
        )
    )

    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database)
    assert done.returncode == 1
    assert "disagree" in done.stderr
    assert "add_column extended_video rating" in done.stderr

    done = aana_cli(
        "revision", APP_SPEC, "--autogenerate", "-m", "Add rating", app=app, engine=database
    )
    assert done.returncode == 0, done.stderr
    (added,) = set(app_revisions(app)) - {app / APP_REVISION.relative_to(APP)}
    first = header(APP_REVISION, "revision")
    assert header(added, "down_revision") == first
    assert header(added, "branch_labels") is None
    # The app's first revision depends on aana's head already: a later one adds no dependency.
    assert header(APP_REVISION, "depends_on") == AANA_HEAD
    assert header(added, "depends_on") is None
    assert "add_column" in added.read_text()
    assert "drop_table" not in added.read_text()

    assert aana_cli("migrate", APP_SPEC, app=app, engine=database).returncode == 0
    assert aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database).returncode == 0
    columns = {column["name"] for column in inspect(database).get_columns("extended_video")}
    assert "rating" in columns


@pytest.mark.subprocesses
def test_autogenerate_needs_a_database_at_head(database: Engine, tmp_path: Path) -> None:
    app = copy_app(tmp_path)
    done = aana_cli(
        "revision", APP_SPEC, "--autogenerate", "-m", "Too early", app=app, engine=database
    )
    assert done.returncode == 1
    assert "not up to date" in done.stderr
    assert app_revisions(app) == [app / APP_REVISION.relative_to(APP)]


@pytest.mark.subprocesses
def test_revision_needs_an_app_with_migrations(tmp_path: Path) -> None:
    (tmp_path / "plain_app.py").write_text(
        'from aana.sdk import AanaSDK\n\naana_app = AanaSDK(name="plain")\n'
    )
    done = aana_cli("revision", "plain_app:aana_app", "-m", "Nothing", app=tmp_path)
    assert done.returncode == 2
    assert "no alembic_config" in done.stderr


SCRATCH_ENV = """from alembic import context

from aana.storage.migrations import run_env

run_env(context.config.attributes["metadata"])
"""


def clips(with_status: bool) -> MetaData:
    """A model of one table, with or without an enum column; not aana's metadata."""
    metadata = MetaData()
    columns = [Column("id", Integer, primary_key=True)]
    if with_status:
        columns.append(Column("status", SqlEnum("draft", "done", name="clipstatus")))
    Table("clip", metadata, *columns)
    return metadata


def enum_type_exists(engine: Engine) -> bool:
    with engine.connect() as connection:
        found = connection.scalar(text("SELECT 1 FROM pg_type WHERE typname = 'clipstatus'"))
    return found is not None


def test_autogenerate_creates_and_drops_enum_types(database: Engine, tmp_path: Path) -> None:
    """An enum column added, then removed, by revisions that go up and down on both backends.

    On PostgreSQL ``add_column`` needs the type to exist and ``drop_column`` leaves it behind;
    the revisions ``run_env`` autogenerates create and drop it.
    """
    folder = tmp_path / "scratch_env"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(SCRATCH_ENV)
    shutil.copy(aana_script_location() / "script.py.mako", folder)
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(folder / "versions"))
    config.set_main_option("aana_models", "aana.storage.models")
    postgres = database.dialect.name == "postgresql"

    def revise(message: str, metadata: MetaData) -> tuple[str, str]:
        config.attributes["metadata"] = metadata
        script = new_revision(config, message, "scratch", database)
        upgrade(database, config)
        up, _, down = Path(script.path).read_text().partition("def downgrade")
        return up, down

    create = "sa.Enum('draft', 'done', name='clipstatus').create(op.get_bind(), checkfirst=True)"
    drop = "sa.Enum(name='clipstatus').drop(op.get_bind(), checkfirst=True)"
    revise("Add clip", clips(with_status=False))
    up, down = revise("Add clip status", clips(with_status=True))
    assert create in up
    assert up.index(create) < up.index("add_column")
    assert drop in down
    assert down.index("drop_column") < down.index(drop)
    if postgres:
        assert enum_type_exists(database)

    # Removing the column: on PostgreSQL the reflected column names its type, so the drop is
    # written; SQLite reflects a plain string and has no type to drop.
    up, down = revise("Remove clip status", clips(with_status=False))
    assert (drop in up, "create(op.get_bind()" in down) == (postgres, postgres)
    if postgres:
        assert not enum_type_exists(database)

    downgrade(database, config, "-1")
    assert "status" in {column["name"] for column in inspect(database).get_columns("clip")}
    downgrade(database, config, "base")
    upgrade(database, config)
    downgrade(database, config, "-1")
    if postgres:
        assert enum_type_exists(database)
    downgrade(database, config, "-1")
    if postgres:
        assert not enum_type_exists(database)


# --- aana migrate and aana migrate --check ---------------------------------------------


@pytest.mark.subprocesses
def test_migrate_applies_aanas_revisions_then_the_apps(database: Engine, tmp_path: Path) -> None:
    app = copy_app(tmp_path)
    app_head = header(APP_REVISION, "revision")

    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database)
    assert done.returncode == 1
    pending = [*AANA_REVISIONS, app_head]
    assert f"{len(pending)} revision(s) pending: {', '.join(pending)}" in done.stderr

    done = aana_cli("migrate", APP_SPEC, app=app, engine=database)
    assert done.returncode == 0, done.stderr
    assert {"media", "video", "extended_video"} <= set(inspect(database).get_table_names())
    foreign_keys = inspect(database).get_foreign_keys("extended_video")
    assert [key["referred_table"] for key in foreign_keys] == ["video"]

    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database)
    assert (done.returncode, done.stdout.strip()) == (
        0,
        "Database at head; the models match the migrations.",
    )
    assert "already at head" in aana_cli("migrate", APP_SPEC, app=app, engine=database).stdout

    # Without the app, its revision is unknown: said so, never taken for a clean database.
    done = aana_cli("migrate", "--check", app=app, engine=database)
    assert done.returncode == 1
    assert f"revisions these migrations do not have: {app_head}" in done.stderr
    done = aana_cli("migrate", app=app, engine=database)
    assert done.returncode == 1
    assert app_head in done.stderr


@pytest.mark.subprocesses
def test_check_without_an_app_on_aanas_own_database(database: Engine, tmp_path: Path) -> None:
    assert aana_cli("migrate", "--check", app=tmp_path, engine=database).returncode == 1
    assert aana_cli("migrate", app=tmp_path, engine=database).returncode == 0
    assert aana_cli("migrate", "--check", app=tmp_path, engine=database).returncode == 0


@pytest.mark.subprocesses
def test_check_with_an_invalid_db_config_exits_2(tmp_path: Path) -> None:
    app = copy_app(tmp_path)
    env_config = json.dumps({"datastore_type": "oracle"})
    done = subprocess.run(
        [str(BIN / "aana"), "migrate", "--check", APP_SPEC],
        cwd=app,
        env={**os.environ, "DB_CONFIG": env_config, "PYTHONPATH": str(app)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    assert "DB_CONFIG" in done.stderr


# --- A newer aana under an app that has migrated -----------------------------------------


def newer_aana_release(tmp_path: Path) -> Path:
    """Install a copy of aana whose lineage has one more revision, as a newer wheel would."""
    site = tmp_path / "aana-next"
    package = Path(shutil.copytree(Path(aana.__file__).parent, site / "aana", ignore=COPY_IGNORE))
    shutil.copytree(aana_script_location(), package / "alembic", ignore=COPY_IGNORE)
    (head,) = ScriptDirectory.from_config(alembic_config()).get_heads()
    fixture = package / "alembic" / "versions" / "0002_fixture_untitled.py"
    fixture.write_text(FIXTURE_REVISION.format(down_revision=head))
    return site


@pytest.mark.subprocesses
def test_a_newer_aana_is_applied_without_editing_the_app(database: Engine, tmp_path: Path) -> None:
    app = copy_app(tmp_path)
    app_head = header(APP_REVISION, "revision")
    assert aana_cli("migrate", APP_SPEC, app=app, engine=database).returncode == 0
    with database.begin() as connection:
        connection.execute(
            text("INSERT INTO media (id, media_type) VALUES ('v1', 'extended_video')")
        )
        connection.execute(text("INSERT INTO video (id) VALUES ('v1')"))
        connection.execute(text("INSERT INTO extended_video (id, status) VALUES ('v1', 'RUNNING')"))
    before = tree_digest(app)
    release = newer_aana_release(tmp_path)

    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database, release=release)
    assert done.returncode == 1
    assert "1 revision(s) pending: 0002_fixture_untitled" in done.stderr

    done = aana_cli("migrate", APP_SPEC, app=app, engine=database, release=release)
    assert done.returncode == 0, done.stderr
    assert stored_revisions(database) == {"0002_fixture_untitled", app_head}
    with database.connect() as connection:
        row = connection.execute(
            text(
                "SELECT v.title, e.status FROM video v JOIN extended_video e ON e.id = v.id "
                "WHERE v.id = 'v1'"
            )
        ).one()
    assert tuple(row) == ("untitled", "RUNNING")
    assert tree_digest(app) == before

    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database, release=release)
    assert done.returncode == 0, done.stderr
    # The older aana does not know the newer one's revision, and says so.
    done = aana_cli("migrate", "--check", APP_SPEC, app=app, engine=database)
    assert done.returncode == 1
    assert "do not have: 0002_fixture_untitled" in done.stderr

    # The app's next revision is written against the newer aana, so it depends on it.
    done = aana_cli("revision", APP_SPEC, "-m", "After the upgrade", app=app, release=release)
    assert done.returncode == 0, done.stderr
    (added,) = set(app_revisions(app)) - {app / APP_REVISION.relative_to(APP)}
    assert header(added, "down_revision") == app_head
    assert header(added, "depends_on") == "0002_fixture_untitled"
    done = aana_cli("migrate", APP_SPEC, app=app, engine=database, release=release)
    assert done.returncode == 0, done.stderr
    # Alembic records heads only: the new revision stands for the aana one it depends on.
    assert stored_revisions(database) == {header(added, "revision")}


# --- aana.testing with the app's lineage -------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "env", "none"])
@pytest.mark.subprocesses
def test_the_plugin_migrates_the_apps_test_databases_when_told(tmp_path: Path, how: str) -> None:
    """The app's tests, given its alembic.ini by flag, by env var, or not at all.

    On SQLite whatever this run's backend: the option is under test here; ci.sh runs the
    app's tests on both backends, with the ini key.
    """
    app = copy_app(tmp_path)
    tox_ini = app / "tox.ini"
    ini_line = "aana_alembic_config = video_app/alembic.ini\n"
    assert ini_line in tox_ini.read_text()
    tox_ini.write_text(tox_ini.read_text().replace(ini_line, ""))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AANA_TEST_") and k != "PYTEST_ADDOPTS"
    }
    env["PYTHONPATH"] = str(app)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    args = [sys.executable, "-m", "pytest", "-p", "aana.testing", "-p", "no:cacheprovider", "-q"]
    if how == "flag":
        args += ["--aana-alembic-config", "video_app/alembic.ini"]
    elif how == "env":
        env["AANA_TEST_ALEMBIC_CONFIG"] = "video_app/alembic.ini"
    done = subprocess.run(
        [*args, "--test-alembic"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if how == "none":
        # aana's migrations alone: no extended_video table, and models that disagree with them.
        # The run stops at the first database test, saying to name the app's alembic.ini.
        assert done.returncode == pytest.ExitCode.INTERRUPTED, done.stdout
        assert "no revision creates table extended_video" in done.stdout
        assert "name your app's alembic.ini with --aana-alembic-config" in done.stdout
        assert "no such table" not in done.stdout
        assert "FAILED tests::aana-migration-checks::test_model_definitions_match_ddl" in (
            done.stdout
        )
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "10 passed" in done.stdout


SUBCLASS_READS_SCRIPT = """
import asyncio
import sys

from sqlalchemy import inspect

from aana.storage import repository as sync_half
from aana.storage.aio import repository as async_half
from aana.storage.aio.session import dispose_async_engine, get_async_session
from aana.storage.session import get_session
from video_app.models import ExtendedVideoEntity, VideoProcessingStatus


def columns(entity):
    # Every column attribute: in plain async code an unloaded one raises MissingGreenlet.
    assert type(entity) is ExtendedVideoEntity, type(entity)
    return {a.key: getattr(entity, a.key) for a in inspect(entity).mapper.column_attrs}


def stored(media_id):
    return ExtendedVideoEntity(
        id=media_id, title="t", duration=4.5, status=VideoProcessingStatus.RUNNING
    )


EXPECTED = {"title": "t", "duration": 4.5, "status": VideoProcessingStatus.RUNNING}


def check(entity):
    shown = columns(entity)
    assert {key: shown[key] for key in EXPECTED} == EXPECTED, shown


async def async_reads():
    async with get_async_session() as session:
        await async_half.VideoRepository(session, ExtendedVideoEntity).create_multiple(
            [stored("async-1"), stored("async-2"), stored("async-3")]
        )
    for base in (async_half.VideoRepository, async_half.MediaRepository):
        async with get_async_session() as session:  # a new session: nothing held
            check(await base(session).read("async-1"))
    async with get_async_session() as session:
        check(await async_half.VideoRepository(session).delete("async-2"))
    async with get_async_session() as session:
        check(await async_half.MediaRepository(session).delete("async-3"))
    await dispose_async_engine()


def sync_reads():
    with get_session() as session:
        sync_half.VideoRepository(session, ExtendedVideoEntity).create(stored("sync-1"))
    for base in (sync_half.VideoRepository, sync_half.MediaRepository):
        with get_session() as session:
            entity = base(session).read("sync-1")
            # Loaded with the read, on the sync half too: no query on first access.
            assert not inspect(entity).unloaded & set(EXPECTED), inspect(entity).unloaded
            check(entity)
    with get_session() as session:
        check(sync_half.VideoRepository(session).delete("sync-1"))


asyncio.run(async_reads())
sync_reads()
print("read whole")
"""


@pytest.mark.subprocesses
def test_the_base_repositories_return_an_apps_subclass_entity_whole(
    database: Engine, tmp_path: Path
) -> None:
    """ExtendedVideoEntity read by aana's VideoRepository and MediaRepository, in plain
    async code as in synchronous code: its own columns come with it (a process of its own:
    mapping the app's entity here would add its table to this run's models)."""
    app = copy_app(tmp_path)
    assert aana_cli("migrate", APP_SPEC, app=app, engine=database).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "DB_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-c", SUBCLASS_READS_SCRIPT],
        cwd=app,
        env={**env, "PYTHONPATH": str(app), "DB_CONFIG": db_config(database)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "read whole"), done.stderr
