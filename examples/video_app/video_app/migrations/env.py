"""Alembic environment of video_app: aana's migrations, then the app's own."""

from aana.storage.migrations import run_env
from aana.storage.models import BaseEntity

import video_app.models  # noqa: F401  (maps the app's entities on BaseEntity.metadata)

run_env(BaseEntity.metadata)
