"""Where the test databases live: SQLite files or PostgreSQL databases.

Each backend migrates one template database per test run (under a lock, so that pytest-xdist
workers share it) and clones it: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL. Every database it creates carries the run's prefix, and it drops only those.

With template reuse (``--aana-reuse-db``) the template outlives the run instead: it is named by
a hash of the migration scripts, so that a changed migration gets a template of its own, and
is built once under a lock that concurrent runs share.
"""

import getpass
import sqlite3
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock
from sqlalchemy import Engine, String, create_engine, literal, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from aana.configs.db import DbSettings
from aana.storage.engine import create_database_engine
from aana.testing.options import POSTGRES_URL
from aana.testing.run import owner_is_gone

Migrate = Callable[[Engine], object]
Check = Callable[[Engine], None]

KEPT_PREFIX = "aana_test_keep_"
"""The prefix of templates kept across runs; no run's prefix starts with it."""

OWNER_COMMENT = "aana.testing run owned by "
"""How the comment on each database a run creates starts; the run's owner follows."""


@dataclass(frozen=True)
class TemplateReuse:
    """How to keep the migrated template across runs.

    Attributes:
        key (str): The hash of every migration script the template is migrated with.
        rebuild (bool): Rebuild the kept template once in this run (``--aana-create-db``).
    """

    key: str
    rebuild: bool = False


CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL server before failing with its host and port."""

WAYS_TO_GET_POSTGRES = (
    "The postgresql backend gets its server from (1) the URL of a running server given with "
    f"{POSTGRES_URL.flag}, {POSTGRES_URL.env} or the {POSTGRES_URL.name} ini key; (2) pg_ctl "
    "on the PATH, run as a non-root user; (3) a running Docker engine, for testcontainers."
)


class TestDatabases(ABC):
    """Creates, clones and drops the databases of one test run.

    Attributes:
        prefix (str): The prefix of every database this run creates.
    """

    def __init__(self, run_id: str, worker: str) -> None:
        """Name the run's databases after ``run_id`` and ``worker``; none is created yet.

        Args:
            run_id (str): Identifies the test run; shared by all xdist workers.
            worker (str): The xdist worker id, or ``main``.
        """
        self.prefix = f"aana_test_{run_id}"
        self.worker = worker
        self.reuse: TemplateReuse | None = None
        self._counter = 0

    def new_name(self) -> str:
        """Return a fresh database name for this worker."""
        self._counter += 1
        return f"{self.prefix}_{self.worker}_{self._counter}"

    @property
    def template_name(self) -> str:
        """The name of the migrated template database: the run's, or the kept one."""
        if self.reuse is not None:
            return f"{KEPT_PREFIX}{self.reuse.key}"
        return f"{self.prefix}_template"

    def ensure_template(
        self, migrate: Migrate, reuse: TemplateReuse | None = None, check: Check | None = None
    ) -> None:
        """Create and migrate the template once, whichever worker or run gets there first.

        Args:
            migrate (Migrate): Migrates an empty database to head.
            reuse (TemplateReuse | None): Keep the template across runs, under this key.
            check (Check | None): Run on an engine on the template once it is there, built
                by this process or not; what it raises comes out of this call.
        """
        self.reuse = reuse
        self._ensure_template(migrate)
        if check is not None:
            self._check_template(check)

    @abstractmethod
    def _ensure_template(self, migrate: Migrate) -> None:
        """Build the template unless it exists (and needs no rebuild), under a lock."""

    @abstractmethod
    def _check_template(self, check: Check) -> None:
        """Run ``check`` on an engine on the template, which it must only read."""

    def _must_rebuild(self, rebuilt_in_this_run: bool) -> bool:
        """Tell whether ``--aana-create-db`` asks to rebuild a kept template."""
        return self.reuse is not None and self.reuse.rebuild and not rebuilt_in_this_run

    @abstractmethod
    def create(self, name: str, from_template: bool) -> Engine:
        """Create a database, a clone of the template or empty, and return an engine on it."""

    @abstractmethod
    def drop(self, engine: Engine) -> None:
        """Dispose of an engine and drop the database it points at."""


class SQLiteDatabases(TestDatabases):
    """Test databases as SQLite files.

    Attributes:
        shared_dir (Path): A folder all workers of the run see; holds the template.
        own_dir (Path): This worker's folder.
    """

    def __init__(
        self,
        run_id: str,
        worker: str,
        shared_dir: Path,
        own_dir: Path,
        kept_dir: Path | None = None,
    ) -> None:
        """Place the template in ``shared_dir`` and this worker's databases in ``own_dir``.

        Args:
            run_id (str): Identifies the test run.
            worker (str): The xdist worker id, or ``main``.
            shared_dir (Path): A folder all workers see.
            own_dir (Path): This worker's folder.
            kept_dir (Path | None): A folder all runs see, for the templates kept across
                runs; by default one per user in the system's temporary folder.
        """
        super().__init__(run_id, worker)
        self.shared_dir = shared_dir
        self.own_dir = own_dir
        self.kept_dir = kept_dir or Path(tempfile.gettempdir()) / f"aana-test-{getpass.getuser()}"

    @property
    def template_path(self) -> Path:
        """The template file."""
        folder = self.kept_dir if self.reuse is not None else self.shared_dir
        return folder / f"{self.template_name}.db"

    def _ensure_template(self, migrate: Migrate) -> None:
        """Migrate the template file unless it exists, under a file lock."""
        folder = self.template_path.parent
        folder.mkdir(parents=True, exist_ok=True)
        # In the run's own folder, so that it lasts as long as the run.
        rebuilt = self.shared_dir / f"{self.template_name}.rebuilt"
        with FileLock(str(folder / f"{self.template_name}.lock")):
            if self.template_path.exists() and not self._must_rebuild(rebuilt.exists()):
                return
            building = folder / f"{self.template_name}.building.db"
            for path in folder.glob(f"{building.name}*"):
                path.unlink()
            engine = sqlite_engine(building)
            try:
                migrate(engine)
            finally:
                engine.dispose()
            copied = folder / f"{self.template_name}.copied.db"
            _sqlite_copy(building, copied)
            # Replaced, never rewritten in place: a run copying the old template meanwhile
            # keeps reading a whole file.
            copied.replace(self.template_path)
            if self._must_rebuild(rebuilt.exists()):
                rebuilt.touch()
            for path in folder.glob(f"{building.name}*"):
                path.unlink()

    def _check_template(self, check: Check) -> None:
        """Run ``check`` on the template opened read-only, so that it stays as it is.

        A rebuild meanwhile (in another run) replaces the file by a rename: this connection
        keeps reading the old one whole.
        """
        uri = f"{self.template_path.as_uri()}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        try:
            check(engine)
        finally:
            engine.dispose()

    def create(self, name: str, from_template: bool) -> Engine:
        """Copy the template to a new file, or start an empty one."""
        path = self.own_dir / f"{name}.db"
        if from_template:
            _sqlite_copy(self.template_path, path)
        return sqlite_engine(path)

    def drop(self, engine: Engine) -> None:
        """Dispose of the engine and delete its file with its WAL, if this run created it.

        A file outside this worker's folder, or not named with the run's prefix, is left
        alone: the plugin never deletes a database it did not create.
        """
        engine.dispose()
        database = engine.url.database
        if not database:
            return
        path = Path(database)
        if path.parent.resolve() != self.own_dir.resolve():
            return
        if not path.name.startswith(f"{self.prefix}_"):
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def sqlite_engine(path: Path) -> Engine:
    """Return an engine on an SQLite file, configured as in production."""
    return create_database_engine(db_settings_for(URL.create("sqlite", database=str(path))))


def db_settings_for(url: URL) -> DbSettings:
    """Return the settings of a test database, with :data:`CONNECT_TIMEOUT`.

    Tests use it to hand a test database to code that reads ``DB_CONFIG``, such as
    ``aana migrate`` in a subprocess.

    Args:
        url (URL): The database's URL.

    Returns:
        DbSettings: The settings.
    """
    return DbSettings.from_url(url, connect_timeout=CONNECT_TIMEOUT)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a database with SQLite's backup API, so that its WAL is folded in."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


class PostgresDatabases(TestDatabases):
    """Test databases on a PostgreSQL server.

    Attributes:
        admin_url (URL): Where to connect to create and drop databases. The database it
            names is only connected to, never written or dropped.
    """

    def __init__(self, run_id: str, worker: str, admin_url: URL, owner: str | None = None) -> None:
        """Build the engine, in autocommit and not yet connected, that creates and drops databases.

        Args:
            run_id (str): Identifies the test run.
            worker (str): The xdist worker id, or ``main``.
            admin_url (URL): Where to connect to create and drop databases.
            owner (str | None): The run's owner (:func:`aana.testing.run.owner_label`),
                recorded on each database the run creates, so that a later run can drop
                them if this one dies (:meth:`drop_dead_runs`).
        """
        super().__init__(run_id, worker)
        self.admin_url = admin_url
        self.owner = owner
        self._admin = create_engine(
            admin_url,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
            pool_pre_ping=True,
        )

    @classmethod
    def connect(
        cls, run_id: str, worker: str, admin_url: URL, owner: str | None = None
    ) -> "PostgresDatabases":
        """Check that the server answers, then return the backend.

        Args:
            run_id (str): Identifies the test run.
            worker (str): The xdist worker id, or ``main``.
            admin_url (URL): The server's URL (a ``URL``, whose repr hides the password
                in any traceback).
            owner (str | None): The run's owner, recorded on its databases.

        Returns:
            PostgresDatabases: The backend.

        Raises:
            pytest.UsageError: If the server refuses the connection or does not answer within
                :data:`CONNECT_TIMEOUT` seconds; the message names host and port, and the
                ways to get a server.
        """
        databases = cls(run_id, worker, admin_url, owner)
        started = time.monotonic()
        try:
            with databases._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            databases.dispose()
            waited = time.monotonic() - started
            reason = str(error.orig).strip().splitlines()[0]
            if waited >= CONNECT_TIMEOUT:
                reason = f"no answer within {CONNECT_TIMEOUT}s: {reason}"
            raise pytest.UsageError(
                f"cannot connect to PostgreSQL at {admin_url.host}:{admin_url.port or 5432} "
                f"({reason}). {WAYS_TO_GET_POSTGRES}"
            ) from None
        return databases

    def _ensure_template(self, migrate: Migrate) -> None:
        """Migrate the template unless it exists, under an advisory lock all runs share.

        The template is migrated under another name and renamed when done, so that a run
        that crashes while migrating never leaves a half-migrated template behind.
        """
        name = self.template_name
        with self._admin.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
            try:
                # An empty database with the run's prefix, so that it is dropped with the run.
                rebuilt = f"{self.prefix}_rebuilt"
                if self._exists(name) and self._must_rebuild(self._exists(rebuilt)):
                    self._execute("DROP DATABASE {} WITH (FORCE)", name)
                if not self._exists(name):
                    building = f"{name}_building"
                    self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", building)
                    self._create("CREATE DATABASE {}", building)
                    engine = self._engine(building)
                    try:
                        migrate(engine)
                    finally:
                        engine.dispose()
                    self._execute("ALTER DATABASE {} RENAME TO {}", building, name)
                    if self._must_rebuild(self._exists(rebuilt)):
                        self._create("CREATE DATABASE {}", rebuilt)
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(hashtext(:name))"),
                    {"name": self.template_name},
                )

    def _check_template(self, check: Check) -> None:
        """Run ``check`` on the template under its advisory lock, held exclusively.

        PostgreSQL refuses to clone a database anyone is connected to: no clone runs while
        this connection is open.
        """
        with self._admin.connect() as connection:
            lock = {"name": self.template_name}
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), lock)
            try:
                engine = self._engine(self.template_name)
                try:
                    check(engine)
                finally:
                    engine.dispose()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), lock)

    def create(self, name: str, from_template: bool) -> Engine:
        """Clone the template into a new database, or create an empty one.

        A clone holds the template's advisory lock shared: clones run side by side, and a
        rebuild (``--aana-create-db`` in another run), which holds it exclusively, waits for
        them, as they wait for it.
        """
        if not from_template:
            self._create("CREATE DATABASE {}", name)
            return self._engine(name)
        with self._admin.connect() as connection:
            lock = {"name": self.template_name}
            connection.execute(text("SELECT pg_advisory_lock_shared(hashtext(:name))"), lock)
            try:
                self._create("CREATE DATABASE {} TEMPLATE {}", name, self.template_name)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock_shared(hashtext(:name))"), lock)
        return self._engine(name)

    def drop(self, engine: Engine) -> None:
        """Dispose of the engine and drop its database."""
        engine.dispose()
        name = engine.url.database
        # With the separator: run "ab" must not drop run "abc"'s databases.
        if name and name.startswith(f"{self.prefix}_"):
            self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def drop_run(self) -> None:
        """Drop every database whose name carries this run's prefix."""
        with self._admin.connect() as connection:
            names = connection.scalars(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": self.prefix + "_"},
            ).all()
        for name in names:
            self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
        self.dispose()

    def drop_dead_runs(self) -> list[str]:
        """Drop the databases of runs whose controlling process on this host is gone.

        A run killed (SIGKILL, a crash) drops nothing; the databases it created carry its
        owner in their comment. Only those are dropped, and only when their owner's process
        on this host no longer exists: a live run's databases, another host's, the kept
        templates and databases the plugin did not create are left alone.

        Returns:
            list[str]: The databases dropped.
        """
        with self._admin.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE starts_with(datname, 'aana_test_') AND NOT starts_with(datname, :kept)"
                ),
                {"kept": KEPT_PREFIX},
            ).all()
        dropped = []
        for name, comment in rows:
            owner = (comment or "").removeprefix(OWNER_COMMENT)
            if owner == comment or not owner_is_gone(owner):
                continue
            try:
                self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
            except DBAPIError:
                continue  # another process of a run sweeping at the same time got there first
            dropped.append(name)
        return dropped

    def dispose(self) -> None:
        """Close the administrative connections."""
        self._admin.dispose()

    def _engine(self, name: str) -> Engine:
        return create_database_engine(db_settings_for(self.admin_url.set(database=name)))

    def _exists(self, name: str) -> bool:
        with self._admin.connect() as connection:
            found = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
        return found is not None

    def _create(self, statement: str, name: str, *names: str) -> None:
        """Create database ``name``; one of this run's is marked with the run's owner."""
        self._execute(statement, name, *names)
        if self.owner is not None and name.startswith(f"{self.prefix}_"):
            self._execute("COMMENT ON DATABASE {} IS {}", name, comment=OWNER_COMMENT + self.owner)

    def _execute(self, statement: str, *names: str, comment: str | None = None) -> None:
        """Run DDL on database names, which cannot be bound parameters; they are quoted.

        A ``comment`` (a string literal, which DDL cannot bind either) is quoted as one and
        fills the last ``{}``.
        """
        with self._admin.connect() as connection:
            quote = connection.dialect.identifier_preparer.quote_identifier
            parts = [quote(name) for name in names]
            if comment is not None:
                value = literal(comment, String())
                parts.append(str(value.compile(connection, compile_kwargs={"literal_binds": True})))
            connection.exec_driver_sql(statement.format(*parts))


def postgres_url(url: str) -> URL:
    """Parse a PostgreSQL URL, using psycopg 3 whatever driver it names.

    Args:
        url (str): ``postgresql://user:password@host:port/database``.

    Returns:
        URL: The parsed URL, with the ``postgresql+psycopg`` driver.

    Raises:
        ValueError: If the URL is malformed or not a PostgreSQL URL; the message shows the URL
            with its password masked.
    """
    shown = mask_password(url)
    if "@" in url.partition("://")[2].rpartition("@")[0]:
        raise ValueError(
            f"{shown}: the user or password holds an unescaped '@'; percent-encode it as %40 "
            "(and ':' as %3A, '/' as %2F)"
        )
    try:
        parsed = make_url(url)
    except (ValueError, ArgumentError) as error:
        # SQLAlchemy's own message may quote the whole URL, password included.
        reason = "the port is not a number" if "int()" in str(error) else "not a URL"
        raise ValueError(f"{shown}: {reason}") from None
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"{shown} is not a postgresql:// URL")
    return parsed.set(drivername="postgresql+psycopg")


def mask_password(url: str) -> str:
    """Return a URL as given, its password masked, even when the URL is malformed.

    What stands between the user's ``:`` and the last ``@`` is the password, as libpq reads it.

    Args:
        url (str): A URL, well formed or not.

    Returns:
        str: The URL with ``***`` for its password.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "(a string that is not a URL)"
    userinfo, at, address = rest.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{address}"
