"""A throwaway app lineage: an alembic.ini, an env.py and a chain of revisions.

Each revision's upgrade appends its id to the file ``MIGRATION_LOG`` names, so that a test
can tell whether a run migrated.
"""

import uuid
from pathlib import Path

from alembic.config import Config

from aana.storage.migrations import alembic_config

ENV = """
from aana.storage.migrations import run_env
from aana.storage.models import BaseEntity

run_env(BaseEntity.metadata)
"""

REVISION = '''"""Revision {n} of a throwaway app lineage ({salt})."""

import os

revision = "app_{n:04d}"
down_revision = {down}
branch_labels = {labels}
depends_on = None


def upgrade():
    with open(os.environ["MIGRATION_LOG"], "a") as log:
        log.write(revision + "\\n")


def downgrade():
    pass
'''


def write_lineage(folder: Path, revisions: int = 1) -> Path:
    """Write a lineage of ``revisions`` revisions, unique to this call; return its alembic.ini."""
    salt = uuid.uuid4().hex
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    ini = folder / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = %(here)s\npath_separator = os\n")
    for n in range(1, revisions + 1):
        down = f'"app_{n - 1:04d}"' if n > 1 else "None"
        labels = '("app",)' if n == 1 else "None"
        (folder / "versions" / f"app_{n:04d}.py").write_text(
            REVISION.format(n=n, down=down, labels=labels, salt=salt)
        )
    return ini


def lineage_config(ini: Path) -> Config:
    """aana's lineage followed by the app's."""
    return alembic_config(ini)
