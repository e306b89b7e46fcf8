"""Case 1: what isolating one test costs, setup and teardown included."""

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aana.storage.models import BaseEntity, CaptionEntity
from aana.storage.repository import CaptionRepository
from aana.testing.isolation import isolated_session
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, Target, library_against


def small_test(session: Session) -> None:
    """The test body every mechanism runs: one committed write and one read.

    The count also checks the mechanism: every test must start from an empty table.
    """
    CaptionRepository(session).save("bench-model", "a caption", timestamp=1.0, frame_id=1)
    assert session.scalar(select(func.count()).select_from(CaptionEntity)) == 1


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    engine = databases.migrated()
    empty = databases.empty()
    try:
        return _compare(databases, engine, empty, profile)
    finally:
        databases.drop(engine)
        databases.drop(empty)


def _compare(
    databases: BenchDatabases, engine: Engine, empty: Engine, profile: Profile
) -> list[Comparison]:
    def db_session() -> None:
        for _ in range(profile.tests):
            with isolated_session(engine) as session:
                small_test(session)

    def savepoint_recipe() -> None:
        # SQLAlchemy's "joining a Session into an external transaction" recipe, verbatim.
        for _ in range(profile.tests):
            connection = engine.connect()
            transaction = connection.begin()
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            small_test(session)
            session.close()
            transaction.rollback()
            connection.close()

    def fresh_database() -> None:
        for _ in range(profile.slow_tests):
            clone = databases.migrated()
            with Session(clone, expire_on_commit=False) as session:
                small_test(session)
            databases.drop(clone)

    def recreate_tables() -> None:
        for _ in range(profile.slow_tests):
            BaseEntity.metadata.create_all(empty)
            with Session(empty, expire_on_commit=False) as session:
                small_test(session)
            BaseEntity.metadata.drop_all(empty)

    clone = "template clone" if databases.backend == "postgresql" else "file copy"
    library = Contender("db_session", db_session, ops=profile.tests)
    recipe = Contender("bare savepoint recipe", savepoint_recipe, ops=profile.tests)
    slow = [
        Contender(f"fresh database per test ({clone})", fresh_database, ops=profile.slow_tests),
        Contender("drop_all/create_all per test", recreate_tables, ops=profile.slow_tests),
    ]
    # The close comparison gets many short rounds of its own; the slow mechanisms, whose
    # tests cost a hundred times more, get the usual rounds, interleaved with db_session too.
    close = library_against(
        CASE.name,
        databases.backend,
        "test",
        library,
        [(recipe, Target(1.3, note=ISOLATION_BOUND))],
        profile.warmup,
        profile.fine_repetitions,
    )
    fresh_target = Target(1 / 20) if databases.backend == "postgresql" else None
    return close + library_against(
        CASE.name,
        databases.backend,
        "test",
        library,
        [(slow[0], fresh_target), (slow[1], None)],
        profile.warmup,
        profile.repetitions,
    )


ISOLATION_BOUND = (
    "Nothing structural: `db_session` is the bare recipe plus the `get_session` override and "
    "one shared `sessionmaker`, none of which touches the database, so a miss here is within "
    "the noise that the spreads show."
)

CASE = Case(
    name="isolation",
    summary=(
        "one test with `db_session` (the fixture's own `aana.testing.isolation."
        "isolated_session`, on an engine built as in production): setup, a small test (one "
        "`CaptionRepository.save`, which commits, and one count) and teardown. Against "
        "SQLAlchemy's bare savepoint recipe on the same engine, a fresh database per test "
        "cloned from the migrated template (`CREATE DATABASE ... TEMPLATE` on PostgreSQL, "
        "an SQLite backup-API file copy), and `create_all`/`drop_all` around each test. "
        "Every test checks that it started from an empty table."
    ),
    run=run,
)
