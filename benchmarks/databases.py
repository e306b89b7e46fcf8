"""The databases the benchmarks run on, built by the same code as the test fixtures'.

Every benchmark database is a clone of one migrated template, or an empty database, created
with :mod:`aana.testing.backends`. On PostgreSQL their names start with ``aana_bench_`` and
all of them are dropped when the run ends, even when it fails.
"""

import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from aana.storage.migrations import upgrade
from aana.testing.backends import PostgresDatabases, SQLiteDatabases, TestDatabases
from aana.testing.backends import postgres_url as parse_postgres_url

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class _BenchPostgresDatabases(PostgresDatabases):
    """The test fixtures' PostgreSQL backend, creating ``aana_bench_`` databases."""

    def __init__(self, run_id: str, worker: str, admin_url: URL, owner: str | None = None) -> None:
        super().__init__(run_id, worker, admin_url, owner)
        self.prefix = f"aana_bench_{run_id}"


class BenchDatabases:
    """Creates and drops the databases of one backend for one benchmark run.

    Attributes:
        backend (str): ``sqlite`` or ``postgresql``.
        version (str): The database engine's version.
    """

    def __init__(self, backend: str, version: str, databases: TestDatabases) -> None:
        """Constructor.

        Args:
            backend (str): ``sqlite`` or ``postgresql``.
            version (str): The database engine's version.
            databases (TestDatabases): The fixtures' backend that does the work.
        """
        self.backend = backend
        self.version = version
        self._databases = databases
        self._databases.ensure_template(upgrade)

    def migrated(self) -> Engine:
        """Return a production-configured engine on a new clone of the migrated template."""
        return self._databases.create(self._databases.new_name(), from_template=True)

    def empty(self) -> Engine:
        """Return a production-configured engine on a new, empty database."""
        return self._databases.create(self._databases.new_name(), from_template=False)

    def drop(self, engine: Engine) -> None:
        """Dispose of an engine and drop its database."""
        self._databases.drop(engine)

    def clear(self, engine: Engine, *tables: str) -> None:
        """Empty tables, children first, so that the next run starts from the same state."""
        with engine.begin() as connection:
            if self.backend == "postgresql":
                connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)}")
            else:
                for table in tables:
                    connection.exec_driver_sql(f"DELETE FROM {table}")


@contextmanager
def bench_databases(backend: str, url: str) -> Iterator[BenchDatabases]:
    """Yield the databases of one backend, and drop every one of them afterwards.

    Args:
        backend (str): ``sqlite`` or ``postgresql``.
        url (str): The PostgreSQL server to create databases on.

    Yields:
        BenchDatabases: The backend's databases, with the template migrated.
    """
    run_id = uuid.uuid4().hex[:8]
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="aana_bench_"))
        try:
            databases = SQLiteDatabases(run_id, "db", folder, folder)
            yield BenchDatabases(backend, sqlite3.sqlite_version, databases)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    postgres = _BenchPostgresDatabases.connect(run_id, "db", parse_postgres_url(url))
    try:
        admin = create_engine(postgres.admin_url)
        with admin.connect() as connection:
            version = str(connection.exec_driver_sql("SHOW server_version").scalar())
        admin.dispose()
        yield BenchDatabases(backend, version, postgres)
    finally:
        postgres.drop_run()
