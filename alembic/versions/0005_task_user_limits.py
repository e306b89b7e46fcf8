"""Indexes of each user's queued and active tasks, for the API service's per-user claim.

``fetch_unprocessed_tasks(api_service_enabled=True)`` takes each subscribed user's next tasks
up to a number of active ones: these two partial indexes let it read, per user, the count of
active tasks and the next queued ones in claim order, whatever the history.

Revision ID: 0005_task_user_limits
Revises: 0004_webhooks
Create Date: 2026-12-04 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_task_user_limits"
down_revision: str | Sequence[str] | None = "0004_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The conditions as the claim writes them (aana.storage.models.task), so that the partial
# indexes serve it.
_QUEUED = "status IN ('created', 'not_finished')"
_ACTIVE = "status IN ('assigned', 'running')"


def upgrade() -> None:
    """Create the per-user indexes of queued and active tasks."""
    op.create_index(
        "ix_tasks_user_claimable",
        "tasks",
        ["user_id", sa.text("priority DESC"), "created_at", "id"],
        postgresql_where=sa.text(_QUEUED),
        sqlite_where=sa.text(_QUEUED),
    )
    op.create_index(
        "ix_tasks_user_active",
        "tasks",
        ["user_id"],
        postgresql_where=sa.text(_ACTIVE),
        sqlite_where=sa.text(_ACTIVE),
    )


def downgrade() -> None:
    """Drop the per-user indexes."""
    op.drop_index("ix_tasks_user_active", table_name="tasks")
    op.drop_index("ix_tasks_user_claimable", table_name="tasks")
