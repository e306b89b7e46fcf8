"""Alembic environment of video_app: aana's migrations, then the app's own."""

from aana.storage.migrations import run_env

run_env()
