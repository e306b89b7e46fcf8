"""Case 5: building the schema of an empty database, as ``aana migrate`` does."""

from sqlalchemy import Engine

from aana.storage.migrations import upgrade
from aana.storage.models import BaseEntity
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, Target, library_against


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    engines: list[Engine] = []

    def fresh_database() -> None:
        while engines:
            databases.drop(engines.pop())
        engines.append(databases.empty())

    def migrate() -> None:
        result = upgrade(engines[-1])
        assert result.changed

    def create_all() -> None:
        BaseEntity.metadata.create_all(engines[-1])

    library = Contender("aana migrate (upgrade to head)", migrate, fresh_database)
    baseline = Contender("metadata.create_all", create_all, fresh_database)
    try:
        return library_against(
            CASE.name,
            databases.backend,
            "database",
            library,
            [(baseline, Target(3))],
            profile.warmup,
            profile.repetitions,
        )
    finally:
        while engines:
            databases.drop(engines.pop())


CASE = Case(
    name="migrate",
    summary=(
        "`aana.storage.migrations.upgrade(engine)`, the body of `aana migrate`, from an empty "
        "database to head: Alembic reads its scripts, runs aana's revisions and records the "
        "version, in one transaction under the migration lock. Against "
        "`BaseEntity.metadata.create_all(engine)`. Each run gets a new empty database and a "
        "new production-configured engine, so both sides open their connection inside the "
        "timing; interpreter start-up and imports are the import case's business."
    ),
    run=run,
)
