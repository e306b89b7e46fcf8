"""The migration checks ``--test-alembic`` runs, collected by the plugin itself.

pytest-alembic's own collector binds its built-in tests to one file (``tests/conftest.py``):
without that file it silently collects nothing, and on pytest 9 it fails to collect at all.
The plugin switches that collector off and collects pytest-alembic's public test functions
(``pytest_alembic.tests``) itself, next to the app's first collected test, so that the
checks see the app's ``conftest.py`` fixtures wherever its tests live. ``alembic_runner`` is
pytest-alembic's runner over ``alembic_config`` and ``alembic_engine``.
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import pytest_alembic.tests
import pytest_alembic.tests.experimental
from alembic.script import ScriptDirectory
from pytest_alembic.runner import MigrationContext

PYTEST_ALEMBIC_PLUGIN = "pytest-alembic"
"""The name pytest-alembic registers its collector under in ``pytest_sessionstart``."""

TEST_ALEMBIC = "pytest_alembic_registration_enabled"
"""The destination of pytest-alembic's ``--test-alembic`` flag."""

COLLECTOR_NAME = "aana-migration-checks"

Check = Callable[[MigrationContext], None]


def test_single_head_per_lineage(alembic_runner: MigrationContext) -> None:
    """Assert that every lineage (aana's, the app's) has one head revision.

    pytest-alembic's ``single_head_revision`` cannot hold for an app, whose lineage is a
    second root next to aana's; a lineage with two heads is still an unmerged branch.
    """
    script: ScriptDirectory = alembic_runner.command_executor.script
    heads_by_base: dict[str, list[str]] = {}
    for head in script.get_heads():
        for base in _bases(script, head):
            heads_by_base.setdefault(base, []).append(head)
    forked = {base: heads for base, heads in heads_by_base.items() if len(heads) > 1}
    assert not forked, "; ".join(
        f"the lineage from {base} has {len(heads)} heads: {', '.join(sorted(heads))}"
        for base, heads in sorted(forked.items())
    )


def _bases(script: ScriptDirectory, head: str) -> set[str]:
    """Return the roots ``head`` descends from through ``down_revision``.

    ``depends_on`` is not followed: an app's lineage that depends on aana's is still a
    lineage of its own.
    """
    bases, pending, seen = set(), [head], set()
    while pending:
        revision = script.get_revision(pending.pop())
        if revision is None or revision.revision in seen:
            continue
        seen.add(revision.revision)
        down = revision.down_revision
        downs = [down] if isinstance(down, str) else list(down or ())
        if not downs:
            bases.add(revision.revision)
        pending.extend(downs)
    return bases


def _functions(module: ModuleType) -> dict[str, Check]:
    return {name.removeprefix("test_"): getattr(module, name) for name in module.__all__}


DEFAULT_CHECKS: dict[str, Check] = {
    **_functions(pytest_alembic.tests),
    "single_head_per_lineage": test_single_head_per_lineage,
}
EXPERIMENTAL_CHECKS: dict[str, Check] = _functions(pytest_alembic.tests.experimental)


def _names(raw: object) -> list[str]:
    """Split an option value given as commas or lines (pytest-alembic's format)."""
    text = ",".join(raw) if isinstance(raw, list) else str(raw or "")
    return [name.strip() for name in text.replace("\n", ",").split(",") if name.strip()]


def _ini(config: pytest.Config, name: str) -> object:
    try:
        return config.getini(name)
    except ValueError:  # pytest-alembic's plugin is disabled: its ini keys are unknown
        return None


def selected_checks(config: pytest.Config) -> dict[str, Check]:
    """Return the checks to run, honouring pytest-alembic's include and exclude options.

    Args:
        config (pytest.Config): pytest's config.

    Returns:
        dict[str, Check]: The checks by name, in a stable order.

    Raises:
        pytest.UsageError: If an option names a check that does not exist.
    """
    included = _names(_ini(config, "pytest_alembic_include")) or list(DEFAULT_CHECKS)
    experimental = _names(_ini(config, "pytest_alembic_include_experimental"))
    excluded = _names(
        config.getoption("pytest_alembic_exclude", None) or _ini(config, "pytest_alembic_exclude")
    )
    known = {**DEFAULT_CHECKS, **EXPERIMENTAL_CHECKS}
    unknown = sorted({*included, *experimental, *excluded} - known.keys())
    if unknown:
        raise pytest.UsageError(
            f"pytest_alembic_include / pytest_alembic_include_experimental / "
            f"pytest_alembic_exclude: unknown migration checks {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return {
        name: known[name] for name in sorted({*included, *experimental}) if name not in excluded
    }


class MigrationCheck(pytest.Function):
    """One migration check, reported as ``[migration check] <name>``."""

    def reportinfo(self) -> tuple[Any, int, str]:
        """Name the check; it has no source line in the app."""
        return (self.path, 0, f"[migration check] {self.name}")


class MigrationChecks(pytest.Collector):
    """The node the migration checks are collected under."""

    def collect(self) -> list[pytest.Item]:
        """Return an item per selected check."""
        return [
            MigrationCheck.from_parent(self, name=f"test_{name}", callobj=check)
            for name, check in selected_checks(self.config).items()
        ]


def collect_checks(session: pytest.Session, items: list[pytest.Item]) -> list[pytest.Item]:
    """Collect the migration checks next to the first collected test.

    Args:
        session (pytest.Session): The session.
        items (list[pytest.Item]): The tests collected so far.

    Returns:
        list[pytest.Item]: The checks.

    Raises:
        pytest.UsageError: If ``--test-alembic`` selects no check at all.
    """
    parent: pytest.Collector = session
    if items:
        module = items[0].getparent(pytest.Module)
        if module is not None and isinstance(module.parent, pytest.Collector):
            parent = module.parent
    collector = MigrationChecks.from_parent(parent, name=COLLECTOR_NAME)
    checks = collector.collect()
    if not checks:
        raise pytest.UsageError(
            "--test-alembic selects no migration check: pytest_alembic_include and "
            "pytest_alembic_exclude leave none of "
            f"{', '.join(sorted(DEFAULT_CHECKS))}"
        )
    for check in checks:
        check.add_marker("alembic")
    # Counted by the terminal's "collected" line and sent to pytest-xdist like any collector.
    session.ihook.pytest_collectreport(
        report=pytest.CollectReport(
            collector.nodeid, "passed", None, list[pytest.Item | pytest.Collector](checks)
        )
    )
    return checks
