"""The ``aana`` command line."""

import importlib
import sys

import click
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
def migrate(app: str | None) -> None:
    """Migrate the database named by DB_CONFIG to head.

    APP (module:attribute naming an AanaSDK) adds the app's own migrations after aana's.
    """
    sdk = load_app(app) if app else AanaSDK()
    try:
        result = sdk.migrate()
    except (ValidationError, DatabaseException) as error:
        click.echo(f"Error: invalid database configuration (DB_CONFIG): {error}", err=True)
        sys.exit(2)
    except OperationalError as error:
        click.echo(f"Error: cannot reach the database: {error.orig}", err=True)
        sys.exit(1)
    click.echo(result.describe())
