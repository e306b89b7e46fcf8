"""Adopting an Aana app's own tables: recording the app's lineage at the revision they match.

An Aana SDK app created its tables itself, with ``metadata.create_all`` or with Alembic
revisions of its own stacked on Aana SDK's; under aana, the app's tables belong to its own
lineage (docs/extending.md), whose first revision creates them. ``aana migrate APP --adopt``
brings such a database under both lineages, in the migration's one transaction:

1. aana's part: an Aana SDK 0.2.4 database is adopted as ``aana migrate`` always does it
   (:mod:`~aana.storage.migrations.adoption`). A database at revisions that neither lineage
   has is taken for one whose app stacked its own revisions on Aana SDK 0.2.4's: if Aana's
   tables are as 0.2.4 leaves them, those revisions are dropped from ``alembic_version`` and
   the database is adopted as Aana SDK 0.2.4's; otherwise it is refused, naming what differs.
2. aana's lineage is brought to its head.
3. The app's lineage is replayed on a scratch copy of the schema (an in-memory database on
   SQLite, a scratch schema dropped afterwards on PostgreSQL), revision by revision; the
   app's tables in the database are compared, column by column, with the tables each
   revision leaves. The lineage is recorded at the newest revision they match, and the
   caller's upgrade applies the app's later revisions. If they match none, nothing is
   recorded and what differs from the app's last revision (its models) is listed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, inspect, text
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import BLANK_SCHEMA

from aana.storage.migrations.aana_sdk_schema import AANA_SDK_HEAD
from aana.storage.migrations.adoption import AdoptionError, aana_sdk_differences
from aana.storage.migrations.config import AANA_BRANCH, aana_script_location
from aana.storage.migrations.diffs import compare_type, describe_diffs

SCRATCH_SCHEMA = "aana_adoption_scratch"
"""The PostgreSQL schema the app's lineage is replayed in; dropped before the run ends."""


def replace_stacked_revisions(connection: Connection, config: Config) -> list[str]:
    """Take revisions neither lineage has for an Aana app's own, stacked on Aana SDK 0.2.4's.

    Args:
        connection (Connection): The database, in the migration's transaction.
        config (Config): The configuration of aana's lineage and the app's.

    Returns:
        list[str]: What was done; empty if every recorded revision is known.

    Raises:
        AdoptionError: If Aana's tables are not as Aana SDK 0.2.4 leaves them.
    """
    known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
    recorded = MigrationContext.configure(connection).get_current_heads()
    unknown = sorted(revision for revision in recorded if revision not in known)
    if not unknown:
        return []
    differences = aana_sdk_differences(connection)
    if differences:
        raise AdoptionError(
            f"The database is at revision(s) {', '.join(unknown)}, which neither aana's "
            "migrations nor the app's have. --adopt takes them for the app's own revisions, "
            "stacked on Aana SDK 0.2.4's, but Aana's tables are not as Aana SDK 0.2.4 leaves "
            "them, so nothing is adopted. What differs:"
            + "".join(f"\n  {difference}" for difference in differences)
        )
    connection.execute(text("DELETE FROM alembic_version"))
    connection.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": AANA_SDK_HEAD}
    )
    return [
        f"The app's own revision(s) {', '.join(unknown)}, stacked on Aana SDK 0.2.4's, are "
        "replaced by its lineage under aana."
    ]


def record_app_lineage(connection: Connection, config: Config) -> list[str]:
    """Record the app's lineage at the newest revision its existing tables match.

    Args:
        connection (Connection): The database, in the migration's transaction, with aana's
            lineage recorded.
        config (Config): The configuration of aana's lineage and the app's.

    Returns:
        list[str]: What was found and recorded.

    Raises:
        AdoptionError: If the configuration has no app lineage, the app's lineage has
            several heads, or the app's tables match none of its revisions (the differences
            from its last revision are listed).
    """
    script = ScriptDirectory.from_config(config)
    lineage = _app_lineage(script)
    recorded = set(MigrationContext.configure(connection).get_current_heads())
    applied = {rev.revision for rev in script.iterate_revisions(tuple(recorded), "base") if rev} & {
        rev.revision for rev in lineage
    }
    if applied:
        return [f"The app's lineage is recorded already ({', '.join(sorted(applied))})."]
    command.upgrade(config, f"{AANA_BRANCH}@head")
    aana_tables, expected = _replay(connection, config, lineage)
    tables = set(inspect(connection).get_table_names()) - aana_tables
    tables -= {"alembic_version"}
    if not tables:
        return ["The database has none of the app's tables: its revisions are applied."]
    differences = {
        rev.revision: _differences(connection, expected[rev.revision], tables) for rev in lineage
    }
    matching = [rev for rev in lineage if not differences[rev.revision]]
    names = ", ".join(sorted(tables))
    if not matching:
        head = lineage[-1].revision
        raise AdoptionError(
            f"The app's tables ({names}) match no revision of its lineage, so nothing is "
            f"adopted. What differs from its last revision, {head} (the app's models):"
            + "".join(f"\n  {difference}" for difference in differences[head])
        )
    match = matching[-1]
    command.stamp(config, match.revision)
    later = [rev.revision for rev in lineage[lineage.index(match) + 1 :]]
    return [
        f"The app's tables ({names}) match its revision {match.revision}: recorded there"
        + (f"; its later revision(s) {', '.join(later)} are applied." if later else ".")
    ]


def _app_lineage(script: ScriptDirectory) -> list[Script]:
    """The app's revisions, oldest first; refused unless there are some, on one head."""
    aana_versions = (aana_script_location() / "versions").resolve()
    lineage = [
        rev for rev in script.walk_revisions() if Path(rev.path).resolve().parent != aana_versions
    ]
    if not lineage:
        raise AdoptionError(
            "--adopt records an app's lineage at the revision its tables match, and these "
            "migrations have no app revision: name the app, as in "
            "`aana migrate my_app.app:aana_app --adopt`, and write its first revision first "
            '(`aana revision my_app.app:aana_app --autogenerate -m "..."`, on a development '
            "database)."
        )
    heads = [rev.revision for rev in lineage if rev.is_head]
    if len(heads) > 1:
        raise AdoptionError(
            f"the app's lineage has several heads ({', '.join(heads)}); merge them first"
        )
    return list(reversed(lineage))


def _replay(
    connection: Connection, config: Config, lineage: list[Script]
) -> tuple[set[str], dict[str, MetaData]]:
    """Replay the lineages on a scratch schema.

    Returns:
        tuple[set[str], dict[str, MetaData]]: aana's tables, and the app's tables as each of
        its revisions leaves them.
    """
    expected = {}
    with _scratch(connection, config) as (scratch, scratch_config, schema):
        command.upgrade(scratch_config, f"{AANA_BRANCH}@head")
        aana_tables = set(inspect(scratch).get_table_names(schema=schema))
        for rev in lineage:
            command.upgrade(scratch_config, rev.revision)
            names = set(inspect(scratch).get_table_names(schema=schema)) - aana_tables
            reflected = MetaData()
            # The tables they reference come too, so that their keys resolve; the
            # comparison leaves them out.
            reflected.reflect(scratch, schema=schema, only=sorted(names - {"alembic_version"}))
            tables = MetaData()
            for table in reflected.tables.values():
                # The scratch schema's name is dropped, the keys' included: the database's
                # tables are in the default schema.
                table.to_metadata(
                    tables,
                    schema=None,  # type: ignore[arg-type]
                    # SQLAlchemy's symbol for "no schema", which its stubs type as a name.
                    referred_schema_fn=lambda *_: cast(str, BLANK_SCHEMA),
                )
            expected[rev.revision] = tables
    return aana_tables, expected


@contextmanager
def _scratch(
    connection: Connection, config: Config
) -> Iterator[tuple[Connection, Config, str | None]]:
    """A place with the database's backend to replay migrations on, gone afterwards."""
    if connection.dialect.name == "postgresql":
        # Fixed statements, the schema's name written out (it is SCRATCH_SCHEMA); the saved
        # search path goes back through a bound parameter.
        search_path = connection.exec_driver_sql("SHOW search_path").scalar()
        connection.exec_driver_sql("CREATE SCHEMA aana_adoption_scratch")
        connection.exec_driver_sql("SET LOCAL search_path TO aana_adoption_scratch")
        try:
            yield connection, config, SCRATCH_SCHEMA
        finally:
            connection.execute(
                text("SELECT set_config('search_path', :path, true)"), {"path": search_path}
            )
        connection.exec_driver_sql("DROP SCHEMA aana_adoption_scratch CASCADE")
        return
    engine = create_engine("sqlite://", poolclass=StaticPool)
    # The same options (the app's env.py, both version folders), on the scratch connection.
    scratch_config = Config()
    for key, value in config.get_section(config.config_ini_section, {}).items():
        scratch_config.set_main_option(key, value.replace("%", "%%"))
    try:
        with engine.connect() as scratch, scratch.begin():
            scratch_config.attributes["connection"] = scratch
            yield scratch, scratch_config, None
    finally:
        engine.dispose()


def _differences(connection: Connection, expected: MetaData, tables: set[str]) -> list[str]:
    """How the database's app tables differ from those a revision leaves, one line each."""
    names = tables | set(expected.tables)
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": compare_type,
            "include_name": lambda name, kind, _parent: kind != "table" or name in names,
        },
    )
    return list(describe_diffs(compare_metadata(context, expected)))
