"""Regenerate the Aana SDK 0.2.4 app databases in ``tests/data`` with the real Aana SDK 0.2.4.

Usage (from the repository root)::

    python tests/data/make_aana_0_2_4_database.py [--postgres-url postgresql://...]

It installs ``aana==0.2.4`` from the package index into a throwaway virtualenv, without its
machine-learning dependencies (only the few packages its storage layer imports), and runs
this file again in that virtualenv for each database. There, Aana SDK 0.2.4's own code does
everything: its migrations create its tables, and its entities and repositories write the
rows. The app is the docs' ``ExtendedVideoEntity``, on Aana's ``VideoEntity``, in two
layouts an Aana app could have:

- ``create_all``: Aana's migrations, then the app's table made by ``metadata.create_all``;
  ``alembic_version`` holds Aana's last revision, ``acb40dabc2c0``;
- ``revisions``: the app's own Alembic revision, stacked on Aana's last one in the app's
  migrations folder (Aana's revisions, copied there at generation time, plus the app's), run
  by Aana's ``run_alembic_migrations``; ``alembic_version`` holds the app's revision.

Each is written as ``aana_sdk_0_2_4_<layout>.db`` (SQLite) and, with ``--postgres-url``, as
``aana_sdk_0_2_4_<layout>.sql`` (a ``pg_dump --inserts`` of a scratch PostgreSQL database,
dropped afterwards), with ``<same name>.json``: the ids of what was written, by kind.

Rows: videos and extended videos, captions, transcripts, tasks in every status (their data:
plain JSON data, a tuple, a pydantic model, a datetime, NUL, a lone surrogate; a result with
NUL), and webhooks (a system one and a user's).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AANA_SDK = "aana==0.2.4"
# What Aana SDK 0.2.4's storage layer imports, at versions of its time.
STORAGE_DEPENDENCIES = [
    "sqlalchemy==2.0.36",
    "alembic==1.14.0",
    "pydantic==2.10.4",
    "pydantic-settings==2.7.1",
    "orjson==3.10.13",
    "requests",
    "tqdm",
    "numpy<2",
    "psycopg[binary]==3.2.3",
]
LAYOUTS = ("create_all", "revisions")
APP_REVISION = "7e1f0c2a9b31"

APP_REVISION_SOURCE = '''"""Add extended_video: the Aana app's own revision, stacked on Aana SDK's.

Revision ID: {revision}
Revises: acb40dabc2c0
"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "acb40dabc2c0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extended_video",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True, comment="Video duration in seconds"),
        sa.Column(
            "status",
            sa.Enum("CREATED", "RUNNING", "COMPLETED", "FAILED", name="videoprocessingstatus"),
            nullable=False,
            comment="Processing status",
        ),
        sa.ForeignKeyConstraint(["id"], ["video.id"], name=op.f("fk_extended_video_id_video")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extended_video")),
    )


def downgrade() -> None:
    op.drop_table("extended_video")
'''


def main() -> None:
    """Build the throwaway virtualenv, then write each database from inside it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", help="a PostgreSQL server to write the .sql dumps on")
    parser.add_argument("--inside", nargs=3, metavar=("LAYOUT", "URL", "MANIFEST"))
    arguments = parser.parse_args()
    if arguments.inside:
        layout, url, manifest = arguments.inside
        write_database(layout, url, Path(manifest))
        return
    with tempfile.TemporaryDirectory(prefix="aana-0.2.4-") as scratch:
        python = _virtualenv(Path(scratch) / "venv")
        for layout in LAYOUTS:
            name = f"aana_sdk_0_2_4_{layout}"
            database = HERE / f"{name}.db"
            database.unlink(missing_ok=True)
            _inside(python, layout, f"sqlite:///{database}", HERE / f"{name}.json")
            if arguments.postgres_url:
                _postgres(python, layout, arguments.postgres_url, name)


def _virtualenv(folder: Path) -> Path:
    """Install Aana SDK 0.2.4 and its storage layer's dependencies; return its python."""
    if shutil.which("uv"):
        subprocess.run(["uv", "venv", "-q", str(folder)], check=True)
        python = folder / "bin" / "python"
        install = ["uv", "pip", "install", "-q", "--python", str(python)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        python = folder / "bin" / "python"
        install = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*install, "--no-deps", AANA_SDK], check=True)
    subprocess.run([*install, *STORAGE_DEPENDENCIES], check=True)
    return python


def _inside(python: Path, layout: str, url: str, manifest: Path) -> None:
    subprocess.run(
        [str(python), __file__, "--inside", layout, url, str(manifest)],
        check=True,
        cwd=tempfile.gettempdir(),  # so that this repository's aana is not importable
        env={k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DB_CONFIG"}},
    )


def _postgres(python: Path, layout: str, server_url: str, name: str) -> None:
    """Write the layout on a scratch PostgreSQL database, dump it, and drop it."""
    import psycopg  # the repository's own dependency

    database = f"aana_sdk_0_2_4_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        url = server_url.rsplit("/", 1)[0] + f"/{database}"
        manifest = HERE / f"{name}.postgresql.json"
        _inside(python, layout, url, manifest)
        dump = subprocess.run(
            ["pg_dump", "--inserts", "--no-owner", "--no-privileges", "--dbname", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # psql's meta-commands (\restrict) mean nothing to a driver; comments are noise.
        lines = [line for line in dump.splitlines() if line and not line.startswith(("\\", "--"))]
        (HERE / f"{name}.sql").write_text("\n".join(lines) + "\n")
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


# Everything below runs inside the throwaway virtualenv, with Aana SDK 0.2.4 installed.


def write_database(layout: str, url: str, manifest: Path) -> None:
    """Create Aana SDK 0.2.4's tables and the app's in the database at ``url``, and fill them."""
    os.environ["DB_CONFIG"] = json.dumps(_db_config(url))
    _stub_video_decoding()

    from aana.configs.settings import settings
    from aana.storage.op import run_alembic_migrations

    if layout == "create_all":
        run_alembic_migrations(settings)
        from aana.storage.models.base import BaseEntity

        extended = _extended_video_entity()
        BaseEntity.metadata.create_all(settings.db_config.get_engine(), tables=[extended.__table__])
    else:
        with tempfile.TemporaryDirectory() as app_root:
            run_alembic_migrations(settings, root_path=_app_migrations(Path(app_root)))
        extended = _extended_video_entity()
    written = _fill(settings.db_config.get_engine(), extended)
    manifest.write_text(json.dumps(written, indent=2, sort_keys=True) + "\n")
    settings.db_config.get_engine().dispose()


def _db_config(url: str) -> dict[str, Any]:
    if url.startswith("sqlite:///"):
        return {"datastore_type": "sqlite", "datastore_config": {"path": url[10:]}}
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    return {
        "datastore_type": "postgresql",
        "datastore_config": {
            "host": parts.host,
            "port": str(parts.port or 5432),
            "user": parts.username,
            "password": parts.password or "",
            "database": parts.database,
        },
    }


def _stub_video_decoding() -> None:
    """Stand in for torch and decord, which Aana's video model imports to decode frames."""
    import types

    decord = types.ModuleType("decord")
    decord.DECORDError = type("DECORDError", (Exception,), {})
    sys.modules.setdefault("torch", types.ModuleType("torch"))
    sys.modules.setdefault("decord", decord)


def _app_migrations(root: Path) -> Path:
    """The app's migrations folder: Aana's own revisions and env.py, plus the app's revision."""
    import aana

    package = Path(aana.__file__).parent
    shutil.copy(package / "alembic.ini", root / "alembic.ini")
    shutil.copytree(package / "alembic", root / "alembic")
    (root / "alembic" / "versions" / f"{APP_REVISION}_add_extended_video.py").write_text(
        APP_REVISION_SOURCE.format(revision=APP_REVISION)
    )
    return root


def _extended_video_entity() -> Any:
    """The docs' ExtendedVideoEntity, on Aana SDK 0.2.4's VideoEntity."""
    from enum import Enum

    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import Mapped, mapped_column

    from aana.core.models.media import MediaId
    from aana.storage.models.video import VideoEntity

    class VideoProcessingStatus(str, Enum):  # noqa: UP042 (the docs' entity, verbatim)
        CREATED = "created"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    class ExtendedVideoEntity(VideoEntity):
        __tablename__ = "extended_video"

        id: Mapped[MediaId] = mapped_column(ForeignKey("video.id"), primary_key=True)
        duration: Mapped[float | None] = mapped_column(comment="Video duration in seconds")
        status: Mapped[VideoProcessingStatus] = mapped_column(
            nullable=False,
            default=VideoProcessingStatus.CREATED,
            comment="Processing status",
        )

        __mapper_args__ = {"polymorphic_identity": "extended_video"}  # noqa: RUF012

    ExtendedVideoEntity.Status = VideoProcessingStatus
    return ExtendedVideoEntity


def _fill(engine: Any, extended: Any) -> dict[str, Any]:
    """Write rows through Aana's repositories; return what was written, by kind."""
    import datetime

    from sqlalchemy.orm import Session

    from aana.core.models.video import VideoInput
    from aana.storage.models import CaptionEntity, TranscriptEntity, VideoEntity
    from aana.storage.models.task import Status
    from aana.storage.models.webhook import WebhookEntity, WebhookEventType
    from aana.storage.repository.caption import CaptionRepository
    from aana.storage.repository.task import TaskRepository
    from aana.storage.repository.transcript import TranscriptRepository
    from aana.storage.repository.video import VideoRepository
    from aana.storage.repository.webhook import WebhookRepository

    written: dict[str, Any] = {"videos": [], "extended_videos": [], "tasks": {}, "webhooks": {}}
    with Session(engine) as session:
        videos = VideoRepository(session)
        for index in range(2):
            media_id = f"aana-video-{index}"
            videos.create(
                VideoEntity(
                    id=media_id,
                    path=f"/data/{index}.mp4",
                    url=None,
                    title=f"Video {index}",
                    description="",
                )
            )
            written["videos"].append(media_id)
        extended_videos = VideoRepository(session, extended)
        for index, status in enumerate(extended.Status):
            media_id = f"extended-video-{index}"
            extended_videos.create(
                extended(
                    id=media_id,
                    url=f"https://example.com/{index}.mp4",
                    title=f"Extended {index}",
                    duration=12.5 * (index + 1),
                    status=status,
                )
            )
            written["extended_videos"].append(
                {"id": media_id, "duration": 12.5 * (index + 1), "status": status.name}
            )
        captions = CaptionRepository(session)
        for frame in range(3):
            captions.save("blip2", f"A frame {frame}", frame * 0.5, frame)
        TranscriptRepository(session).create(
            TranscriptEntity(
                model="whisper",
                transcript="Hello world",
                segments=[{"text": "Hello world", "time_interval": {"start": 0.0, "end": 1.5}}],
                language="en",
                language_confidence=0.9,
                transcript_type="transcript",
            )
        )
        assert isinstance(session.get(CaptionEntity, 1), CaptionEntity)

        tasks = TaskRepository(session)
        data: dict[str, Any] = {
            "plain": {"video": {"url": "https://example.com/0.mp4"}, "n": 1, "ok": True},
            "tuple": {"frames": (1, 2, 3), "size": [640, 480]},
            "pydantic": {"video": VideoInput(url="https://example.com/v.mp4", media_id="v1")},
            "datetime": {"at": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)},
            "nul": {"text": "before\x00after"},
            "surrogate": {"text": "half \ud83d pair"},
        }
        statuses = list(Status)
        for index, (kind, value) in enumerate(data.items()):
            status = statuses[index % len(statuses)]
            task = tasks.save("/video/caption", value, user_id=f"user-{index % 2}", priority=index)
            result = {"n": index} if status == Status.COMPLETED else None
            if status == Status.FAILED:
                result = {"error": "TimeoutError", "message": "took too long"}
            if status != Status.CREATED:
                tasks.update_status(str(task.id), status, progress=50 + index, result=result)
            written["tasks"][str(task.id)] = {"kind": kind, "status": status.name}
        for status in statuses:  # one plain task more in every status
            task = tasks.save("/video/transcribe", {"status": status.name}, priority=1)
            if status != Status.CREATED:
                tasks.update_status(str(task.id), status, progress=10, result={"s": status.name})
            written["tasks"][str(task.id)] = {"kind": "plain", "status": status.name}
        task = tasks.save("/video/describe", {"n": 0})
        tasks.update_status(str(task.id), Status.COMPLETED, 100, {"text": "nul\x00 in result"})
        written["tasks"][str(task.id)] = {"kind": "result_nul", "status": "COMPLETED"}

        webhooks = WebhookRepository(session)
        system = webhooks.save(WebhookEntity(url="https://hooks.example.com/all", events=[]))
        users = webhooks.save(
            WebhookEntity(
                user_id="user-1",
                url="https://hooks.example.com/user-1",
                events=[WebhookEventType.TASK_COMPLETED, WebhookEventType.TASK_FAILED],
            )
        )
        written["webhooks"] = {str(system.id): "system", str(users.id): "user-1"}
    return written


if __name__ == "__main__":
    main()
