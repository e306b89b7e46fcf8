"""Webhooks: the table of WebhookEntity, created, or taken over from Aana SDK 0.2.4.

A database adopted from Aana SDK 0.2.4 already has a ``webhooks`` table, with its rows: the
adoption keeps it as it is, and this revision maps it. Its columns are checked first, so
that a ``webhooks`` table of some other shape is refused rather than taken for Aana's. On
PostgreSQL the ``events`` column gets aana's comment; on SQLite the table is rebuilt, since
Aana declared its key as ``UUID``, a type SQLite gives numeric affinity (aana's ``Uuid``
column is ``CHAR(32)``, as for tasks).

Revision ID: 0004_webhooks
Revises: 0001_initial
Create Date: 2026-12-04 14:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError
from sqlalchemy.dialects import postgresql

revision: str = "0004_webhooks"
down_revision: str | Sequence[str] | None = "0003_task_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("id", "user_id", "url", "events", "created_at", "updated_at")
_EVENTS_COMMENT = (
    "List of events the webhook is subscribed to. An empty list subscribes it to all events."
)
_AANA_SDK_EVENTS_COMMENT = (
    "List of events the webhook is subscribed to. If None, the webhook is subscribed to all events."
)


def upgrade() -> None:
    """Create the webhooks table, or take over Aana SDK 0.2.4's."""
    bind = op.get_bind()
    if sa.inspect(bind).has_table("webhooks"):
        _take_over_aana_sdk_table(bind)
        return
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False, comment="Webhook ID"),
        sa.Column(
            "user_id",
            sa.String(),
            nullable=True,
            comment="The user ID associated with the webhook",
        ),
        sa.Column(
            "url",
            sa.String(),
            nullable=False,
            comment="The URL to which the webhook will send requests",
        ),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment=_EVENTS_COMMENT,
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_user_id"), "webhooks", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the webhooks table, and its rows."""
    op.drop_index(op.f("ix_webhooks_user_id"), table_name="webhooks")
    op.drop_table("webhooks")


def _take_over_aana_sdk_table(bind: sa.Connection) -> None:
    columns = {column["name"] for column in sa.inspect(bind).get_columns("webhooks")}
    if columns != set(_COLUMNS):
        missing = sorted(set(_COLUMNS) - columns)
        extra = sorted(columns - set(_COLUMNS))
        raise CommandError(
            "The database already has a table webhooks that is not Aana SDK 0.2.4's "
            f"(missing columns: {', '.join(missing) or 'none'}; other columns: "
            f"{', '.join(extra) or 'none'}), so aana cannot map its WebhookEntity on it. "
            "Rename or drop that table, then run aana migrate again."
        )
    if bind.dialect.name == "postgresql":
        op.alter_column(
            "webhooks",
            "events",
            existing_type=postgresql.JSONB(astext_type=sa.Text()),
            existing_nullable=False,
            comment=_EVENTS_COMMENT,
            existing_comment=_AANA_SDK_EVENTS_COMMENT,
        )
        return
    with op.batch_alter_table("webhooks", recreate="always") as batch:
        batch.alter_column(
            "id", type_=sa.Uuid(), existing_type=sa.NUMERIC(), existing_nullable=False
        )
