"""The application object: ``aana migrate video_app.app:aana_app`` names it."""

from pathlib import Path

from aana.sdk import AanaSDK

aana_app = AanaSDK(name="video_app", alembic_config=Path(__file__).parent / "alembic.ini")
