"""Alembic environment of video_app: aana's run_env does it all.

It imports the models that ``aana_models`` names in ``alembic.ini``, then runs the
migrations on the connection aana passes in, or on the database named by ``DB_CONFIG``.
"""

from aana.storage.migrations import run_env

run_env()
