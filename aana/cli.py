"""The ``aana`` command line."""

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from alembic.util import CommandError
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from aana.exceptions.db import DatabaseException
from aana.sdk import AanaSDK


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
    app = getattr(module, attribute, None)
    if not isinstance(app, AanaSDK):
        raise click.BadParameter(
            f"{spec!r} is {type(app).__name__}, not an AanaSDK", param_hint="APP"
        )
    return app


@click.group()
def cli() -> None:
    """Aana SDK command line."""


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
def migrate(app: str | None, check: bool, adopt_unversioned: bool) -> None:
    """Migrate the database named by DB_CONFIG to head.

    APP (module:attribute naming an AanaSDK) adds the app's own migrations after aana's.
    """
    sdk = load_app(app) if app else AanaSDK()
    with _database_errors():
        if not check:
            click.echo(sdk.migrate(adopt_unversioned=adopt_unversioned).describe())
            return
        result = sdk.check_migrations()
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
def revision(app: str, message: str, autogenerate: bool) -> None:
    """Write a new revision on the app's own lineage, in the app's version folder.

    APP (module:attribute naming an AanaSDK with an alembic_config). The app's first
    revision starts its branch; each one depends on the aana revisions it was written
    against, so aana's own revisions are never copied into the app.
    """
    sdk = load_app(app)
    if sdk.alembic_config is None:
        raise click.BadParameter(
            f"{app!r} has no alembic_config: give AanaSDK the path of the app's alembic.ini",
            param_hint="APP",
        )
    with _database_errors():
        sdk.new_revision(message, autogenerate=autogenerate)


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn configuration, connection and Alembic errors into a message and an exit code."""
    try:
        yield
    except (ValidationError, DatabaseException) as error:
        click.echo(f"Error: invalid database configuration (DB_CONFIG): {error}", err=True)
        sys.exit(2)
    except OperationalError as error:
        click.echo(f"Error: cannot reach the database: {error.orig}", err=True)
        sys.exit(1)
    except CommandError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
