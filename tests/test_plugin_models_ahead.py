"""Models ahead of their migrations stop the run once, naming what no revision creates.

An app adds a column to a model without writing a revision: the migrated test databases
lack it, and every test reading the model used to fail with the driver's "no such column".
"""

import pytest
from plugin_runs import run_plugin

ENV = """
from aana.storage.migrations import run_env

run_env()
"""

REVISION = '''"""The note table, without the body column the model has since gained."""

import sqlalchemy as sa
from alembic import op

revision = "note_0001"
down_revision = None
branch_labels = ("notes",)
depends_on = None


def upgrade():
    op.create_table("note", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("note")
'''

MODELS = """
from sqlalchemy.orm import Mapped, mapped_column

from aana.storage.models import BaseEntity


class Note(BaseEntity):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str | None]{extra}
"""

TESTS = """
import pytest
from sqlalchemy import select

from app_models import Note


@pytest.mark.parametrize("n", range(30))
def test_reads_notes(db_session, n):
    assert db_session.scalars(select(Note)).all() == []


def test_without_the_database():
    pass
"""


def write_app(pytester: pytest.Pytester, extra: str = "") -> None:
    folder = pytester.path / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    (folder / "versions" / "note_0001.py").write_text(REVISION)
    (folder / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\npath_separator = os\naana_models = app_models\n"
    )
    pytester.makepyfile(app_models=MODELS.format(extra=extra), test_notes=TESTS)
    pytester.makeini(f"[pytest]\naana_alembic_config = {folder / 'alembic.ini'}\n")


@pytest.mark.subprocesses
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two workers"])
def test_a_column_without_a_revision_stops_the_run_once(
    pytester: pytest.Pytester, pytestconfig: pytest.Config, workers: list[str]
) -> None:
    write_app(pytester, extra="\n    rating: Mapped[int | None]")
    result = run_plugin(pytester, pytestconfig, "-p", "no:randomly", *workers)
    output = result.stdout.str()
    assert result.ret != pytest.ExitCode.OK
    outcomes = result.parseoutcomes()
    # One failing test per process, at most, and no raw driver error.
    assert 1 <= outcomes.get("errors", 0) <= max(1, len(workers)), output
    assert outcomes.get("passed", 0) <= 1
    assert "OperationalError" not in output and "UndefinedColumn" not in output
    result.stdout.fnmatch_lines(
        [
            "*the models are ahead of the migrations: no revision creates note.body, "
            "note.rating.*aana revision APP --autogenerate*",
            "*Interrupted: aana.testing: the models are ahead of the migrations*",
        ]
    )


@pytest.mark.subprocesses
def test_models_that_match_their_migrations_run_as_usual(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    write_app(pytester)
    (pytester.path / "migrations" / "versions" / "note_0001.py").write_text(
        REVISION.replace(
            'sa.Column("id", sa.Integer, primary_key=True)',
            'sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.String)',
        )
    )
    run_plugin(pytester, pytestconfig).assert_outcomes(passed=31)
