"""The database settings as SQLAlchemy URLs, both ways, with their secrets masked.

A URL is rendered from the settings (:meth:`~aana.configs.SQLiteConfig.url`,
:meth:`~aana.configs.PostgreSQLConfig.url`) and read into them
(:meth:`~aana.configs.DbSettings.from_url`, which validates what :func:`fields_from_url`
reads). A PostgreSQL URL's query holds libpq connection parameters: which ones the settings
hold in fields of their own, which ones pass to the driver, and which ones are secrets is
decided here.
"""

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote_plus

from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url

from aana.exceptions.db import DatabaseConfigError

SQLITE_MEMORY = ":memory:"
"""The path of an in-memory SQLite database: one connection, shared by every session."""

SECRET_PARAMETERS = frozenset(
    {"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}
)
"""The libpq connection parameters that are secrets, masked wherever settings are shown.

``password``, ``sslpassword`` (the passphrase of the client key ``sslkey``) and
``oauth_client_secret`` are the ones libpq itself marks as secret (``dispchar`` ``*``);
``scram_client_key`` and ``scram_server_key`` log in as the password does. Paths to files that
hold secrets (``passfile``, ``sslkey``) are not secrets themselves, and are shown.
"""

TRANSACTION_POOLER_PARAMETER = "transaction_pooler"
"""The query parameter of a PostgreSQL URL that sets ``datastore_config.transaction_pooler``
(``?transaction_pooler=true``); it is aana's, never passed to libpq."""

_MASK = "***"
"""What a secret is shown as: SQLAlchemy's mask of a URL's password."""

_QUERY_FIELDS = {
    "host": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "dbname": "database",
}
"""libpq parameters of a URL's query that fill a field of PostgreSQLConfig, and which."""

_OWN_FIELDS = {
    TRANSACTION_POOLER_PARAMETER: "datastore_config.transaction_pooler",
    "host": "datastore_config.host",
    "port": "datastore_config.port",
    "user": "datastore_config.user",
    "password": "datastore_config.password",
    "dbname": "datastore_config.database",
    "connect_timeout": "connect_timeout",
}
"""libpq parameters that settings of their own hold, and the setting that does."""

_POSTGRESQL_DEFAULTS = {
    "host": "localhost",
    "port": 5432,
    "user": "postgres",
    "database": "postgres",
}
"""What a PostgreSQL URL that leaves a part out connects to, as libpq's defaults would."""


class MaskedURL(URL):
    """A SQLAlchemy URL whose string form masks every secret of :data:`SECRET_PARAMETERS`.

    ``str()`` and ``repr()`` (and so ``repr(engine)``, an engine's logs and aana's messages)
    show the password and secret query parameters as ``***``;
    ``render_as_string(hide_password=False)`` shows them. Changed copies (``url.set(...)``)
    are masked too.
    """

    def render_as_string(self, hide_password: bool = True) -> str:
        """Render the URL, its secrets masked unless ``hide_password`` is False."""
        if not hide_password or not SECRET_PARAMETERS.intersection(self.query):
            return super().render_as_string(hide_password)
        shown = URL.render_as_string(self.difference_update_query(self.query))
        pairs = [
            f"{quote_plus(name)}={_MASK if name in SECRET_PARAMETERS else quote_plus(value)}"
            for name in sorted(self.query)
            for value in _values(self.query[name])
        ]
        return f"{shown}?{'&'.join(pairs)}"


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def masked_url(url: str | URL) -> MaskedURL:
    """Return ``url`` as a :class:`MaskedURL`.

    Args:
        url (str | URL): A URL, or its string.

    Returns:
        MaskedURL: The same URL, shown with its secrets masked.
    """
    parsed = make_url(url)
    return MaskedURL(*parsed)


def check_parameters(parameters: Mapping[str, str]) -> None:
    """Refuse a libpq parameter that libpq does not know, or that a setting of its own holds.

    Args:
        parameters (Mapping[str, str]): ``datastore_config.parameters``.

    Raises:
        ValueError: Naming the first parameter refused, and the setting to use instead.
    """
    from psycopg.pq import Conninfo  # the driver's list: loaded only to check parameters

    known = {option.keyword.decode() for option in Conninfo.get_defaults()}
    for name in parameters:
        if name in _OWN_FIELDS:
            raise ValueError(f"{name!r} is set by {_OWN_FIELDS[name]}, not in parameters")
        if name not in known:
            raise ValueError(f"{name!r} is not a PostgreSQL (libpq) connection parameter")


def fields_from_url(
    url: str | URL,
) -> tuple[Literal["sqlite", "postgresql"], dict[str, Any], dict[str, Any]]:
    """Read the settings a SQLAlchemy URL names, not yet validated.

    See :meth:`~aana.configs.DbSettings.from_url` for what each query parameter becomes.

    Args:
        url (str | URL): An ``sqlite:///path`` or ``postgresql://...`` URL.

    Returns:
        tuple[Literal["sqlite", "postgresql"], dict[str, Any], dict[str, Any]]: The
        datastore type (``sqlite`` or
        ``postgresql``), the fields of its ``datastore_config``, and the settings of
        ``DbSettings`` itself that the URL sets (``connect_timeout``).

    Raises:
        DatabaseConfigError: If the URL is neither SQLite nor PostgreSQL, or has a query
            parameter that cannot be used, naming it.
    """
    parsed = masked_url(url)  # shown in errors
    backend = parsed.get_backend_name()
    query = {name: _single(name, value) for name, value in parsed.query.items()}
    if backend == "sqlite":
        return "sqlite", _sqlite_fields(parsed, query), {}
    if backend == "postgresql":
        return "postgresql", *_postgresql_fields(parsed, query)
    raise DatabaseConfigError(f"{parsed!r} is neither an SQLite nor a PostgreSQL URL")


def invalid_url_settings(url: str | URL, error: ValueError) -> DatabaseConfigError:
    """Return the error to raise when the settings read from ``url`` are invalid.

    It names the URL (masked), the field and the problem, without the value given.

    Args:
        url (str | URL): The URL the settings were read from.
        error (ValueError): The validation error.

    Returns:
        DatabaseConfigError: The error.
    """
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        problem = f"datastore_config.{location}: {first['msg']}"
    else:
        problem = str(error)
    return DatabaseConfigError(f"{masked_url(url)!r}: {problem}")


def _sqlite_fields(parsed: URL, query: dict[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = {"path": parsed.database or SQLITE_MEMORY}
    for name, value in query.items():
        if name != "timeout":
            raise DatabaseConfigError(
                f"{parsed!r}: query parameter {name!r} is not supported for SQLite "
                "(only timeout, the busy timeout in seconds)"
            )
        config["busy_timeout"] = value
    return config


def _postgresql_fields(parsed: URL, query: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    fields: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
    }
    parameters = dict(query)
    own: dict[str, Any] = {}
    if TRANSACTION_POOLER_PARAMETER in parameters:
        own["transaction_pooler"] = parameters.pop(TRANSACTION_POOLER_PARAMETER)
    for name, field in _QUERY_FIELDS.items():
        if name not in parameters:
            continue
        value = parameters.pop(name)
        if fields[field] is not None and str(fields[field]) != value:
            raise DatabaseConfigError(
                f"{parsed!r}: query parameter {name!r} contradicts the URL's {field}"
            )
        fields[field] = value
    options: dict[str, Any] = {}
    if "connect_timeout" in parameters:
        options["connect_timeout"] = parameters.pop("connect_timeout")
    config = {
        name: value if value is not None else _POSTGRESQL_DEFAULTS.get(name, "")
        for name, value in fields.items()
    }
    return {**config, **own, "parameters": parameters}, options


def _single(name: str, value: str | tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value
    raise DatabaseConfigError(f"query parameter {name!r} is given {len(value)} times")
