"""--aana-reuse-db: the migrated template outlives the run, keyed by the migrations."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_lineage import lineage_config, write_lineage
from plugin_runs import backend_args, suite_server_url
from sqlalchemy import create_engine

from aana.testing.backends import KEPT_PREFIX, postgres_url
from aana.testing.settings import plugin_settings
from aana.testing.template_key import lineage_hash

TESTS = """
from sqlalchemy import text

def test_migrated(db_session):
    assert db_session.scalar(text("SELECT count(*) FROM video")) == 0
"""


class Project:
    """A pytester project on a throwaway app lineage, with its own folder of kept templates."""

    def __init__(self, pytester: pytest.Pytester, config: pytest.Config) -> None:
        self.pytester = pytester
        self.config = config
        self.ini = write_lineage(pytester.path / "app_migrations")
        self.log = pytester.path / "migrations.log"
        pytester.makepyfile(test_app=TESTS)
        pytester.makeini(f"[pytest]\naana_alembic_config = {self.ini}\n")

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable, "-m", "pytest", "-p", "aana.testing", "-p", "no:cacheprovider",
            *backend_args(self.config), "--aana-reuse-db", *args,
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        # The kept SQLite templates go to the system's temporary folder: this project's own.
        temp = self.pytester.path / "tmp"
        temp.mkdir(exist_ok=True)
        return {**os.environ, "MIGRATION_LOG": str(self.log), "TMPDIR": str(temp)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(*args),
            cwd=self.pytester.path,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def migrations_run(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def key(self) -> str:
        return lineage_hash(lineage_config(self.ini))

    def drop_kept_template(self, key: str | None = None) -> None:
        url = suite_server_url(self.config)
        if plugin_settings(self.config).backend != "postgresql" or not url:
            return
        name = f"{KEPT_PREFIX}{key or self.key()}"
        engine = create_engine(postgres_url(url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture
def project(pytester: pytest.Pytester, pytestconfig: pytest.Config) -> Iterator[Project]:
    built = Project(pytester, pytestconfig)
    yield built
    built.drop_kept_template()


@pytest.mark.subprocesses
def test_the_second_run_reuses_the_template_and_create_db_rebuilds_it(project: Project) -> None:
    project.run()
    assert project.migrations_run() == 1
    project.run()
    assert project.migrations_run() == 1
    project.run("--aana-create-db", "-n", "2")
    assert project.migrations_run() == 2


@pytest.mark.subprocesses
def test_a_changed_migration_builds_a_new_template(project: Project) -> None:
    project.run()
    before = project.key()
    revision = project.ini.parent / "versions" / "app_0001.py"
    revision.write_text(revision.read_text() + "\n# changed\n")
    try:
        project.run()
        assert project.migrations_run() == 2
    finally:
        project.drop_kept_template(before)


@pytest.mark.subprocesses
def test_two_runs_started_together_migrate_once(project: Project) -> None:
    runs = [
        subprocess.Popen(
            project.command("-n", "2"),
            cwd=project.pytester.path,
            env=project.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert project.migrations_run() == 1


@pytest.mark.subprocesses
def test_without_reuse_every_run_migrates(project: Project) -> None:
    for _ in range(2):
        done = subprocess.run(
            [arg for arg in project.command() if arg != "--aana-reuse-db"],
            cwd=project.pytester.path,
            env=project.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout
    assert project.migrations_run() == 2


@pytest.mark.subprocesses
def test_a_reuse_flag_that_is_not_a_yes_or_no_is_a_usage_error(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AANA_TEST_REUSE_DB", "maybe")
    result = project.pytester.runpytest_subprocess("-p", "aana.testing", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*AANA_TEST_REUSE_DB / aana_reuse_db: 'maybe' is neither*"])


def test_the_key_covers_every_revision_of_both_lineages(tmp_path: Path) -> None:
    ini = write_lineage(tmp_path / "app", revisions=3)
    key = lineage_hash(lineage_config(ini))
    assert key == lineage_hash(lineage_config(ini))
    (ini.parent / "versions" / "app_0002.py").write_text(
        (ini.parent / "versions" / "app_0002.py").read_text() + "# edited\n"
    )
    assert lineage_hash(lineage_config(ini)) != key


CLONING_TESTS = """
import os
import time
from pathlib import Path

from sqlalchemy import text


def test_holds_a_clone_then_waits_for_the_rebuild(db_session):
    Path(os.environ["CLONER_READY"]).touch()
    rebuilding = Path(os.environ["REBUILDING"])
    deadline = time.monotonic() + 120
    while not rebuilding.exists():
        assert time.monotonic() < deadline, "the other run never started rebuilding"
        time.sleep(0.05)


def test_clones_while_the_other_run_rebuilds(transactional_db_engine):
    with transactional_db_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM video")) == 0
"""

PAUSE = """
    marker = os.environ.get("REBUILDING")
    if marker:  # the rebuilding run: say so, then take long enough for the other run to clone
        open(marker, "w").close()
        import time
        time.sleep(3)
"""


@pytest.mark.subprocesses
def test_a_clone_during_another_runs_rebuild_waits_for_it(project: Project) -> None:
    """--aana-create-db in one run while another clones the kept template: both pass.

    The cloning run has its template and its first clone when the rebuild starts, and clones
    again while the rebuild migrates; the clone used to find the template dropped.
    """
    revision = project.ini.parent / "versions" / "app_0001.py"
    revision.write_text(
        revision.read_text().replace("\ndef downgrade", PAUSE + "\n\ndef downgrade")
    )
    project.run()
    project.pytester.makepyfile(test_cloner=CLONING_TESTS)
    ready, rebuilding = project.pytester.path / "ready", project.pytester.path / "rebuilding"
    cloner = subprocess.Popen(
        project.command("-p", "no:randomly", "test_cloner.py"),
        cwd=project.pytester.path,
        env={**project.env(), "CLONER_READY": str(ready), "REBUILDING": str(rebuilding)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(1200):
            if ready.exists() or cloner.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), cloner.communicate()[0]
        rebuilder = subprocess.run(
            project.command("--aana-create-db", "test_app.py"),
            cwd=project.pytester.path,
            env={**project.env(), "REBUILDING": str(rebuilding)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = cloner.communicate(timeout=300)[0]
    finally:
        cloner.kill()
    assert rebuilder.returncode == 0, rebuilder.stdout + rebuilder.stderr
    assert cloner.returncode == 0, output
    assert project.migrations_run() == 2
