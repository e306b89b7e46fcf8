"""Security: no SQL built from strings, hostile text taken literally, secrets kept, and a test
plugin that never drops or writes to a database it did not create.
"""

import ast
import hashlib
import json
import logging
import os
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_workers import settings_for
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from aana.cli import cli
from aana.configs import DbSettings, DbType, PostgreSQLConfig, Settings
from aana.configs.db import SECRET_PARAMETERS
from aana.core.models import Video
from aana.exceptions.db import DatabaseConfigError, InvalidValueException, NotFoundException
from aana.sdk import AanaSDK
from aana.storage.aio.engine import create_async_database_engine
from aana.storage.engine import create_database_engine
from aana.storage.models import Status, TaskEntity
from aana.storage.repository import CaptionRepository, TaskRepository, VideoRepository
from aana.testing.backends import PostgresDatabases, SQLiteDatabases

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "aana", ROOT / "alembic"]

# --- no SQL built by string formatting ------------------------------------------------------

# Calls whose first argument is SQL text.
SQL_TEXT_CALLS = {"text", "exec_driver_sql", "literal_column", "executescript"}
# Calls that take SQL text or a statement object; only built strings are flagged here.
SQL_EXECUTE_CALLS = {"execute", "executemany"}

ALLOWED = {
    ("aana/storage/engine.py", "_on_begin"): (
        "picks one of three fixed BEGIN statements from a dict; no input reaches the SQL"
    ),
    ("aana/testing/backends.py", "_execute"): (
        "CREATE/DROP DATABASE take identifiers, which cannot be bound parameters; every name "
        "is quoted by the dialect's quote_identifier"
    ),
}


@dataclass(frozen=True)
class Finding:
    path: str
    function: str
    line: int
    call: str
    why: str


class SqlBuildingFinder(ast.NodeVisitor):
    """Finds SQL text assembled from pieces and handed to SQLAlchemy or a driver."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.scopes: list[tuple[str, dict[str, list[ast.expr]]]] = [("<module>", {})]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        assigned: dict[str, list[ast.expr]] = {}
        for child in ast.walk(node):
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(child.value)
            elif isinstance(child, ast.AnnAssign | ast.AugAssign) and isinstance(
                child.target, ast.Name
            ):
                value = child.value if isinstance(child, ast.AnnAssign) else child
                if value is not None:
                    assigned.setdefault(child.target.id, []).append(value)  # type: ignore[arg-type]
        self.scopes.append((node.name, assigned))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = (
            node.func.attr
            if isinstance(node.func, ast.Attribute)
            else node.func.id
            if isinstance(node.func, ast.Name)
            else ""
        )
        argument = node.args[0] if node.args else None
        if argument is not None and name in SQL_TEXT_CALLS | SQL_EXECUTE_CALLS:
            if self.built(argument):
                self.report(node, name, "SQL text built from pieces")
            elif name in SQL_TEXT_CALLS and not self.literal(argument):
                self.report(node, name, "SQL text that is not a literal")
        self.generic_visit(node)

    def report(self, node: ast.Call, call: str, why: str) -> None:
        function = self.scopes[-1][0]
        self.findings.append(Finding(self.path, function, node.lineno, call, why))

    def assignments(self, name: str) -> list[ast.expr]:
        return self.scopes[-1][1].get(name, [])

    def built(self, node: ast.expr, depth: int = 0) -> bool:
        """f-strings, ``+`` or ``%`` on strings, ``.format``/``.join``, or a name bound to one."""
        if depth > 5:
            return False
        if isinstance(node, ast.JoinedStr):
            return any(isinstance(part, ast.FormattedValue) for part in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            sides = (node.left, node.right)
            return any(self.stringy(side) or self.built(side, depth + 1) for side in sides)
        if isinstance(node, ast.AugAssign):
            return isinstance(node.op, ast.Add | ast.Mod)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return node.func.attr in {"format", "join", "format_map"}
        if isinstance(node, ast.Name):
            return any(self.built(value, depth + 1) for value in self.assignments(node.id))
        return False

    def stringy(self, node: ast.expr) -> bool:
        return isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.Constant) and isinstance(node.value, str)
        )

    def literal(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return True
        if isinstance(node, ast.Name):
            values = self.assignments(node.id) or MODULE_CONSTANTS.get((self.path, node.id), [])
            return bool(values) and all(self.literal(value) for value in values)
        return False


MODULE_CONSTANTS: dict[tuple[str, str], list[ast.expr]] = {}


def find_sql_building(source: str, path: str) -> list[Finding]:
    tree = ast.parse(source)
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    MODULE_CONSTANTS.setdefault((path, target.id), []).append(statement.value)
    finder = SqlBuildingFinder(path)
    finder.visit(tree)
    return finder.findings


def scan_package() -> list[Finding]:
    findings = []
    for folder in SCANNED:
        for file in sorted(folder.rglob("*.py")):
            relative = file.relative_to(ROOT).as_posix()
            findings += find_sql_building(file.read_text(), relative)
    return findings


def test_no_sql_is_built_by_string_formatting_in_aana() -> None:
    findings = scan_package()
    unexpected = [f for f in findings if (f.path, f.function) not in ALLOWED]
    assert unexpected == [], "SQL built from strings; bind parameters instead:\n" + "\n".join(
        f"  {f.path}:{f.line} in {f.function}(): {f.call}() gets {f.why}" for f in unexpected
    )
    # Each audited exception still exists, with exactly one such call: a stale entry, or a
    # second string-built statement slipped into an audited function, fails the test.
    audited = [(f.path, f.function) for f in findings if (f.path, f.function) in ALLOWED]
    assert sorted(audited) == sorted(ALLOWED)


@pytest.mark.parametrize(
    "source",
    [
        "def f(s, v):\n    s.execute(text(f\"SELECT * FROM media WHERE id = '{v}'\"))\n",
        "def f(c, v):\n    c.exec_driver_sql(\"DELETE FROM media WHERE id = '%s'\" % v)\n",
        'def f(c, v):\n    c.execute("SELECT * FROM tasks WHERE user_id = \'" + v + "\'")\n',
        'def f(s, t):\n    s.execute(text("SELECT * FROM {}".format(t)))\n',
        'def f(s, v):\n    sql = f"SELECT {v}"\n    s.execute(text(sql))\n',
        "def f(s, v):\n    sql = 'SELECT '\n    sql += v\n    s.execute(sql)\n",
        "def f(s, cols):\n    s.execute(text(', '.join(cols)))\n",
        "def upgrade(v):\n    op.execute(f\"UPDATE media SET media_type = '{v}'\")\n",
        "def f(s, v):\n    s.execute(select(literal_column(f'{v}')))\n",
        "def f(s, statement):\n    s.execute(text(statement))\n",
    ],
)
def test_the_scanner_catches_string_built_sql(source: str) -> None:
    """Each of these would be a real injection; the scanner must flag every one."""
    assert find_sql_building(source, f"probe_{uuid.uuid4().hex}.py")


@pytest.mark.parametrize(
    "source",
    [
        'def f(s, v):\n    s.execute(text("SELECT * FROM media WHERE id = :id"), {"id": v})\n',
        "def f(s):\n    s.execute(select(MediaEntity).where(MediaEntity.id == v))\n",
        'QUERY = "SELECT 1"\ndef f(c):\n    c.exec_driver_sql(QUERY)\n',
        'def f(c):\n    c.execute(f"SELECT 1")\n',
        "def f(log, v):\n    log.info(f'saved {v}')\n",
    ],
)
def test_the_scanner_allows_bound_parameters(source: str) -> None:
    assert find_sql_building(source, f"probe_{uuid.uuid4().hex}.py") == []


# --- hostile strings on every filter that takes text ----------------------------------------

HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE tasks; --",
    '" OR ""="',
    "') OR ('a'='a",
    "' UNION SELECT id, endpoint FROM tasks --",
    "admin'--",
    "1; DELETE FROM media",
    "*/ DROP TABLE media; /*",
    "%",
    "_",
    "%%",
    "\\",
    "\\'",
    "$1",
    "?",
    ":user_id",
    "%(user_id)s",
    "{user_id}",
    "\u02bc OR 1=1 --",  # a modifier letter apostrophe, which some layers fold to '
]


def test_hostile_strings_are_taken_literally_by_every_text_filter(db_session: Session) -> None:
    tasks = TaskRepository(db_session)
    videos = VideoRepository(db_session)
    videos.save(Video(media_id="victim", title="victim"))
    owned = {}
    failed_with = {}
    for hostile in [*HOSTILE, "alice"]:
        task = tasks.save("/endpoint", {"q": hostile}, user_id=hostile)
        tasks.update_status(task.id, Status.ASSIGNED)
        tasks.update_status(task.id, Status.COMPLETED)
        owned[hostile] = task.id
        broken = tasks.save("/endpoint", {}, user_id="retry-owner")
        tasks.update_status(broken.id, Status.ASSIGNED)
        tasks.update_status(broken.id, Status.FAILED, result={"error": hostile})
        failed_with[hostile] = broken.id
    total = db_session.scalar(select(func.count()).select_from(TaskEntity))

    for hostile in HOSTILE:
        # user_id: only the task of exactly this user, never a wildcard or an injection.
        assert [t.id for t in tasks.get_tasks(user_id=hostile)] == [owned[hostile]]
        assert tasks.count(user_id=hostile)["total"] == 1
        # retryable_exceptions: a JSON path filter; only the task failed with this very text.
        claimed = tasks.fetch_unprocessed_tasks(retryable_exceptions=[hostile], max_retries=5)
        assert [t.id for t in claimed] == [failed_with[hostile]]
        # Ids: text where a key is expected is "not found", before or at the database.
        for repository in (tasks, videos, CaptionRepository(db_session)):
            with pytest.raises(NotFoundException):
                repository.read(hostile)
            assert repository.delete(hostile, check=False) is None
        assert videos.check_media_exists(hostile) is False
        assert tasks.filter_incomplete_tasks([hostile]) == []
        tasks.heartbeat([hostile])
    # Nothing was deleted, dropped or rewritten on the way.
    assert db_session.scalar(select(func.count()).select_from(TaskEntity)) == total
    assert videos.check_media_exists("victim")
    assert tasks.count(user_id="alice")["completed"] == 1
    tables = set(inspect(db_session.connection()).get_table_names())
    assert {"media", "video", "tasks", "caption", "transcript"} <= tables


def test_text_the_database_cannot_hold_is_refused_not_matched(db_session: Session) -> None:
    """A NUL never reaches PostgreSQL as a filter; on SQLite it is an ordinary character."""
    tasks = TaskRepository(db_session)
    tasks.save("/endpoint", {}, user_id="nul")
    if db_session.get_bind().dialect.name == "postgresql":
        with pytest.raises(InvalidValueException, match="NUL"):
            tasks.get_tasks(user_id="nul\x00")
    else:
        assert tasks.get_tasks(user_id="nul\x00") == []
    with pytest.raises(InvalidValueException, match="surrogate"):
        tasks.count(user_id="\ud800")
    assert [t.user_id for t in tasks.get_tasks(user_id="nul")] == ["nul"]


# --- the password never shows ---------------------------------------------------------------

SECRET = f"Pw-{uuid.uuid4().hex}"


def postgres_settings(port: int, database: str = "postgres", host: str = "127.0.0.1") -> DbSettings:
    return DbSettings(
        datastore_type=DbType.POSTGRESQL,
        datastore_config=PostgreSQLConfig(
            host=host, port=port, user="postgres", password=SECRET, database=database
        ),
        connect_timeout=2,
    )


def everything_said_about(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error) + repr(error.args)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at DEBUG, SQLAlchemy's engine and pool logging included."""
    loggers = ["sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.dialects", "alembic", "aana"]
    previous = {name: logging.getLogger(name).level for name in loggers}
    caplog.set_level(logging.DEBUG)
    for name in loggers:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(repr(record.args) for record in caplog.records)


def test_password_absent_from_reprs_and_dumps() -> None:
    settings = postgres_settings(5432)
    engine = create_database_engine(settings)
    try:
        shown = [
            repr(settings),
            str(settings),
            settings.model_dump_json(),
            repr(settings.model_dump()),
            repr(settings.datastore_config),
            repr(settings.url()),
            str(settings.url()),
            repr(engine),
            str(engine.url),
            repr(engine.pool),
        ]
    finally:
        engine.dispose()
    for text_ in shown:
        assert SECRET not in text_


@pytest.mark.parametrize(
    ("where", "port", "database"),
    [("closed port", 1, "postgres"), ("missing database", 5432, "no_such_db_reliability")],
)
def test_password_absent_when_the_connection_fails(
    all_logs: pytest.LogCaptureFixture, where: str, port: int, database: str
) -> None:
    engine = create_database_engine(postgres_settings(port, database))
    try:
        with pytest.raises(OperationalError) as caught, engine.connect():
            pass
    finally:
        engine.dispose()
    assert SECRET not in everything_said_about(caught.value)
    assert SECRET not in logged(all_logs)


def test_password_absent_from_logs_of_a_working_migration(
    db_engine: Engine, all_logs: pytest.LogCaptureFixture
) -> None:
    """The server trusts local connections, so any password connects: SQL logging is on."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no password")
    settings = postgres_settings(db_engine.url.port or 5432, str(db_engine.url.database))
    result = AanaSDK().migrate(Settings(db_config=settings))
    assert not result.changed
    assert "SELECT" in logged(all_logs)  # the logs really were captured
    assert SECRET not in logged(all_logs)
    assert SECRET not in result.describe()


@pytest.mark.subprocesses
def test_password_absent_from_cli_output(db_engine: Engine, tmp_path: Path) -> None:
    """``aana migrate`` as a real process: unreachable, malformed and working configs."""
    config = {
        "datastore_type": "postgresql",
        "datastore_config": {"host": "127.0.0.1", "port": 1, "password": SECRET},
        "connect_timeout": 2,
    }
    runs = {"unreachable": json.dumps(config), "malformed": json.dumps(config)[:-7]}
    bad_port = {**config, "datastore_config": {**config["datastore_config"], "port": SECRET}}
    runs["invalid"] = json.dumps(bad_port)
    if db_engine.dialect.name == "postgresql":
        config["datastore_config"] = {
            "host": db_engine.url.host,
            "port": db_engine.url.port or 5432,
            "password": SECRET,
            "database": db_engine.url.database,
        }
        runs["working"] = json.dumps(config)
    # All at once: each run spends most of its time importing.
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-c", "from aana.cli import cli; cli()", "migrate"],
            env={**os.environ, "DB_CONFIG": db_config},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, db_config in runs.items()
    }
    codes = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        codes[name] = process.returncode
        assert SECRET not in stdout + stderr, name
        assert "Traceback" not in stderr, stderr
    assert codes["unreachable"] == 1
    assert codes["malformed"] == codes["invalid"] == 2
    assert codes.get("working", 0) == 0
    # The in-process runner sees the same thing, exception objects included.
    result = CliRunner().invoke(cli, ["migrate"], env={"DB_CONFIG": runs["unreachable"]})
    assert SECRET not in result.output + repr(result.exception)


LIBPQ_SECRETS = sorted(SECRET_PARAMETERS - {"password"})  # password has a field of its own


def test_every_parameter_libpq_calls_secret_is_listed() -> None:
    from psycopg.pq import Conninfo

    marked = {o.keyword.decode() for o in Conninfo.get_defaults() if o.dispchar == b"*"}
    assert marked  # password at least: libpq answered
    assert marked <= SECRET_PARAMETERS


@pytest.mark.parametrize("name", LIBPQ_SECRETS)
def test_secret_parameters_absent_from_reprs_dumps_and_errors(name: str) -> None:
    settings = DbSettings(
        datastore_type=DbType.POSTGRESQL,
        datastore_config=PostgreSQLConfig(
            host="127.0.0.1", password=SECRET, parameters={name: SECRET, "sslmode": "prefer"}
        ),
    )
    assert settings.datastore_config.parameters[name] == SECRET  # kept, only hidden
    engine = create_database_engine(settings)
    async_engine = create_async_database_engine(settings)
    url = f"postgresql://u:{SECRET}@h/db?{name}={SECRET}&sslmode=prefer"
    with pytest.raises(DatabaseConfigError) as refused:
        DbSettings.from_url(f"{url}&not_a_parameter=1")
    try:
        shown = [
            repr(settings),
            str(settings),
            settings.model_dump_json(),
            repr(settings.model_dump()),
            repr(settings.datastore_config),
            repr(settings.url()),
            str(settings.url()),
            str(settings.url().set(drivername="postgresql")),
            repr(engine),
            str(engine.url),
            repr(async_engine),
            str(async_engine.url),
            repr(DbSettings.from_url(url)),
            str(DbSettings.from_url(url).url()),
            str(DbSettings.from_url(f"postgresql://h/db?password={SECRET}").url()),
            everything_said_about(refused.value),
        ]
    finally:
        engine.dispose()
    for text_ in shown:
        assert SECRET not in text_, text_
    assert f"{name}=***" in str(settings.url())
    # The settings still connect with it: the unmasked URL carries it to the driver.
    assert f"{name}={SECRET}" in engine.url.render_as_string(hide_password=False)
    assert engine.url.query[name] == SECRET


@pytest.mark.subprocesses
def test_secret_parameters_absent_from_migrate_and_current(db_engine: Engine) -> None:
    """``aana migrate`` and ``aana current`` as processes, unreachable and (PostgreSQL) working."""
    parameters = {"sslpassword": SECRET, "application_name": "secret-test"}
    unreachable = {
        "datastore_type": "postgresql",
        "datastore_config": {"host": "127.0.0.1", "port": 1, "parameters": parameters},
        "connect_timeout": 2,
    }
    configs = {"unreachable": unreachable}
    if db_engine.dialect.name == "postgresql":
        configs["working"] = {
            "datastore_type": "postgresql",
            "datastore_config": {
                "host": db_engine.url.host,
                "port": db_engine.url.port or 5432,
                "database": db_engine.url.database,
                "parameters": parameters,
            },
        }
    processes = {
        (name, command): subprocess.Popen(
            [sys.executable, "-c", "from aana.cli import cli; cli()", command],
            env={**os.environ, "DB_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, config in configs.items()
        for command in ("migrate", "current")
    }
    for (name, command), process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        assert SECRET not in stdout + stderr, (name, command)
        assert "sslpassword=***" in stderr, (name, command, stderr)  # the database is named
        assert process.returncode == (0 if name == "working" else 1), (name, command, stderr)


# --- the test plugin never drops or writes to a database it did not create ------------------


@pytest.fixture
def admin(db_engine: Engine) -> Iterator[Engine]:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL databases; the SQLite case is covered by file tests")
    engine = create_engine(db_engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def sentinel_database(admin: Engine) -> Iterator[str]:
    """A database the plugin did not create, holding one precious row."""
    name = f"reliability_sentinel_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(admin.url.set(database=name))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE precious (value text)")
        connection.exec_driver_sql("INSERT INTO precious VALUES ('keep me')")
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_contents(admin: Engine, name: str) -> tuple[set[str], list[str]] | None:
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
    if not exists:
        return None
    engine = create_engine(admin.url.set(database=name))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            rows = list(connection.scalars(text("SELECT value FROM precious")))
    finally:
        engine.dispose()
    return tables, rows


def test_postgres_backend_refuses_to_drop_foreign_databases(
    admin: Engine, sentinel_database: str
) -> None:
    run = f"reliab{uuid.uuid4().hex[:6]}"
    databases = PostgresDatabases(run, "main", admin.url)
    own = f"aana_test_{run}_main_1"
    lookalike = f"aana_test_{run}x_main_1"  # another run whose id starts with ours
    with admin.connect() as connection:
        for name in (own, lookalike):
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        for name in (sentinel_database, lookalike, "postgres"):
            databases.drop(create_engine(admin.url.set(database=name)))
        databases.drop_run()
        assert database_contents(admin, sentinel_database) == ({"precious"}, ["keep me"])
        with admin.connect() as connection:
            left = set(
                connection.scalars(
                    text("SELECT datname FROM pg_database WHERE datname IN (:a, :b, 'postgres')"),
                    {"a": own, "b": lookalike},
                )
            )
        assert left == {lookalike, "postgres"}
    finally:
        with admin.connect() as connection:
            for name in (own, lookalike):
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_sqlite_backend_refuses_to_delete_foreign_files(tmp_path: Path) -> None:
    own_dir = tmp_path / "own"
    own_dir.mkdir()
    databases = SQLiteDatabases("reliab", "main", tmp_path, own_dir)
    foreign = [tmp_path / "app.db", own_dir / "app.db", own_dir / "aana_test_reliabx_main_1.db"]
    for path in foreign:
        path.write_bytes(b"precious")
        Path(f"{path}-wal").write_bytes(b"precious")
    mine = databases.create(databases.new_name(), from_template=False)
    with mine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x int)")
    for path in foreign:
        databases.drop(create_engine(f"sqlite:///{path}"))
    databases.drop(mine)
    assert sorted(p.name for p in own_dir.iterdir()) == sorted(
        ["app.db", "app.db-wal", "aana_test_reliabx_main_1.db", "aana_test_reliabx_main_1.db-wal"]
    )
    assert all(path.read_bytes() == b"precious" for path in foreign)


PLUGIN_USER_TESTS = """
import json, os
from sqlalchemy import text
from aana.core.models import Video
from aana.storage.repository import VideoRepository
from aana.storage.session import get_session


def test_writes_through_every_fixture(db_session, transactional_db_engine):
    VideoRepository(db_session).save(Video(media_id="plugin-run"))
    with get_session() as session:  # the app's own way in: DB_CONFIG names the sentinel
        VideoRepository(session).save(Video(media_id="via-get-session"))
    with transactional_db_engine.begin() as connection:
        connection.execute(text("DELETE FROM media"))
    with open(os.environ["RELIABILITY_REPORT"], "w") as report:
        json.dump([db_session.get_bind().engine.url.database,
                   transactional_db_engine.url.database], report)
"""


@pytest.mark.subprocesses
def test_plugin_run_leaves_the_named_database_alone(
    db_engine: Engine, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """A whole pytest run of the plugin, pointed at a database it did not create.

    The run's databases are made and dropped; the one named by the URL (PostgreSQL) or by
    ``DB_CONFIG`` (both backends) keeps exactly its tables and rows.
    """
    report = tmp_path / "report.json"
    pytester.makepyfile(test_user=PLUGIN_USER_TESTS)
    args = ["-p", "aana.testing", "-p", "no:cacheprovider"]
    env = {"RELIABILITY_REPORT": str(report)}
    if db_engine.dialect.name == "postgresql":
        admin_engine = create_engine(
            db_engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        sentinel = f"reliability_sentinel_{uuid.uuid4().hex[:8]}"
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{sentinel}"')
        try:
            engine = create_engine(db_engine.url.set(database=sentinel))
            with engine.begin() as connection:
                connection.exec_driver_sql("CREATE TABLE precious (value text)")
                connection.exec_driver_sql("INSERT INTO precious VALUES ('keep me')")
            engine.dispose()
            sentinel_url: URL = db_engine.url.set(database=sentinel)
            db_config = settings_for(sentinel_url).model_dump(mode="json")
            db_config["datastore_config"]["password"] = ""
            env["DB_CONFIG"] = json.dumps(db_config)
            args += [
                "--aana-db=postgresql",
                f"--aana-postgres-url={sentinel_url.render_as_string(hide_password=False)}",
            ]
            result = run_plugin(pytester, args, env)
            assert database_contents(admin_engine, sentinel) == ({"precious"}, ["keep me"])
            used = json.loads(report.read_text())
            assert sentinel not in used
            with admin_engine.connect() as connection:
                leftovers = connection.scalars(
                    text("SELECT datname FROM pg_database WHERE datname = ANY(:names)"),
                    {"names": used},
                ).all()
            assert leftovers == [], "the run did not drop its own databases"
        finally:
            with admin_engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sentinel}" WITH (FORCE)')
            admin_engine.dispose()
    else:
        sentinel_file = tmp_path / "app.db"
        engine = create_engine(f"sqlite:///{sentinel_file}")
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE precious (value text)")
            connection.exec_driver_sql("INSERT INTO precious VALUES ('keep me')")
        engine.dispose()
        digest = hashlib.sha256(sentinel_file.read_bytes()).hexdigest()
        env["DB_CONFIG"] = json.dumps({"datastore_config": {"path": str(sentinel_file)}})
        result = run_plugin(pytester, [*args, "--aana-db=sqlite"], env)
        assert hashlib.sha256(sentinel_file.read_bytes()).hexdigest() == digest
        assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "report.json"]
        used = json.loads(report.read_text())
        assert not any(Path(path).exists() for path in used)
    assert result.ret == 0


def run_plugin(pytester: pytest.Pytester, args: list[str], env: dict[str, str]) -> pytest.RunResult:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.delenv("AANA_TEST_DB", raising=False)
        patch.delenv("AANA_TEST_POSTGRES_URL", raising=False)
        result = pytester.runpytest_subprocess(*args, timeout=120)
    assert result.ret == 0, result.stdout.str()[-3000:] + result.stderr.str()[-2000:]
    result.assert_outcomes(passed=1)
    return result
