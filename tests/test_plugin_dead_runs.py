"""A killed run's PostgreSQL databases are dropped by the next run; no one else's are.

A run killed with SIGKILL (``pytest -n 2``, say) drops nothing: its template and its
workers' clones used to stay on the server forever. Each database a run creates carries its
owner (host and controlling process) in its comment, and the next run drops those whose
owner on this host is gone. SQLite's test databases are files under pytest's temporary
folder, which pytest itself rotates: nothing to sweep there.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_runs import backend_args
from sqlalchemy import Engine, create_engine, text

from aana.testing.backends import OWNER_COMMENT

HOLDING_TESTS = """
import os
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(2))
def test_holds_its_database(db_session, n):
    name = db_session.get_bind().engine.url.database
    Path(os.environ["HOLDING"] + f".{n}").write_text(name)
    while not Path(os.environ["RELEASE"]).exists():
        time.sleep(0.05)
"""


class Runs:
    def __init__(self, pytester: pytest.Pytester, config: pytest.Config) -> None:
        self.path = pytester.path
        self.config = config
        pytester.makepyfile(
            test_holding=HOLDING_TESTS, test_quick="def test_quick(db_session):\n    pass\n"
        )

    def start(self, label: str) -> tuple[subprocess.Popen[str], str]:
        """Start a run of two workers and wait until both hold a database; return its prefix."""
        holding = self.path / f"holding-{label}"
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "aana.testing", "-p", "no:cacheprovider",
             *backend_args(self.config), "-n", "2", "test_holding.py"],
            cwd=self.path,
            env={**os.environ, "HOLDING": str(holding), "RELEASE": str(self.release_file(label))},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )  # fmt: skip
        files = [Path(f"{holding}.{n}") for n in range(2)]
        deadline = time.monotonic() + 120
        while not all(file.exists() for file in files):
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "the run never held its databases"
            time.sleep(0.05)
        return run, "_".join(files[0].read_text().split("_")[:3])

    def release_file(self, label: str) -> Path:
        return self.path / f"release-{label}"

    def release(self, label: str) -> None:
        self.release_file(label).touch()

    def quick(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "aana.testing", "-p", "no:cacheprovider",
             *backend_args(self.config), "test_quick.py"],
            cwd=self.path, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def admin(db_engine: Engine) -> Iterator[Engine]:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: SQLite's test databases are files pytest rotates itself")
    engine = create_engine(db_engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def databases(admin: Engine, prefix: str) -> set[str]:
    with admin.connect() as connection:
        return set(
            connection.scalars(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": prefix + "_"},
            )
        )


@pytest.mark.subprocesses
def test_the_next_run_drops_a_killed_runs_databases_and_no_others(
    pytester: pytest.Pytester, pytestconfig: pytest.Config, admin: Engine
) -> None:
    runs = Runs(pytester, pytestconfig)
    dead_run, dead = runs.start("dead")
    os.killpg(dead_run.pid, signal.SIGKILL)
    dead_run.wait(timeout=60)
    left = databases(admin, dead)
    assert f"{dead}_template" in left and len(left) >= 3, left  # the template, a clone each
    # Databases the plugin did not create, named like its own: no owner, another host's.
    ownerless, elsewhere = (f"aana_test_{uuid.uuid4().hex[:10]}_main_1" for _ in range(2))
    foreign = {ownerless: None, elsewhere: f"{OWNER_COMMENT}another-host:1"}
    with admin.connect() as connection:
        for name, comment in foreign.items():
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            if comment:
                connection.exec_driver_sql(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")
    live_run, live = runs.start("live")
    try:
        held = databases(admin, live)
        runs.quick()
        assert databases(admin, dead) == set()
        assert databases(admin, live) == held
        for name in foreign:
            assert databases(admin, name.removesuffix("_1")) == {name}
    finally:
        runs.release("live")
        output = live_run.communicate(timeout=300)[0]
        with admin.connect() as connection:
            for name in [*foreign, *databases(admin, dead)]:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert live_run.returncode == 0, output
    assert databases(admin, live) == set()
