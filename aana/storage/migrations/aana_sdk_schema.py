"""The schema that Aana SDK 0.2.4's migrations leave, to recognise a database it created.

Described from its four revisions (``5ad873484aa3`` to ``acb40dabc2c0``): what an adoption
checks a database against before transforming it. Only column names, types, nullability,
comments, keys and indexes are compared; server defaults are not.
"""

from sqlalchemy import (
    JSON,
    UUID,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB

AANA_SDK_REVISIONS = ("5ad873484aa3", "b9860676dd49", "d40eba8ebc4c", "acb40dabc2c0")
"""Aana SDK 0.2.4's revision ids, oldest first."""

AANA_SDK_HEAD = AANA_SDK_REVISIONS[-1]
"""The revision an Aana SDK 0.2.4 app leaves its database at: the one that can be adopted."""

AANA_SDK_STATUSES = ("CREATED", "ASSIGNED", "COMPLETED", "RUNNING", "FAILED", "NOT_FINISHED")
"""Aana stored the names of its ``Status`` members, not their values."""


def _timestamps() -> list[Column[object]]:
    return [
        Column(
            "created_at",
            DateTime(timezone=True),
            nullable=False,
            comment="Timestamp when row is inserted",
        ),
        Column(
            "updated_at",
            DateTime(timezone=True),
            nullable=False,
            comment="Timestamp when row is updated",
        ),
    ]


def aana_sdk_schema() -> MetaData:
    """Return Aana SDK 0.2.4's final schema as a fresh ``MetaData``.

    Returns:
        MetaData: The tables ``caption``, ``media``, ``tasks``, ``transcript``, ``video``
        and ``webhooks`` as Aana's migrations leave them.
    """
    metadata = MetaData()
    Table(
        "caption",
        metadata,
        Column("id", Integer, autoincrement=True, nullable=False),
        Column(
            "model",
            String,
            nullable=False,
            comment="Name of model used to generate the caption",
        ),
        Column(
            "frame_id",
            Integer,
            nullable=False,
            comment="The 0-based frame id of video for caption",
        ),
        Column("caption", String, nullable=False, comment="Frame caption"),
        Column("timestamp", Float, nullable=False, comment="Frame timestamp in seconds"),
        Column("caption_type", String, nullable=False, comment="The type of caption"),
        *_timestamps(),
        PrimaryKeyConstraint("id", name="pk_caption"),
    )
    Table(
        "media",
        metadata,
        Column("id", String(36), nullable=False, comment="Unique identifier for the media"),
        Column("media_type", String, nullable=False, comment="The type of media"),
        *_timestamps(),
        PrimaryKeyConstraint("id", name="pk_media"),
    )
    Table(
        "tasks",
        metadata,
        Column("id", UUID, nullable=False, comment="Task ID"),
        Column(
            "endpoint",
            String,
            nullable=False,
            comment="The endpoint to which the task is assigned",
        ),
        Column("data", LargeBinary, nullable=False, comment="Data for the task"),
        Column(
            "status",
            Enum(*AANA_SDK_STATUSES, name="status"),
            nullable=False,
            comment="Status of the task",
        ),
        Column(
            "priority",
            Integer,
            nullable=False,
            comment="Priority of the task (0 is the lowest)",
        ),
        Column(
            "assigned_at",
            DateTime(timezone=True),
            nullable=True,
            comment="Timestamp when the task was assigned",
        ),
        Column(
            "completed_at",
            DateTime(timezone=True),
            nullable=True,
            comment="Timestamp when the task was completed",
        ),
        Column("progress", Float, nullable=False, comment="Progress of the task in percentage"),
        Column("result", JSON, nullable=True, comment="Result of the task in JSON format"),
        *_timestamps(),
        Column("num_retries", Integer, nullable=False, comment="Number of retries"),
        Column("user_id", String, nullable=True, comment="ID of the user who launched the task"),
        PrimaryKeyConstraint("id", name="pk_tasks"),
        Index("ix_tasks_status", "status"),
        Index("ix_tasks_user_id", "user_id"),
    )
    Table(
        "transcript",
        metadata,
        Column("id", Integer, autoincrement=True, nullable=False),
        Column(
            "model",
            String,
            nullable=False,
            comment="Name of model used to generate transcript",
        ),
        Column("transcript", String, nullable=False, comment="Full text transcript of media"),
        Column("segments", JSON, nullable=False, comment="Segments of the transcript"),
        Column(
            "language",
            String,
            nullable=False,
            comment="Language of the transcript as predicted by model",
        ),
        Column(
            "language_confidence",
            Float,
            nullable=False,
            comment="Confidence score of language prediction",
        ),
        Column("transcript_type", String, nullable=False, comment="The type of transcript"),
        *_timestamps(),
        PrimaryKeyConstraint("id", name="pk_transcript"),
    )
    Table(
        "video",
        metadata,
        Column("id", String(36), nullable=False),
        Column("path", String, nullable=True, comment="Path"),
        Column("url", String, nullable=True, comment="URL"),
        Column("title", String, nullable=True, comment="Title"),
        Column("description", String, nullable=True, comment="Description"),
        ForeignKeyConstraint(["id"], ["media.id"], name="fk_video_id_media"),
        PrimaryKeyConstraint("id", name="pk_video"),
    )
    Table(
        "webhooks",
        metadata,
        Column("id", UUID, nullable=False, comment="Webhook ID"),
        Column(
            "user_id",
            String,
            nullable=True,
            comment="The user ID associated with the webhook",
        ),
        Column(
            "url",
            String,
            nullable=False,
            comment="The URL to which the webhook will send requests",
        ),
        Column(
            "events",
            JSON().with_variant(JSONB(), "postgresql"),
            nullable=False,
            comment="List of events the webhook is subscribed to. If None, the webhook is "
            "subscribed to all events.",
        ),
        *_timestamps(),
        PrimaryKeyConstraint("id", name="pk_webhooks"),
        Index("ix_webhooks_user_id", "user_id"),
    )
    return metadata
