"""Index of finished tasks by completion time, for TaskRepository.prune.

Revision ID: 0003_task_retention
Revises: 0002_task_claim
Create Date: 2026-12-04 14:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_task_retention"
down_revision: str | Sequence[str] | None = "0002_task_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_tasks_status_completed_at", "tasks", ["status", "completed_at"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_tasks_status_completed_at", table_name="tasks")
