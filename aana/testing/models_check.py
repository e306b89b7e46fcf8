"""Models ahead of their migrations, told once when the test run starts.

A column or table added to a model without a revision leaves the migrated test databases
without it, and every test that reads the model fails with the driver's "no such column".
The template is compared with the models as ``aana migrate --check`` compares a database
(Alembic's autogenerate, through the lineage's ``env.py``), and what the models have and
the migrations lack stops the run with one error naming it.
"""

from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Engine

from aana.storage.migrations import check
from aana.testing.options import ALEMBIC_CONFIG

AHEAD = ("add_table", "add_column")
"""The differences that break queries on the migrated database: what the models add."""


class ModelsAheadOfMigrations(Exception):
    """The models define tables or columns that no revision creates."""


def missing_from_migrations(engine: Engine, config: Config, app: bool) -> None:
    """Compare the models with a database migrated to head; fail on what the models add.

    Differences the queries survive (a table or column the models no longer define, a type
    or an index) are left to ``aana migrate --check`` and the ``--test-alembic`` checks.

    Args:
        engine (Engine): An engine on the migrated template.
        config (Config): The Alembic configuration it was migrated with.
        app (bool): Whether the lineage is an app's (``aana_alembic_config``), which decides
            the command the message gives.

    Raises:
        ModelsAheadOfMigrations: Naming each table and ``table.column`` and the command
            that writes the missing revision.
    """
    try:
        found = check(engine, config)
    except CommandError:
        return  # an env.py that cannot autogenerate: nothing to compare with
    missing = []
    for difference in found.differences:
        kind, *names = difference.split()
        if kind == "add_table":
            missing.append(f"table {names[0]}")
        elif kind == "add_column":
            missing.append(".".join(names[:2]))
    if not missing:
        return
    if app:
        remedy = (
            'write the missing revision with: aana revision APP --autogenerate -m "..." '
            "(APP: module:attribute of your AanaSDK)"
        )
    else:
        remedy = (
            f"if they are your app's, the run has only aana's migrations: name your app's "
            f"alembic.ini with {ALEMBIC_CONFIG.flag}, {ALEMBIC_CONFIG.env} or the "
            f"{ALEMBIC_CONFIG.name} ini key; if they are aana's, write the missing revision "
            'with: alembic revision --autogenerate -m "..." in the repository'
        )
    raise ModelsAheadOfMigrations(
        f"the models are ahead of the migrations: no revision creates {', '.join(missing)}. "
        "Every test reading them would fail with the driver's 'no such column' (or table): "
        f"{remedy}. The run stops here."
    )
