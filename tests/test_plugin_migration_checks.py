"""--test-alembic: the migration checks run wherever the tests live, on pytest 8 and 9."""

from pathlib import Path

import pytest
from plugin_runs import run_plugin
from pytest_alembic.config import Config as PytestAlembicConfig
from pytest_alembic.runner import runner
from sqlalchemy import Engine

from aana.storage.migrations import alembic_config
from aana.testing.migration_checks import test_single_head_per_lineage as single_head_check

CHECKS = [
    "test_model_definitions_match_ddl",
    "test_single_head_per_lineage",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.mark.parametrize("layout", ["no conftest", "tests/conftest.py", "nested tests"])
@pytest.mark.subprocesses
def test_checks_run_wherever_the_tests_live(
    pytester: pytest.Pytester, pytestconfig: pytest.Config, layout: str
) -> None:
    folder = {"no conftest": ".", "tests/conftest.py": "tests", "nested tests": "a/b"}[layout]
    (pytester.path / folder).mkdir(parents=True, exist_ok=True)
    (pytester.path / folder / "test_app.py").write_text("def test_app():\n    pass\n")
    if layout == "tests/conftest.py":
        (pytester.path / "tests" / "conftest.py").write_text("")
    result = run_plugin(pytester, pytestconfig, "--test-alembic", "-v")
    result.assert_outcomes(passed=len(CHECKS) + 1)
    for check in CHECKS:
        result.stdout.fnmatch_lines([f"*aana-migration-checks::{check} PASSED*"])


@pytest.mark.subprocesses
def test_checks_are_marked_alembic_and_deselectable(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    selected = run_plugin(pytester, pytestconfig, "--test-alembic", "-m", "alembic")
    selected.assert_outcomes(passed=len(CHECKS))
    skipped = run_plugin(pytester, pytestconfig, "--test-alembic", "-m", "not alembic")
    skipped.assert_outcomes(passed=1)


@pytest.mark.subprocesses
def test_without_the_flag_no_check_is_collected(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    pytester.mkdir("tests").joinpath("conftest.py").write_text("")
    run_plugin(pytester, pytestconfig).assert_outcomes(passed=1)


@pytest.mark.subprocesses
def test_test_alembic_that_selects_nothing_is_an_error(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    pytester.makeini(
        "[pytest]\npytest_alembic_exclude =\n" + "".join(f"    {c[5:]}\n" for c in CHECKS)
    )
    result = run_plugin(pytester, pytestconfig, "--test-alembic")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--test-alembic selects no migration check*"])


@pytest.mark.subprocesses
def test_an_unknown_check_name_is_an_error(
    pytester: pytest.Pytester, pytestconfig: pytest.Config
) -> None:
    pytester.makepyfile(test_app="def test_app():\n    pass\n")
    result = run_plugin(pytester, pytestconfig, "--test-alembic", "--alembic-exclude", "upgrad")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown migration checks upgrad*"])


REVISION = """
revision = "{revision}"
down_revision = {down}
branch_labels = {labels}
depends_on = {depends}


def upgrade():
    pass


def downgrade():
    pass
"""


def test_single_head_per_lineage_names_a_forked_lineage(
    tmp_path: Path, alembic_engine: Engine
) -> None:
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\npath_separator = os\n"
    )
    (tmp_path / "versions").mkdir()
    # The app's lineage depends on aana's, as an app's does: still a lineage of its own.
    revisions = {"app1": ("None", '("app",)', '"0001_initial"')}
    revisions["app2a"] = revisions["app2b"] = ('"app1"', "None", "None")
    for revision, (down, labels, depends) in revisions.items():
        (tmp_path / "versions" / f"{revision}.py").write_text(
            REVISION.format(revision=revision, down=down, labels=labels, depends=depends)
        )
    config = PytestAlembicConfig.from_raw_config(alembic_config(tmp_path / "alembic.ini"))
    forked = "the lineage from app1 has 2 heads: app2a, app2b"
    with (
        runner(config=config, engine=alembic_engine) as context,
        pytest.raises(AssertionError, match=forked) as raised,
    ):
        single_head_check(context)
    assert "0001_initial" not in str(raised.value)
