"""Case: what ``transaction_pooler`` costs against the plain server, on PostgreSQL.

The setting turns psycopg's prepared statements off; behind no pooler that only loses the
planning a prepared statement saves. Both sides run on the same database, straight to the
server, through engines built as production builds them: one from the URL as is, one from the
URL with ``?transaction_pooler=true``.
"""

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aana.configs import DbSettings
from aana.storage.engine import create_database_engine
from aana.storage.repository import TaskRepository
from benchmarks.cases.claims import draining, repository_worker
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, Stats, measure

READS = 50
"""``TaskRepository.read`` calls per claim in ``Profile.claims``: a read is the cheaper call."""


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    if databases.backend != "postgresql":
        return []  # a PostgreSQL setting: SQLite has no pooler and psycopg no part there
    engine = databases.migrated()
    url = engine.url.render_as_string(hide_password=False)
    prepared = create_database_engine(DbSettings.from_url(url))
    unprepared = create_database_engine(DbSettings.from_url(f"{url}?transaction_pooler=true"))
    try:
        return _compare(databases, engine, prepared, unprepared, profile)
    finally:
        prepared.dispose()
        unprepared.dispose()
        databases.drop(engine)


def _compare(
    databases: BenchDatabases,
    engine: Engine,
    prepared: Engine,
    unprepared: Engine,
    profile: Profile,
) -> list[Comparison]:
    claims = profile.claims * 10
    reads = profile.claims * READS

    def claiming(name: str, on: Engine) -> Contender:
        return draining(name, lambda: repository_worker(on, 1), claims, databases, engine)

    def reading(name: str, on: Engine, task_id: Any) -> Contender:
        def read_many() -> None:
            with Session(on) as session:
                tasks = TaskRepository(session)
                for _ in range(reads):
                    tasks.read(task_id)

        return Contender(name, read_many, ops=reads)

    claim_pair = (
        claiming("fetch_unprocessed_tasks(limit=1), transaction_pooler", unprepared),
        claiming("the same, prepared statements (default)", prepared),
    )
    comparisons = [
        _comparison(
            *claim_pair, *measure(claim_pair, profile.warmup, profile.repetitions), "claims"
        )
    ]
    # After the claims, whose runs empty the table first: the task read stays.
    with Session(engine) as session:
        task_id = TaskRepository(session).save("/bench", {"read": True}).id
    read_pair = (
        reading("read(task_id), transaction_pooler", unprepared, task_id),
        reading("the same, prepared statements (default)", prepared, task_id),
    )
    comparisons.append(
        _comparison(*read_pair, *measure(read_pair, profile.warmup, profile.repetitions), "reads")
    )
    return comparisons


def _comparison(
    library: Contender,
    baseline: Contender,
    library_stats: Stats,
    baseline_stats: Stats,
    unit: str,
) -> Comparison:
    return Comparison(
        case=CASE.name,
        backend="postgresql",
        library=library.name,
        baseline=baseline.name,
        library_stats=library_stats,
        baseline_stats=baseline_stats,
        unit=unit,
        throughput=True,
    )


CASE = Case(
    name="pooler",
    summary=(
        "PostgreSQL only: what `datastore_config.transaction_pooler` costs when the library "
        "talks to the plain server. One worker drains a queue with "
        "`fetch_unprocessed_tasks(limit=1)`, and reads one task with `read(task_id)` over and "
        "over, through an engine with the setting (psycopg prepares nothing) against one "
        "without it (psycopg prepares a statement on its fifth run on a connection). Figures "
        "are calls per second; the ratio is the setting's throughput over the default's."
    ),
    run=run,
)
