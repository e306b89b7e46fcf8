"""The ``aana`` command line."""

import datetime
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic import command
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from aana.configs.db import DbSettings, PostgreSQLConfig, SQLiteConfig
from aana.configs.settings import Settings, load_settings
from aana.exceptions.db import (
    ConnectionLostException,
    DatabaseException,
    DowngradeWouldDropData,
    IntegrityViolation,
    TableMissingException,
)
from aana.scaffold import ScaffoldError, init_app
from aana.sdk import AanaSDK
from aana.storage.migrations import alembic_config
from aana.storage.migrations.aana_sdk_releases import unknown_revisions_hint
from aana.storage.migrations.adoption import AdoptionError
from aana.storage.migrations.failures import (
    MIGRATION_LOCK_TIMEOUT,
    MigrationLockTimeout,
    refused_statement,
)
from aana.storage.models.task import Status
from aana.storage.repository.retention import (
    DEFAULT_BATCH_SIZE,
    MAX_BATCH_SIZE,
    PRUNABLE_STATUSES,
    PrunedTasks,
    batch_size_of,
    parse_duration,
    prune_cutoff,
    prune_statuses,
)
from aana.storage.repository.task import TaskRepository

T = TypeVar("T")


def load_app(spec: str) -> AanaSDK:
    """Load the ``AanaSDK`` named by ``module:attribute``.

    Args:
        spec (str): ``module:attribute``, e.g. ``my_app.main:aana_app``.

    Returns:
        AanaSDK: The application.

    Raises:
        click.BadParameter: If the spec is malformed or does not name an ``AanaSDK``.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise click.BadParameter(f"{spec!r}: expected module:attribute", param_hint="APP")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise click.BadParameter(
            f"cannot import {module_name!r}: {error}", param_hint="APP"
        ) from None
    if not hasattr(module, attribute):
        raise click.BadParameter(
            f"module {module_name!r} has no attribute {attribute!r}", param_hint="APP"
        )
    app = getattr(module, attribute)
    if not isinstance(app, AanaSDK):
        raise click.BadParameter(
            f"{spec!r} is {type(app).__name__}, not an AanaSDK", param_hint="APP"
        )
    return app


@click.group()
def cli() -> None:
    """Aana SDK command line."""


@cli.command()
@click.argument("package")
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The project's root directory.",
)
def init(package: str, project: Path) -> None:
    """Write the files of PACKAGE's own migrations and tests into the project.

    PACKAGE/alembic.ini (naming PACKAGE.models as the models module), PACKAGE/migrations/
    (env.py, script.py.mako, versions/), PACKAGE/app.py (aana_app), tests/conftest.py and a
    tox.ini with sqlite and postgres environments; PACKAGE/__init__.py, PACKAGE/models.py
    and pyproject.toml only where they do not exist. Existing files are never overwritten.
    """
    try:
        scaffold = init_app(package, project)
    except ScaffoldError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    for path in scaffold.written:
        click.echo(f"wrote {path}")
    for path in scaffold.kept:
        click.echo(f"kept  {path} (exists)")
    click.echo(
        f"Next: define entities in {package}/models.py, install the app "
        f"(`pip install -e .`), then `aana migrate {package}.app:aana_app` and "
        f'`aana revision {package}.app:aana_app --autogenerate -m "..."`.'
    )


@cli.command()
@click.argument("app", required=False)
@click.option(
    "--check",
    is_flag=True,
    help="Migrate nothing; exit 1 if revisions are pending or the models and the migrations "
    "disagree.",
)
@click.option(
    "--adopt-unversioned",
    is_flag=True,
    help="Record a database created with create_all (tables, no migration history) at head, "
    "once it is checked to match the models.",
)
@click.option(
    "--adopt",
    is_flag=True,
    help="Adopt APP's database from the Aana SDK, APP's own tables included: they are "
    "checked against APP's revisions and recorded at the one they match; later ones apply.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=MIGRATION_LOCK_TIMEOUT,
    show_default=True,
    help="PostgreSQL: seconds a statement waits for a lock another session holds before the "
    "run stops, naming that session (0: wait forever).",
)
def migrate(
    app: str | None, check: bool, adopt_unversioned: bool, adopt: bool, lock_timeout: float
) -> None:
    """Migrate the database named by DB_CONFIG to head.

    APP (module:attribute naming an AanaSDK) adds the app's own migrations after aana's.
    """
    if adopt and not app:
        raise click.UsageError(
            "--adopt adopts an app's tables: name the app, as in "
            "`aana migrate my_app.app:aana_app --adopt`"
        )
    sdk = load_app(app) if app else AanaSDK()
    with _database_errors(sdk, app):
        settings = _settings()
        config = settings.db_config.datastore_config
        if isinstance(config, SQLiteConfig) and config.in_memory:
            raise click.UsageError(
                "DB_CONFIG names the in-memory SQLite database ':memory:', which is gone when "
                "aana migrate exits: name a database file"
            )
        if not check:
            migrated = sdk.migrate(settings, adopt_unversioned, adopt, lock_timeout)
            click.echo(migrated.describe())
            return
        result = sdk.check_migrations(settings)
    click.echo(result.describe(), err=not result.ok)
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.argument("app")
@click.option("-m", "--message", required=True, help="The revision's message.")
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Fill the revision with the differences between the app's models and the database "
    "named by DB_CONFIG, which must be at head.",
)
@click.option(
    "--allow-drop",
    is_flag=True,
    help="Let an autogenerated revision drop tables that the models do not define.",
)
def revision(app: str, message: str, autogenerate: bool, allow_drop: bool) -> None:
    """Write a new revision on the app's own lineage, in the app's version folder.

    APP (module:attribute naming an AanaSDK with an alembic_config). The app's first
    revision starts its branch; each one depends on the aana revisions it was written
    against, so aana's own revisions are never copied into the app. With --autogenerate,
    no revision is written when the models match the database.
    """
    sdk = _app_with_migrations(app)
    with _database_errors(sdk, app):
        settings = _settings() if autogenerate else None
        script = sdk.new_revision(message, autogenerate, settings, allow_drop)
    if script is None:
        click.echo("No changes between the models and the database; no revision written.")
    else:
        click.echo(f"Wrote revision {script.revision}: {script.path}")


@cli.command()
@click.argument("app", required=False)
def current(app: str | None) -> None:
    """Show the revisions the database named by DB_CONFIG is at.

    APP (module:attribute naming an AanaSDK) adds the app's lineage to aana's.
    """
    sdk = load_app(app) if app else AanaSDK()
    with _database_errors(sdk, app):
        revisions = sdk.current_revisions(_settings())
    script = ScriptDirectory.from_config(alembic_config(sdk.alembic_config))
    known = {rev.revision for rev in script.walk_revisions()}
    for revision_id in revisions:
        if revision_id not in known:
            hint = unknown_revisions_hint([revision_id], app)
            click.echo(f"{revision_id}: not in these migrations. {hint}")
    applied = {
        rev.revision
        for rev in script.iterate_revisions(tuple(r for r in revisions if r in known), "base")
    }
    # Alembic's "heads" leave out aana's head once an app's revision depends on it.
    for head in (rev for rev in script.walk_revisions() if rev.is_head):
        lineage = _lineage(script, head)
        label = next((label for rev in lineage for label in rev.branch_labels), head.revision)
        done = [index for index, rev in enumerate(lineage) if rev.revision in applied]
        if not done:
            click.echo(f"{label}: no revision applied ({len(lineage)} pending)")
            continue
        newest = lineage[done[0]]
        state = "head" if done[0] == 0 else f"{done[0]} pending"
        click.echo(f"{label}: {newest.revision} ({state}) {newest.doc}")


@cli.command()
@click.argument("app", required=False)
def history(app: str | None) -> None:
    """List aana's revisions and, with APP, the app's, newest first.

    APP (module:attribute naming an AanaSDK) adds the app's lineage to aana's.
    """
    sdk = load_app(app) if app else AanaSDK()
    command.history(alembic_config(sdk.alembic_config))


@cli.command()
@click.argument("app", required=False)
@click.option(
    "--to",
    "target",
    required=True,
    help="The revision to go down to: an id, LABEL@-N (N revisions down the lineage "
    "labelled LABEL, e.g. my_app@-1), LABEL@base (none of that lineage) or base (nothing).",
)
@click.option(
    "--drop-data",
    is_flag=True,
    help="Let the downgrade drop tables that hold rows; without it, such a downgrade names "
    "them and their row counts and changes nothing.",
)
def downgrade(app: str | None, target: str, drop_data: bool) -> None:
    """Downgrade the database named by DB_CONFIG, in one transaction.

    APP (module:attribute naming an AanaSDK) adds the app's lineage to aana's.
    """
    sdk = load_app(app) if app else AanaSDK()
    with _database_errors(sdk, app):
        try:
            result = sdk.downgrade(target, _settings(), drop_data=drop_data)
        except DowngradeWouldDropData as refused:
            click.echo(f"Error: {refused}", err=True)
            sys.exit(1)
        click.echo(result.describe())


@cli.group()
def tasks() -> None:
    """Look after the task queue's table."""


@tasks.command()
@click.option(
    "--older-than",
    required=True,
    metavar="DURATION",
    help="Delete tasks that finished longer ago than this: a whole number and a unit, "
    "s, m, h, d or w (45s, 90m, 12h, 30d, 2w).",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATUS",
    help="completed or failed: repeat the option, or separate with commas  "
    "[default: completed,failed]",
)
@click.option(
    "--batch-size",
    type=int,
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help=f"Tasks deleted per transaction, from 1 to {MAX_BATCH_SIZE}.",
)
@click.option("--dry-run", is_flag=True, help="Count the tasks to delete; delete nothing.")
def prune(older_than: str, statuses: tuple[str, ...], batch_size: int, dry_run: bool) -> None:
    """Delete finished tasks of the database named by DB_CONFIG, in batches.

    Each batch is a short transaction of its own that takes no lock a claim needs, so workers
    go on claiming while it runs. On a terminal, a progress bar on stderr; at the end, how
    many tasks of each status were deleted.
    """
    age = _checked(parse_duration, older_than, "--older-than")
    listed = [status for value in statuses for status in value.split(",")]
    chosen = _checked(prune_statuses, listed or list(PRUNABLE_STATUSES), "--status")
    size = _checked(batch_size_of, batch_size, "--batch-size")
    with _database_errors(AanaSDK(), None):
        engine = _settings().db_config.get_engine()
        try:
            with Session(engine) as session:
                repository = TaskRepository(session)
                # One cutoff for the count and the prune, so the bar's total is the same tasks.
                cutoff = prune_cutoff(age)
                if dry_run or not sys.stderr.isatty():
                    pruned = repository.prune(cutoff, chosen, size, dry_run=dry_run)
                else:
                    pruned = _prune_with_a_bar(repository, cutoff, chosen, size)
        except (TableMissingException, IntegrityViolation, ConnectionLostException) as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)
    click.echo(pruned.describe(older_than.strip()))


def _prune_with_a_bar(
    repository: TaskRepository, cutoff: datetime.datetime, statuses: tuple[Status, ...], size: int
) -> PrunedTasks:
    """Prune, showing on stderr a bar whose length is what a dry run counts first."""
    total = repository.prune(cutoff, statuses, size, dry_run=True).total
    done = 0
    with click.progressbar(
        length=total, label="Deleting tasks", file=sys.stderr, show_pos=True
    ) as bar:

        def advance(so_far: PrunedTasks) -> None:
            nonlocal done
            bar.update(so_far.total - done)
            done = so_far.total

        return repository.prune(cutoff, statuses, size, progress=advance)


def _checked(check: Callable[[Any], T], value: Any, option: str) -> T:
    """Run an argument's check; its ValueError becomes click's usage error naming the option."""
    try:
        return check(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=f"'{option}'") from None


def _app_with_migrations(spec: str) -> AanaSDK:
    sdk = load_app(spec)
    if sdk.alembic_config is None:
        raise click.BadParameter(
            f"{spec!r} has no alembic_config: give AanaSDK the path of the app's alembic.ini",
            param_hint="APP",
        )
    return sdk


def _settings() -> Settings:
    """Read the settings, and say on stderr which database the command works on."""
    settings = load_settings()
    config = settings.db_config.datastore_config
    if "DB_CONFIG" not in os.environ:
        click.echo(
            f"DB_CONFIG is not set: using the default SQLite database {config.url().database} "
            "(the file is created if it does not exist).",
            err=True,
        )
    click.echo(f"Database: {_describe(settings.db_config)}", err=True)
    return settings


def _describe(db: DbSettings) -> str:
    """The database a configuration names, with its password masked."""
    config = db.datastore_config
    if isinstance(config, PostgreSQLConfig):
        return config.url().set(drivername="postgresql").render_as_string(hide_password=True)
    if isinstance(config, SQLiteConfig) and config.in_memory:
        return "the in-memory SQLite database"
    return f"SQLite file {Path(str(config.url().database)).resolve()}"


def _lineage(script: ScriptDirectory, head: Script) -> list[Script]:
    """The revisions of a head's own lineage, newest first: parents, not dependencies."""
    lineage: list[Script] = []
    stack = [head]
    while stack:
        rev = stack.pop()
        if rev in lineage:
            continue
        lineage.append(rev)
        parents = rev.down_revision
        for parent in (parents,) if isinstance(parents, str) else parents or ():
            found = script.get_revision(parent)
            assert found is not None
            stack.append(found)
    return lineage


@contextmanager
def _database_errors(sdk: AanaSDK, app: str | None) -> Iterator[None]:
    """Turn configuration, connection and Alembic errors into a message, a hint and an exit."""
    try:
        yield
    except (ValidationError, DatabaseException) as error:
        click.echo(f"Error: invalid database configuration (DB_CONFIG): {error}", err=True)
        sys.exit(2)
    except DBAPIError as error:
        # A statement the database refused is not a database out of reach: only a failed
        # connection has no statement.
        if error.statement is not None and not error.connection_invalidated:
            click.echo(f"Error: {refused_statement(error)}", err=True)
            sys.exit(1)
        if not isinstance(error, OperationalError):
            raise
        click.echo(f"Error: cannot reach the database: {error.orig}", err=True)
        hint = _missing_database_hint()
        if hint:
            click.echo(hint, err=True)
        sys.exit(1)
    except CommandError as error:
        click.echo(f"Error: {error}", err=True)
        # Adoption and migration errors say what to do; Alembic's own errors need a hint.
        own = isinstance(error, AdoptionError | MigrationLockTimeout)
        hint = None if own else _revision_hint(sdk, app)
        if hint:
            click.echo(hint, err=True)
        sys.exit(1)


def _missing_database_hint() -> str | None:
    """Say how to create a PostgreSQL database that does not exist, when that is the cause.

    The driver reports no SQLSTATE for a failed connection, so the server is asked.
    """
    db = load_settings().db_config
    config = db.datastore_config
    if not isinstance(config, PostgreSQLConfig):
        return None
    engine = create_engine(
        config.url().set(database="postgres"),
        poolclass=NullPool,
        connect_args={"connect_timeout": db.connect_timeout},
    )
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": config.database}
            )
    except OperationalError:
        return None
    finally:
        engine.dispose()
    if exists:
        return None
    return (
        f"Hint: database {config.database!r} does not exist on {config.host}:{config.port}. "
        f"Create it with `createdb -h {config.host} -p {config.port} -U {config.user} "
        f'{config.database}` (or CREATE DATABASE "{config.database}" in psql), then run '
        "the command again."
    )


def _revision_hint(sdk: AanaSDK, app: str | None) -> str | None:
    """Say what to do when the database is at unknown revisions or behind head."""
    settings = load_settings()
    config = alembic_config(sdk.alembic_config)
    script = ScriptDirectory.from_config(config)
    known = {rev.revision for rev in script.walk_revisions()}
    try:
        current = sdk.current_revisions(settings)
    except OperationalError:
        return None
    unknown = [revision_id for revision_id in current if revision_id not in known]
    if unknown:
        hint = unknown_revisions_hint(unknown, app)
        return f"Hint: the database is at {', '.join(unknown)}. {hint}"
    applied = {rev.revision for rev in script.iterate_revisions(current, "base")}
    pending = [rev.revision for rev in script.walk_revisions() if rev.revision not in applied]
    if pending and app:
        return (
            f"Hint: {len(pending)} revision(s) not applied yet ({', '.join(reversed(pending))}): "
            f"run `aana migrate {app}` first."
        )
    return None
