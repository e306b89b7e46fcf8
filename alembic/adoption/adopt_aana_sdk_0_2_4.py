"""Adopt a database of Aana SDK 0.2.4: transform its schema into aana's 0001_initial.

Applied only by ``aana migrate`` on a database at Aana SDK 0.2.4's last revision
(``acb40dabc2c0``) whose schema was checked against that revision's, never on its own;
afterwards the database is recorded at ``0001_initial`` and goes on from there. Every row is
kept: task data, which Aana pickled, becomes JSON, or is kept as a base64 pickle, and results
aana would refuse to write are kept as JSON text (see
:mod:`aana.storage.migrations.aana_sdk_task_values`); task statuses become the values aana
stores. The ``webhooks`` table is left as it is.

Revision ID: adopt_aana_sdk_0_2_4
Revises:
Create Date: 2026-12-01 21:30:00

"""

import re
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from aana.core.models.media import MEDIA_ID_PATTERN
from aana.storage.migrations.aana_sdk_task_values import (
    REPORT_ATTRIBUTE,
    TaskValueReport,
    task_data,
    task_result,
)
from aana.storage.migrations.adoption import AdoptionError

revision: str = "adopt_aana_sdk_0_2_4"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

lands_on = "0001_initial"
"""The revision of aana's lineage whose schema this one leaves."""

_MEDIA_ID = re.compile(MEDIA_ID_PATTERN)

_SHORTER_COLUMNS = {
    ("media", "media_type"): 50,
    ("caption", "caption_type"): 50,
    ("transcript", "language"): 50,
    ("transcript", "transcript_type"): 50,
    ("tasks", "user_id"): 255,
}
_caption = sa.table("caption", sa.column("frame_id"), sa.column("timestamp"))
_transcript = sa.table("transcript", sa.column("language_confidence"))
_NEW_CHECKS: dict[str, dict[str, tuple[str, sa.ColumnElement[bool]]]] = {
    "caption": {
        "ck_caption_frame_id_non_negative": ("frame_id >= 0", _caption.c.frame_id < 0),
        "ck_caption_timestamp_non_negative": ("timestamp >= 0", _caption.c.timestamp < 0),
    },
    "transcript": {
        "ck_transcript_language_confidence_range": (
            "language_confidence >= 0 AND language_confidence <= 1",
            sa.or_(_transcript.c.language_confidence < 0, _transcript.c.language_confidence > 1),
        ),
    },
}
"""The CHECKs aana adds: each one's condition, and the condition of the rows it refuses."""


def upgrade() -> None:
    """Transform Aana SDK 0.2.4's schema into aana's, keeping every row."""
    bind = op.get_bind()
    _refuse_rows_that_would_not_fit(bind)
    _tasks(bind)
    with op.batch_alter_table("media") as batch:
        batch.alter_column(
            "id",
            existing_type=sa.String(36),
            existing_nullable=False,
            comment=None,
            existing_comment="Unique identifier for the media",
        )
        batch.alter_column(
            "media_type",
            type_=sa.String(50),
            existing_type=sa.String(),
            existing_nullable=False,
            existing_comment="The type of media",
        )
    with op.batch_alter_table("video") as batch:
        # Aana's key has no ON DELETE: deleting a media row left its video row blocking it.
        batch.drop_constraint("fk_video_id_media", type_="foreignkey")
        batch.create_foreign_key("fk_video_id_media", "media", ["id"], ["id"], ondelete="CASCADE")
    with op.batch_alter_table("caption") as batch:
        batch.alter_column(
            "caption_type",
            type_=sa.String(50),
            existing_type=sa.String(),
            existing_nullable=False,
            existing_comment="The type of caption",
        )
        batch.alter_column(
            "timestamp",
            type_=sa.Double(),
            existing_type=sa.Float(),
            existing_nullable=False,
            existing_comment="Frame timestamp in seconds",
        )
        for name, (condition, _) in _NEW_CHECKS["caption"].items():
            batch.create_check_constraint(op.f(name), condition)
    with op.batch_alter_table("transcript") as batch:
        batch.alter_column(
            "language",
            type_=sa.String(50),
            existing_type=sa.String(),
            existing_nullable=False,
            comment="Language of the transcript",
            existing_comment="Language of the transcript as predicted by model",
        )
        batch.alter_column(
            "transcript_type",
            type_=sa.String(50),
            existing_type=sa.String(),
            existing_nullable=False,
            existing_comment="The type of transcript",
        )
        batch.alter_column(
            "language_confidence",
            type_=sa.Double(),
            existing_type=sa.Float(),
            existing_nullable=False,
            existing_comment="Confidence score of language prediction",
        )
        for name, (condition, _) in _NEW_CHECKS["transcript"].items():
            batch.create_check_constraint(op.f(name), condition)


def downgrade() -> None:
    """An adopted database does not go back to Aana SDK's schema."""
    raise CommandError("adopt_aana_sdk_0_2_4 cannot be reverted: restore a backup instead")


def _tasks(bind: sa.Connection) -> None:
    op.add_column("tasks", sa.Column("data_json", sa.JSON(), nullable=True))
    _convert_task_values(bind)
    if bind.dialect.name == "postgresql":
        sa.Enum(
            "created",
            "assigned",
            "completed",
            "running",
            "failed",
            "not_finished",
            name="task_status",
        ).create(bind)
        op.alter_column(
            "tasks",
            "status",
            type_=sa.Enum(name="task_status"),
            postgresql_using="lower(status::text)::task_status",
            existing_nullable=False,
            existing_comment="Status of the task",
        )
        sa.Enum(name="status").drop(bind)
    else:
        op.execute(sa.text("UPDATE tasks SET status = lower(status)"))
    with op.batch_alter_table("tasks") as batch:
        # Aana's UUID is SQLite's "UUID" column of 32 hex characters; aana's Uuid is CHAR(32).
        batch.alter_column("id", type_=sa.Uuid(), existing_type=sa.UUID(), existing_nullable=False)
        batch.drop_column("data")
        batch.alter_column(
            "data_json",
            new_column_name="data",
            existing_type=sa.JSON(),
            nullable=False,
            comment="Data for the task",
        )
        batch.alter_column(
            "priority",
            existing_type=sa.Integer(),
            existing_nullable=False,
            comment="Priority of the task (0 is lowest)",
            existing_comment="Priority of the task (0 is the lowest)",
        )
        batch.alter_column(
            "progress",
            type_=sa.Double(),
            existing_type=sa.Float(),
            existing_nullable=False,
            comment="Progress of the task in percent",
            existing_comment="Progress of the task in percentage",
        )
        batch.alter_column(
            "num_retries",
            existing_type=sa.Integer(),
            existing_nullable=False,
            server_default=None,
            existing_comment="Number of retries",
        )
        batch.alter_column(
            "user_id",
            type_=sa.String(255),
            existing_type=sa.String(),
            existing_nullable=True,
            existing_comment="ID of the user who launched the task",
        )


def _convert_task_values(bind: sa.Connection) -> None:
    """Fill ``data_json`` from the pickles, and keep the results aana would refuse to write."""
    report = op.get_context().config.attributes.setdefault(REPORT_ATTRIBUTE, TaskValueReport())
    tasks = sa.table(
        "tasks",
        sa.column("id"),
        sa.column("data"),
        sa.column("data_json", sa.JSON),
        sa.column("result", sa.JSON),
    )
    rows = bind.execute(sa.select(tasks.c.id, tasks.c.data, tasks.c.result)).all()
    data, results = [], []
    for task_id, pickled, result in rows:
        name = str(uuid.UUID(str(task_id)))
        data.append({"task_id": task_id, "data_json": task_data(name, pickled, report)})
        kept = task_result(name, result, report)
        if kept is not result:
            results.append({"task_id": task_id, "result": kept})
    where = tasks.c.id == sa.bindparam("task_id")
    for values in (data, results):
        if values:
            bind.execute(tasks.update().where(where), values)


def _refuse_rows_that_would_not_fit(bind: sa.Connection) -> None:
    """Name the rows that aana's shorter columns or new CHECKs would refuse, before any change."""
    problems = []
    for (table, column), length in _SHORTER_COLUMNS.items():
        values = sa.table(table, sa.column(column))
        count = bind.scalar(
            sa.select(sa.func.count()).where(sa.func.length(values.c[column]) > length)
        )
        if count:
            problems.append(f"{table}.{column}: {count} row(s) longer than {length} characters")
    for table, checks in _NEW_CHECKS.items():
        for name, (condition, refused) in checks.items():
            count = bind.scalar(sa.select(sa.func.count()).where(refused))
            if count:
                problems.append(f"{table}: {count} row(s) break {name} ({condition})")
    refused_ids = [
        media_id
        for media_id in bind.scalars(sa.text("SELECT id FROM media ORDER BY id"))
        if not _MEDIA_ID.fullmatch(media_id)
    ]
    if refused_ids:
        examples = ", ".join(repr(media_id) for media_id in refused_ids[:3])
        problems.append(
            f"media.id: {len(refused_ids)} id(s) with characters other than letters, digits, "
            f"_ and - (aana's MediaId), such as {examples}"
        )
    if problems:
        raise AdoptionError(
            "The Aana SDK database has rows that aana's schema refuses; fix them with Aana "
            "SDK, then run aana migrate again:\n  " + "\n  ".join(problems)
        )
