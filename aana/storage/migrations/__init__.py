"""Running Alembic migrations: aana's own lineage, and an app's chained after it.

aana's revisions live in the ``alembic/`` folder of the source tree, shipped inside the
wheel as ``aana/alembic``. Their branch label is :data:`AANA_BRANCH`. An app keeps its own
revisions in its own folder, as a second lineage: its first revision starts a branch of
its own (``down_revision = None``) and each of its revisions ``depends_on`` the aana heads
it was generated against (see :func:`new_revision`). :func:`alembic_config` puts both
folders on Alembic's version path, so ``upgrade heads`` applies aana's revisions, then the
app's, in dependency order, and a newer aana's revisions are picked up as they come.
"""

from aana.storage.migrations.config import AANA_BRANCH, aana_script_location, alembic_config
from aana.storage.migrations.environment import run_env
from aana.storage.migrations.revisions import new_revision
from aana.storage.migrations.runner import (
    MigrationCheck,
    MigrationResult,
    check,
    current_revisions,
    downgrade,
    pending_revisions,
    upgrade,
)

__all__ = [
    "AANA_BRANCH",
    "MigrationCheck",
    "MigrationResult",
    "aana_script_location",
    "alembic_config",
    "check",
    "current_revisions",
    "downgrade",
    "new_revision",
    "pending_revisions",
    "run_env",
    "upgrade",
]
