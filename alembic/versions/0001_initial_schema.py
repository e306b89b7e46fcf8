"""Initial schema: media, video, transcript, caption and tasks.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-28 11:45:31.887514

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("aana",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "caption",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "model",
            sa.String(),
            nullable=False,
            comment="Name of model used to generate the caption",
        ),
        sa.Column(
            "frame_id",
            sa.Integer(),
            nullable=False,
            comment="The 0-based frame id of video for caption",
        ),
        sa.Column("caption", sa.String(), nullable=False, comment="Frame caption"),
        sa.Column("timestamp", sa.Double(), nullable=False, comment="Frame timestamp in seconds"),
        sa.Column(
            "caption_type", sa.String(length=50), nullable=False, comment="The type of caption"
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is inserted",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is updated",
        ),
        sa.CheckConstraint("frame_id >= 0", name=op.f("ck_caption_frame_id_non_negative")),
        sa.CheckConstraint("timestamp >= 0", name=op.f("ck_caption_timestamp_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caption")),
    )
    op.create_table(
        "media",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("media_type", sa.String(length=50), nullable=False, comment="The type of media"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is inserted",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is updated",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), nullable=False, comment="Task ID"),
        sa.Column(
            "endpoint",
            sa.String(),
            nullable=False,
            comment="The endpoint to which the task is assigned",
        ),
        sa.Column("data", sa.JSON(), nullable=False, comment="Data for the task"),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "assigned",
                "completed",
                "running",
                "failed",
                "not_finished",
                name="task_status",
            ),
            nullable=False,
            comment="Status of the task",
        ),
        sa.Column(
            "priority", sa.Integer(), nullable=False, comment="Priority of the task (0 is lowest)"
        ),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Timestamp when the task was assigned",
        ),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Timestamp when the task was completed",
        ),
        sa.Column(
            "progress", sa.Double(), nullable=False, comment="Progress of the task in percent"
        ),
        sa.Column("result", sa.JSON(), nullable=True, comment="Result of the task in JSON format"),
        sa.Column("num_retries", sa.Integer(), nullable=False, comment="Number of retries"),
        sa.Column(
            "user_id",
            sa.String(length=255),
            nullable=True,
            comment="ID of the user who launched the task",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is inserted",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is updated",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_status"), "tasks", ["status"], unique=False)
    op.create_index(op.f("ix_tasks_user_id"), "tasks", ["user_id"], unique=False)

    op.create_table(
        "transcript",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "model",
            sa.String(),
            nullable=False,
            comment="Name of model used to generate transcript",
        ),
        sa.Column(
            "transcript", sa.String(), nullable=False, comment="Full text transcript of media"
        ),
        sa.Column("segments", sa.JSON(), nullable=False, comment="Segments of the transcript"),
        sa.Column(
            "language", sa.String(length=50), nullable=False, comment="Language of the transcript"
        ),
        sa.Column(
            "language_confidence",
            sa.Double(),
            nullable=False,
            comment="Confidence score of language prediction",
        ),
        sa.Column(
            "transcript_type",
            sa.String(length=50),
            nullable=False,
            comment="The type of transcript",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is inserted",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
            comment="Timestamp when row is updated",
        ),
        sa.CheckConstraint(
            "language_confidence >= 0 AND language_confidence <= 1",
            name=op.f("ck_transcript_language_confidence_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript")),
    )
    op.create_table(
        "video",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("path", sa.String(), nullable=True, comment="Path"),
        sa.Column("url", sa.String(), nullable=True, comment="URL"),
        sa.Column("title", sa.String(), nullable=True, comment="Title"),
        sa.Column("description", sa.String(), nullable=True, comment="Description"),
        sa.ForeignKeyConstraint(
            ["id"], ["media.id"], name=op.f("fk_video_id_media"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("video")
    op.drop_table("transcript")
    op.drop_index(op.f("ix_tasks_user_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_status"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("media")
    op.drop_table("caption")
    # drop_table leaves PostgreSQL enum types behind.
    sa.Enum(name="task_status").drop(op.get_bind(), checkfirst=True)
