"""The reference of the documentation site covers every public module and the whole plugin.

``mkdocs build --strict`` (``tox -e docs``) fails on a ``:::`` directive naming a module or an
object that does not exist; these tests fail on a module or a plugin fixture, option or
marker that no page names.
"""

import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import aana.configs
import aana.exceptions
import aana.storage
import aana.storage.aio.repository as aio_repository
import aana.testing

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
PLUGIN_PAGE = REFERENCE / "testing" / "plugin.md"

INTERNAL = {
    # The storage layer's own machinery: what it does is on the pages of the modules using it.
    "aana.storage.errors": "driver errors translated into aana.exceptions.db",
    "aana.storage.process_engine": "behind aana.storage.session and aana.storage.aio.session",
    "aana.storage.sqlite_connection": "the sqlite3 connection class of aana.storage.engine",
    "aana.storage.aio.cancellation": "how an async repository call is cancelled",
    # The plugin's machinery: its fixtures, options and markers are on the plugin's page.
    **dict.fromkeys(
        [
            f"aana.testing.{name}"
            for name in (
                "access",
                "alembic_fixtures",
                "async_fixtures",
                "backends",
                "fixtures",
                "header",
                "isolation",
                "migration_checks",
                "models_check",
                "options",
                "pg_ctl_server",
                "postgres_container",
                "postgres_server",
                "run",
                "template_key",
            )
        ],
        "the plugin's machinery",
    ),
}


def documented() -> set[str]:
    """The modules a ``:::`` directive of the reference names."""
    return {
        name
        for page in REFERENCE.rglob("*.md")
        for name in re.findall(r"^::: ([\w.]+)$", page.read_text(), re.MULTILINE)
    }


def test_every_public_module_has_a_reference_page() -> None:
    """A module is on a page of its own, or of its package, or internal by name."""
    pages = documented()
    missing = []
    for root in (aana.storage, aana.configs, aana.exceptions, aana.testing):
        for module in pkgutil.walk_packages(root.__path__, f"{root.__name__}."):
            name = module.name
            parts = name.split(".")
            packages = {".".join(parts[:end]) for end in range(2, len(parts))}
            if name in pages or packages & pages or name in INTERNAL:
                continue
            if not parts[-1].startswith("_"):
                missing.append(name)
    assert missing == []
    assert set(INTERNAL).isdisjoint(pages)


def test_the_async_repository_page_lists_every_repository() -> None:
    """The package has no ``__all__``: the page names its members, and must name them all."""
    page = (REFERENCE / "storage" / "aio" / "repository.md").read_text()
    listed = re.findall(r"^        - (\w+)$", page, re.MULTILINE)
    exported = {
        name
        for name, value in vars(aio_repository).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("aana.storage.aio.repository.")
    }
    assert sorted(listed) == sorted(exported)


def plugin_output(*args: str, cwd: Path) -> str:
    """What ``pytest -p aana.testing ARGS`` prints, in an empty directory."""
    # Nothing of this run's configuration: the plugin's own defaults.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AANA_") and key not in ("PYTEST_ADDOPTS", "DB_CONFIG")
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "aana.testing", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 5), done.stderr
    return done.stdout


@pytest.mark.subprocesses
def test_the_plugin_page_lists_every_fixture_and_option(tmp_path: Path) -> None:
    page = PLUGIN_PAGE.read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]

    listing = plugin_output("--fixtures", cwd=tmp_path)
    sections = re.split(r"^-+ fixtures defined from (\S+) -+$", listing, flags=re.MULTILINE)
    fixtures = {
        name
        for module, body in zip(sections[1::2], sections[2::2], strict=True)
        if module.startswith("aana.testing")
        for name in re.findall(r"^(\w+)(?: \[\w+ scope\])? -- ", body, re.MULTILINE)
    }
    fixtures |= {name for name in aana.testing.__all__ if not name.startswith("_")}
    assert len(fixtures) >= 15
    for name in fixtures:
        assert any(row.startswith(f"| `{name}` |") for row in rows), name

    usage = plugin_output("--help", cwd=tmp_path)
    # Each flag's help, its wrapped lines joined: it ends naming the variable and the ini key.
    helps = re.findall(r"^  (--aana-[\w-]+)(.*?)(?=^  \S|^\S)", usage, re.MULTILINE | re.DOTALL)
    assert len(helps) >= 7
    for flag, text in helps:
        named = re.search(r"\(env (\w+), ini (\w+)\)", " ".join(text.split()))
        assert named, flag
        assert any(row.startswith(f"| `{flag}` | `{named[1]}` | `{named[2]}` |") for row in rows), (
            flag
        )


def test_the_plugin_page_lists_every_marker(pytestconfig: pytest.Config) -> None:
    page = PLUGIN_PAGE.read_text()
    names = [re.match(r"\w+", line)[0] for line in pytestconfig.getini("markers")]  # type: ignore[index]
    ours = [name for name in names if name.startswith("aana") or name == "alembic"]
    assert "aana_db" in ours
    for name in ours:
        assert f"`@pytest.mark.{name}" in page or f"| `{name}` |" in page, name
