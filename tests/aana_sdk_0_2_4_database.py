"""A database as Aana SDK 0.2.4 leaves it: its final schema and rows in every table.

The DDL is written from Aana SDK 0.2.4's four migrations (``5ad873484aa3`` to
``acb40dabc2c0``) as its Alembic runs render them on each backend, not from aana's code, so
that adopting it tests the adoption against an independent description.
"""

import datetime
import json
import pickle
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

AANA_SDK_HEAD = "acb40dabc2c0"

_SQLITE = """
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE caption (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    frame_id INTEGER NOT NULL,
    caption VARCHAR NOT NULL,
    timestamp FLOAT NOT NULL,
    caption_type VARCHAR NOT NULL,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_caption PRIMARY KEY (id)
);
CREATE TABLE media (
    id VARCHAR(36) NOT NULL,
    media_type VARCHAR NOT NULL,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_media PRIMARY KEY (id)
);
CREATE TABLE transcript (
    id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    transcript VARCHAR NOT NULL,
    segments JSON NOT NULL,
    language VARCHAR NOT NULL,
    language_confidence FLOAT NOT NULL,
    transcript_type VARCHAR NOT NULL,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_transcript PRIMARY KEY (id)
);
CREATE TABLE video (
    id VARCHAR(36) NOT NULL,
    path VARCHAR,
    url VARCHAR,
    title VARCHAR,
    description VARCHAR,
    CONSTRAINT pk_video PRIMARY KEY (id),
    CONSTRAINT fk_video_id_media FOREIGN KEY(id) REFERENCES media (id)
);
CREATE TABLE tasks (
    id UUID NOT NULL,
    endpoint VARCHAR NOT NULL,
    data BLOB NOT NULL,
    status VARCHAR(12) NOT NULL,
    priority INTEGER NOT NULL,
    assigned_at DATETIME,
    completed_at DATETIME,
    progress FLOAT NOT NULL,
    result JSON,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    num_retries INTEGER DEFAULT 0 NOT NULL,
    user_id VARCHAR,
    CONSTRAINT pk_tasks PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_user_id ON tasks (user_id);
CREATE TABLE webhooks (
    id UUID NOT NULL,
    user_id VARCHAR,
    url VARCHAR NOT NULL,
    events JSON NOT NULL,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_webhooks PRIMARY KEY (id)
);
CREATE INDEX ix_webhooks_user_id ON webhooks (user_id);
"""

_POSTGRESQL = """
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE caption (
    id SERIAL NOT NULL,
    model VARCHAR NOT NULL,
    frame_id INTEGER NOT NULL,
    caption VARCHAR NOT NULL,
    timestamp FLOAT NOT NULL,
    caption_type VARCHAR NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_caption PRIMARY KEY (id)
);
COMMENT ON COLUMN caption.model IS 'Name of model used to generate the caption';
COMMENT ON COLUMN caption.frame_id IS 'The 0-based frame id of video for caption';
COMMENT ON COLUMN caption.caption IS 'Frame caption';
COMMENT ON COLUMN caption.timestamp IS 'Frame timestamp in seconds';
COMMENT ON COLUMN caption.caption_type IS 'The type of caption';
COMMENT ON COLUMN caption.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN caption.updated_at IS 'Timestamp when row is updated';
CREATE TABLE media (
    id VARCHAR(36) NOT NULL,
    media_type VARCHAR NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_media PRIMARY KEY (id)
);
COMMENT ON COLUMN media.id IS 'Unique identifier for the media';
COMMENT ON COLUMN media.media_type IS 'The type of media';
COMMENT ON COLUMN media.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN media.updated_at IS 'Timestamp when row is updated';
CREATE TYPE status AS ENUM (
    'CREATED', 'ASSIGNED', 'COMPLETED', 'RUNNING', 'FAILED', 'NOT_FINISHED'
);
CREATE TABLE tasks (
    id UUID NOT NULL,
    endpoint VARCHAR NOT NULL,
    data BYTEA NOT NULL,
    status status NOT NULL,
    priority INTEGER NOT NULL,
    assigned_at TIMESTAMP WITH TIME ZONE,
    completed_at TIMESTAMP WITH TIME ZONE,
    progress FLOAT NOT NULL,
    result JSON,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    num_retries INTEGER DEFAULT 0 NOT NULL,
    user_id VARCHAR,
    CONSTRAINT pk_tasks PRIMARY KEY (id)
);
COMMENT ON COLUMN tasks.id IS 'Task ID';
COMMENT ON COLUMN tasks.endpoint IS 'The endpoint to which the task is assigned';
COMMENT ON COLUMN tasks.data IS 'Data for the task';
COMMENT ON COLUMN tasks.status IS 'Status of the task';
COMMENT ON COLUMN tasks.priority IS 'Priority of the task (0 is the lowest)';
COMMENT ON COLUMN tasks.assigned_at IS 'Timestamp when the task was assigned';
COMMENT ON COLUMN tasks.completed_at IS 'Timestamp when the task was completed';
COMMENT ON COLUMN tasks.progress IS 'Progress of the task in percentage';
COMMENT ON COLUMN tasks.result IS 'Result of the task in JSON format';
COMMENT ON COLUMN tasks.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN tasks.updated_at IS 'Timestamp when row is updated';
COMMENT ON COLUMN tasks.num_retries IS 'Number of retries';
COMMENT ON COLUMN tasks.user_id IS 'ID of the user who launched the task';
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_user_id ON tasks (user_id);
CREATE TABLE transcript (
    id SERIAL NOT NULL,
    model VARCHAR NOT NULL,
    transcript VARCHAR NOT NULL,
    segments JSON NOT NULL,
    language VARCHAR NOT NULL,
    language_confidence FLOAT NOT NULL,
    transcript_type VARCHAR NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_transcript PRIMARY KEY (id)
);
COMMENT ON COLUMN transcript.model IS 'Name of model used to generate transcript';
COMMENT ON COLUMN transcript.transcript IS 'Full text transcript of media';
COMMENT ON COLUMN transcript.segments IS 'Segments of the transcript';
COMMENT ON COLUMN transcript.language IS 'Language of the transcript as predicted by model';
COMMENT ON COLUMN transcript.language_confidence IS 'Confidence score of language prediction';
COMMENT ON COLUMN transcript.transcript_type IS 'The type of transcript';
COMMENT ON COLUMN transcript.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN transcript.updated_at IS 'Timestamp when row is updated';
CREATE TABLE video (
    id VARCHAR(36) NOT NULL,
    path VARCHAR,
    url VARCHAR,
    title VARCHAR,
    description VARCHAR,
    CONSTRAINT pk_video PRIMARY KEY (id),
    CONSTRAINT fk_video_id_media FOREIGN KEY(id) REFERENCES media (id)
);
COMMENT ON COLUMN video.path IS 'Path';
COMMENT ON COLUMN video.url IS 'URL';
COMMENT ON COLUMN video.title IS 'Title';
COMMENT ON COLUMN video.description IS 'Description';
CREATE TABLE webhooks (
    id UUID NOT NULL,
    user_id VARCHAR,
    url VARCHAR NOT NULL,
    events JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL,
    CONSTRAINT pk_webhooks PRIMARY KEY (id)
);
COMMENT ON COLUMN webhooks.id IS 'Webhook ID';
COMMENT ON COLUMN webhooks.user_id IS 'The user ID associated with the webhook';
COMMENT ON COLUMN webhooks.url IS 'The URL to which the webhook will send requests';
COMMENT ON COLUMN webhooks.events IS 'List of events the webhook is subscribed to. '
    'If None, the webhook is subscribed to all events.';
COMMENT ON COLUMN webhooks.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN webhooks.updated_at IS 'Timestamp when row is updated';
CREATE INDEX ix_webhooks_user_id ON webhooks (user_id);
"""

T0 = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)


class _NotPlainData:
    """Stands for the pydantic models Aana pickled into task data."""

    def __init__(self, url: str) -> None:
        self.url = url


@dataclass
class AanaSdkRows:
    """The rows written, to compare with what aana reads back."""

    video_ids: list[str] = field(default_factory=list)
    tasks: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    not_plain_task: uuid.UUID = field(default_factory=uuid.uuid4)
    webhook_id: uuid.UUID = field(default_factory=uuid.uuid4)


def create_aana_sdk_database(engine: Engine, revision: str = AANA_SDK_HEAD) -> AanaSdkRows:
    """Create Aana SDK 0.2.4's final schema in an empty database and fill every table."""
    ddl = _POSTGRESQL if engine.dialect.name == "postgresql" else _SQLITE
    rows = AanaSdkRows()
    with engine.connect() as connection, connection.begin():
        for statement in ddl.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)
        connection.execute(
            text("INSERT INTO alembic_version (version_num) VALUES (:revision)"),
            {"revision": revision},
        )
        _fill(connection, rows)
    return rows


def _uuid(connection: Connection, value: uuid.UUID) -> Any:
    # Aana's UUID columns: native on PostgreSQL; on SQLite, SQLAlchemy stores 32 hex characters.
    return value if connection.dialect.name == "postgresql" else value.hex


def _when(connection: Connection, value: datetime.datetime) -> Any:
    # SQLAlchemy's SQLite DATETIME, as Aana wrote it: UTC wall-clock text.
    if connection.dialect.name == "postgresql":
        return value
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fill(connection: Connection, rows: AanaSdkRows) -> None:
    for index in range(3):
        media_id = f"aana-sdk-video-{index}"
        rows.video_ids.append(media_id)
        connection.execute(
            text(
                "INSERT INTO media (id, media_type, created_at, updated_at) "
                "VALUES (:id, 'video', :at, :at)"
            ),
            {"id": media_id, "at": _when(connection, T0)},
        )
        connection.execute(
            text(
                "INSERT INTO video (id, path, url, title, description) "
                "VALUES (:id, :path, :url, :title, :description)"
            ),
            {
                "id": media_id,
                "path": f"/data/{index}.mp4" if index else None,
                "url": f"https://example.com/{index}.mp4",
                "title": f"Video {index}",
                "description": "" if index == 2 else f"About video {index}",
            },
        )
        connection.execute(
            text(
                "INSERT INTO caption (model, frame_id, caption, timestamp, caption_type) "
                "VALUES ('blip2', :frame, :caption, :timestamp, 'caption')"
            ),
            {"frame": index, "caption": f"A frame {index}", "timestamp": index * 0.5},
        )
        connection.execute(
            text(
                "INSERT INTO transcript (model, transcript, segments, language, "
                "language_confidence, transcript_type) VALUES ('whisper', :text, :segments, "
                "'en', 0.9, 'transcript')"
            ),
            {
                "text": f"Hello {index}",
                "segments": f'[{{"text": "Hello {index}", "time_interval": '
                f'{{"start": 0.0, "end": 1.5}}}}]',
            },
        )
    statuses = ["CREATED", "ASSIGNED", "COMPLETED", "RUNNING", "FAILED", "NOT_FINISHED"]
    for index, status in enumerate(statuses):
        task_id = uuid.uuid4()
        data = {"media": {"url": f"https://example.com/{index}.mp4"}, "n": index, "ok": True}
        result = {"error": "Timeout"} if status == "FAILED" else {"n": index}
        rows.tasks[task_id] = {"status": status.lower(), "data": data, "result": result}
        _insert_task(connection, task_id, status, pickle.dumps(data), result, index)
    opaque = pickle.dumps({"video": _NotPlainData("https://example.com/x.mp4")})
    rows.tasks[rows.not_plain_task] = {"status": "completed", "data": opaque, "result": None}
    _insert_task(connection, rows.not_plain_task, "COMPLETED", opaque, None, 7)
    connection.execute(
        text("INSERT INTO webhooks (id, user_id, url, events) VALUES (:id, 'u1', :url, :events)"),
        {
            "id": _uuid(connection, rows.webhook_id),
            "url": "https://hooks.example.com/aana",
            "events": '["task.completed"]',
        },
    )


def _insert_task(
    connection: Connection,
    task_id: uuid.UUID,
    status: str,
    data: bytes,
    result: dict[str, Any] | None,
    index: int,
) -> None:
    connection.execute(
        text(
            "INSERT INTO tasks (id, endpoint, data, status, priority, assigned_at, "
            "completed_at, progress, result, num_retries, user_id, created_at, updated_at) "
            "VALUES (:id, '/video/caption', :data, :status, :priority, :assigned, NULL, "
            ":progress, :result, :retries, :user, :at, :at)"
        ),
        {
            "id": _uuid(connection, task_id),
            "data": data,
            "status": status,
            "priority": index % 3,
            "assigned": _when(connection, T0) if status != "CREATED" else None,
            "progress": 100.0 if status == "COMPLETED" else 12.5,
            "result": json.dumps(result) if result is not None else None,
            "retries": index % 2,
            "user": f"user-{index % 2}",
            "at": _when(connection, T0 + datetime.timedelta(minutes=index)),
        },
    )
