"""A new app from ``aana init``: timestamps, an enum, a foreign key into aana's tables and a
joined subclass of an aana entity; its revisions generated, run, checked and tested.

Everything runs in ``aana`` and ``pytest`` subprocesses, on the backend of this run: mapping
the app's entities in this process would put them on aana's own metadata.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

import aana.cli
from aana.configs.db import DbSettings
from aana.storage.models import BaseEntity
from aana.testing.backends import TestDatabases, db_settings_for

BIN = Path(sys.executable).parent
SPEC = "clips_app.app:aana_app"

MODELS = '''"""clips_app's entities."""

import datetime
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from aana.core.models.media import MediaId
from aana.storage.models import BaseEntity, TimeStampEntity, TranscriptEntity


class Visibility(enum.Enum):
    """Who sees a playlist."""

    PUBLIC = "public"
    PRIVATE = "private"


class PlaylistEntity(BaseEntity, TimeStampEntity):
    """A playlist: a column of every type aana's entities use."""

    __tablename__ = "playlist"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None]
    visibility: Mapped[Visibility] = mapped_column(default=Visibility.PRIVATE)
    settings: Mapped[Any] = mapped_column(JSON, default=dict)
    rating: Mapped[float | None]
    position: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[datetime.datetime | None]


class PlaylistItemEntity(BaseEntity, TimeStampEntity):
    """A media in a playlist: a foreign key into aana's media table."""

    __tablename__ = "playlist_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("playlist.id", ondelete="CASCADE"))
    media_id: Mapped[MediaId] = mapped_column(ForeignKey("media.id"))


class ExtendedTranscriptEntity(TranscriptEntity):
    """aana's transcript with a speaker count, in a joined table."""

    __tablename__ = "extended_transcript"

    id: Mapped[int] = mapped_column(ForeignKey("transcript.id"), primary_key=True)
    speaker_count: Mapped[int | None]

    __mapper_args__ = {"polymorphic_identity": "extended_transcript"}  # noqa: RUF012
'''

LATER_MODEL = '''

class ChapterEntity(BaseEntity, TimeStampEntity):
    """Added by the second revision, written with a template that renders no imports."""

    __tablename__ = "chapter"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime.datetime]
'''

APP_TEST = """import datetime

from aana.storage.models import MediaEntity
from sqlalchemy import select

from clips_app.models import (
    ExtendedTranscriptEntity,
    PlaylistEntity,
    PlaylistItemEntity,
    Visibility,
)


def test_a_playlist_of_aanas_media(db_session):
    media = MediaEntity(id="m1", media_type="media")
    playlist = PlaylistEntity(name="mine", visibility=Visibility.PUBLIC)
    db_session.add_all([media, playlist])
    db_session.flush()
    db_session.add(PlaylistItemEntity(playlist_id=playlist.id, media_id="m1"))
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(PlaylistEntity, playlist.id)
    assert stored.visibility is Visibility.PUBLIC
    assert stored.created_at.tzinfo == datetime.UTC
    assert db_session.scalar(select(PlaylistItemEntity.media_id)) == "m1"


def test_an_extended_transcript(db_session):
    transcript = ExtendedTranscriptEntity(
        model="m", transcript="t", segments=[], language="en", language_confidence=0.5,
        speaker_count=2,
    )
    db_session.add(transcript)
    db_session.commit()
    assert transcript.transcript_type == "extended_transcript"
"""

TEMPLATE_WITHOUT_IMPORTS = '''"""${message}

Revision ID: ${up_revision}
Create Date: ${create_date}
"""
import sqlalchemy as sa
from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


@pytest.fixture
def database(aana_test_databases: TestDatabases) -> Iterator[Engine]:
    """An empty database on the selected backend, dropped afterwards."""
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=False)
    yield engine
    aana_test_databases.drop(engine)


def run(
    *args: str, project: Path, engine: Engine | None = None, db_config: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command of the virtualenv in the app's project, the app importable."""
    env = {k: v for k, v in os.environ.items() if k != "DB_CONFIG" and k != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = str(project)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if engine is not None:
        env["DB_CONFIG"] = db_settings_for(engine.url).model_dump_json()
    if db_config is not None:
        env["DB_CONFIG"] = db_config
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def revisions(project: Path) -> list[Path]:
    return sorted((project / "clips_app" / "migrations" / "versions").glob("*.py"))


def scaffold(tmp_path: Path) -> Path:
    project = tmp_path / "clips"
    project.mkdir()
    done = run("aana", "init", "clips_app", project=project)
    assert done.returncode == 0, done.stderr
    return project


RENDERED_TYPES = {
    "Integer": "sa.Integer()",
    "Double": "sa.Double()",
    "String": "sa.String(",
    "Uuid": "sa.Uuid()",
    "JSON": "sa.JSON()",
    "Enum": "sa.Enum(",
    "UtcDateTime": "aana.storage.types.UtcDateTime(timezone=True)",
}


def test_the_app_below_covers_every_column_type_of_aanas_entities() -> None:
    """The types rendered in the app's revision (checked below) are all of aana's."""
    tables = BaseEntity.metadata.tables.values()
    used = {type(column.type).__name__ for table in tables for column in table.columns}
    assert used == set(RENDERED_TYPES)


@pytest.mark.subprocesses
def test_a_scaffolded_app_from_models_to_tests(database: Engine, tmp_path: Path) -> None:
    project = scaffold(tmp_path)
    (project / "clips_app" / "models.py").write_text(MODELS)
    assert run("aana", "migrate", SPEC, project=project, engine=database).returncode == 0

    done = run(
        "aana",
        "revision",
        SPEC,
        "--autogenerate",
        "-m",
        "Add playlists",
        project=project,
        engine=database,
    )
    assert done.returncode == 0, done.stderr
    (first,) = revisions(project)
    content = first.read_text()
    assert content.count("import aana.storage.types\n") == 1
    assert "aana.storage.types.UtcDateTime(timezone=True)" in content
    assert "name='visibility'" in content
    for rendered in RENDERED_TYPES.values():
        assert rendered in content, rendered

    # A template that renders no imports: the revision gets them all the same.
    (project / "clips_app" / "migrations" / "script.py.mako").write_text(TEMPLATE_WITHOUT_IMPORTS)
    (project / "clips_app" / "models.py").write_text(MODELS + LATER_MODEL)
    assert run("aana", "migrate", SPEC, project=project, engine=database).returncode == 0
    done = run(
        "aana",
        "revision",
        SPEC,
        "--autogenerate",
        "-m",
        "Add chapters",
        project=project,
        engine=database,
    )
    assert done.returncode == 0, done.stderr
    (second,) = set(revisions(project)) - {first}
    assert "\nimport aana.storage.types\n" in second.read_text()

    done = run("aana", "migrate", SPEC, project=project, engine=database)
    assert done.returncode == 0, done.stderr
    assert "Database: " in done.stderr
    tables = set(inspect(database).get_table_names())
    assert {"playlist", "playlist_item", "extended_transcript", "chapter", "media"} <= tables
    referred = {
        key["referred_table"] for key in inspect(database).get_foreign_keys("playlist_item")
    }
    assert referred == {"playlist", "media"}
    done = run("aana", "migrate", "--check", SPEC, project=project, engine=database)
    assert (done.returncode, done.stdout) == (
        0,
        "Database at head; the models match the migrations.\n",
    )

    # Nothing changed: nothing written.
    done = run(
        "aana",
        "revision",
        SPEC,
        "--autogenerate",
        "-m",
        "Nothing",
        project=project,
        engine=database,
    )
    assert done.returncode == 0, done.stderr
    assert "No changes" in done.stdout
    assert len(revisions(project)) == 2

    # The models module forgotten: the revision that would drop the app's tables is refused.
    (project / "clips_app" / "models.py").write_text('"""Nothing mapped."""\n')
    done = run(
        "aana", "revision", SPEC, "--autogenerate", "-m", "Oops", project=project, engine=database
    )
    assert done.returncode == 1
    assert (
        "would drop table(s) chapter, extended_transcript, playlist, playlist_item" in done.stderr
    )
    assert "--allow-drop" in done.stderr
    assert len(revisions(project)) == 2
    done = run(
        "aana",
        "revision",
        SPEC,
        "--autogenerate",
        "--allow-drop",
        "-m",
        "Drop all",
        project=project,
        engine=database,
    )
    assert done.returncode == 0, done.stderr
    (dropping,) = set(revisions(project)) - {first, second}
    assert "op.drop_table('playlist')" in dropping.read_text()
    dropping.unlink()
    (project / "clips_app" / "models.py").write_text(MODELS + LATER_MODEL)

    # current, downgrade and history, on both lineages.
    done = run("aana", "current", SPEC, project=project, engine=database)
    assert done.returncode == 0, done.stderr
    assert "aana: 0001_initial (head)" in done.stdout
    assert "clips_app: " in done.stdout and "(head) Add chapters" in done.stdout
    done = run("aana", "downgrade", SPEC, "--to", "clips_app@-1", project=project, engine=database)
    assert done.returncode == 0, done.stderr
    assert "chapter" not in inspect(database).get_table_names()
    done = run("aana", "current", SPEC, project=project, engine=database)
    assert "(1 pending) Add playlists" in done.stdout
    done = run("aana", "history", SPEC, project=project)
    assert "Add chapters" in done.stdout and "Initial schema" in done.stdout

    # Without the app, the database's revision is unknown: the error says to name the app.
    done = run("aana", "migrate", project=project, engine=database)
    assert done.returncode == 1
    assert "Hint: the database is at" in done.stderr and "Name the app" in done.stderr
    # Behind head, `aana revision` says to migrate first.
    done = run(
        "aana", "revision", SPEC, "--autogenerate", "-m", "Early", project=project, engine=database
    )
    assert done.returncode == 1
    assert f"run `aana migrate {SPEC}` first" in done.stderr
    assert run("aana", "migrate", SPEC, project=project, engine=database).returncode == 0

    # The app's tests, with the plugin, on this run's backend, with pytest-alembic's checks.
    (project / "tests" / "test_clips.py").write_text(APP_TEST)
    args = ["pytest", "-p", "no:cacheprovider", "-q", "--test-alembic"]
    if database.dialect.name == "postgresql":
        server = database.url.set(database="postgres").render_as_string(hide_password=False)
        args += ["--aana-db", "postgresql", "--aana-postgres-url", server]
    done = run(*args, project=project)
    assert done.returncode == 0, done.stdout + done.stderr
    # The app's tests and the migration checks, the plugin's single head per lineage among them.
    assert "6 passed" in done.stdout


@pytest.mark.subprocesses
def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[tox]\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    done = run("aana", "init", "clips_app", project=tmp_path)
    assert done.returncode == 1
    assert "not overwriting existing files: tox.ini; nothing written" in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pyproject.toml", "tox.ini"]
    assert (tmp_path / "tox.ini").read_text() == "[tox]\n"


@pytest.mark.subprocesses
def test_init_keeps_existing_starters(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    done = run("aana", "init", "clips_app", project=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "kept  pyproject.toml (exists)" in done.stdout
    assert (tmp_path / "pyproject.toml").read_text() == "[project]\n"
    assert "aana_models = clips_app.models" in (tmp_path / "clips_app" / "alembic.ini").read_text()


@pytest.mark.subprocesses
def test_init_refuses_a_name_that_is_not_a_package(tmp_path: Path) -> None:
    done = run("aana", "init", "clips-app", project=tmp_path)
    assert done.returncode == 1
    assert "'clips-app' is not a Python package name" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.subprocesses
def test_an_app_spec_naming_a_missing_attribute(tmp_path: Path) -> None:
    project = scaffold(tmp_path)
    done = run("aana", "migrate", "clips_app.app:nope", project=project)
    assert done.returncode == 2
    assert "module 'clips_app.app' has no attribute 'nope'" in done.stderr


@pytest.mark.subprocesses
def test_a_missing_postgresql_database_is_named_with_how_to_create_it(
    database: Engine, tmp_path: Path
) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: an SQLite file is created when missing")
    config = json.loads(db_settings_for(database.url).model_dump_json())
    config["datastore_config"]["database"] = f"{database.url.database}_missing"
    done = run("aana", "migrate", project=tmp_path, db_config=json.dumps(config))
    assert done.returncode == 1
    assert f"Hint: database '{database.url.database}_missing' does not exist" in done.stderr
    assert "createdb -h " in done.stderr


def test_without_db_config_the_default_database_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process: the command itself would create /var/lib/aana_data."""
    monkeypatch.delenv("DB_CONFIG", raising=False)
    aana.cli._settings()
    err = capsys.readouterr().err
    assert "DB_CONFIG is not set: using the default SQLite database /var/lib/aana_data" in err
    assert "Database: SQLite file /var/lib/aana_data" in err


def test_the_database_line_masks_the_password() -> None:
    settings = DbSettings.model_validate(
        {
            "datastore_type": "postgresql",
            "datastore_config": {"host": "db", "user": "u", "password": "sekrit", "database": "d"},
        }
    )
    assert aana.cli._describe(settings) == "postgresql://u:***@db:5432/d"
