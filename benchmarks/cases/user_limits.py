"""Case: the API service's claim, with per-user limits, as each user's backlog grows.

``fetch_unprocessed_tasks(api_service_enabled=True, maximum_active_tasks_per_user=25)``
claims only tasks of users with an active subscription (read from the API service's own
database through the session's ``ApiServiceBase`` bind) and of no user, at most 25 active
per user. It reads each user's active count and next tasks through partial indexes, so its
cost should follow the number of users and the limit, not how many tasks each user has
waiting. It is timed with 100 subscribed users holding 100 queued tasks each, and 10,000
each (a million rows), in a database per size, with limit 1 and 10, retries off and on. Side
by side in each round, on both databases:

- the library's per-user claim;
- the Aana SDK 0.2.4's per-user claim, as plain SQL written here: the subscribed users read
  from the API service's database, then a ``row_number()`` over every claimable task of
  those users (partitioned by user, in claim order) beside a count of each row's user's
  active tasks, kept where the two add up to at most the limit (or where there is no user),
  the first ``limit`` of those in claim order selected again by id ``FOR UPDATE SKIP
  LOCKED``, one ``UPDATE`` per task, ``COMMIT``;
- the library's plain claim (``api_service_enabled=False``), for reference.

The figure that matters is each claim's growth: its time at 10,000 queued tasks per user over
its time at 100, both measured in the same interleaved rounds.

``python -m benchmarks.cases.user_limits [--backend ...] [--quick] [--write]`` runs this case
alone; ``--write`` replaces its section of ``benchmarks/RESULTS.md``.
"""

import argparse
import datetime
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aana.storage.models import BaseEntity
from aana.storage.models.api_key import ApiKeyEntity, ApiServiceBase
from aana.storage.repository import TaskRepository
from aana.storage.types import utc_now
from benchmarks.cases.claim_growth import (
    COLUMNS,
    MAX_RETRIES,
    RETRYABLE,
    analyze,
    parameter,
    requeue,
)
from benchmarks.databases import BACKENDS, DEFAULT_POSTGRES_URL, BenchDatabases, bench_databases
from benchmarks.harness import Case, Comparison, Contender, Profile, Stats, Target, measure
from benchmarks.report import RESULTS, replace_section

CAP = 25
"""``maximum_active_tasks_per_user``: the Aana SDK's default."""
ACTIVE_CYCLE = 30
"""User n has ``n % 30`` tasks running: a sixth of the users are at or over the limit."""
FAILED_PER_USER = 10
"""Failed tasks per user in the history: nine in ten not retryable, the rest out of retries."""
LIMITS = (1, 10)


@dataclass(frozen=True)
class Sizes:
    """Table sizes of one profile.

    Attributes:
        users (int): Subscribed users.
        queued (tuple[int, int]): Queued tasks per user: the small table, then the large.
        no_user (int): Queued tasks without a user.
        rounds (int): Measured rounds per size and claim; one claim a run.
    """

    users: int
    queued: tuple[int, int]
    no_user: int
    rounds: int


FULL_SIZES = Sizes(users=100, queued=(100, 10_000), no_user=1_000, rounds=11)
QUICK_SIZES = Sizes(users=5, queued=(10, 100), no_user=20, rounds=1)

# --- filling ------------------------------------------------------------------------------

# One INSERT ... SELECT per kind of task; row g (from 1) belongs to user g % users, or to no
# one, and was created ``micros`` microseconds after ``base``.
_POSTGRES_FILL = """
INSERT INTO tasks (id, endpoint, data, status, priority, progress, num_retries, result, user_id,
                   assigned_at, completed_at, created_at, updated_at)
SELECT gen_random_uuid(), '/bench', '{{"n": 1}}', '{status}', mod(g, 3), 0, {retries}, {result},
       {user}, {assigned}, {finished},
       timestamptz '{base} 00:00:00+00' + ({micros}) * interval '1 microsecond', now()
FROM generate_series(1, %(rows)s::integer) AS g
WHERE {where}
"""
_SQLITE_FILL = """
WITH RECURSIVE series(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM series WHERE g < :rows)
INSERT INTO tasks (id, endpoint, data, status, priority, progress, num_retries, result, user_id,
                   assigned_at, completed_at, created_at, updated_at)
SELECT lower(hex(randomblob(16))), '/bench', '{{"n": 1}}', '{status}', g % 3, 0.0, {retries},
       {result}, {user}, {assigned}, {finished},
       datetime('{base}', '+' || (({micros}) / 1000000) || ' seconds') || '.'
           || printf('%06d', ({micros}) % 1000000),
       '2026-01-01 00:00:00.000000'
FROM series
WHERE {where}
"""
_FAILED_RESULT = {
    "postgresql": 'CASE WHEN mod(g, 10) = 0 THEN \'{"error": "InferenceException"}\' '
    'ELSE \'{"error": "ValueError", "message": "bad input"}\' END::json',
    "sqlite": 'CASE WHEN g % 10 = 0 THEN \'{"error": "InferenceException"}\' '
    'ELSE \'{"error": "ValueError", "message": "bad input"}\' END',
}
_NOW = {"postgresql": "now()", "sqlite": "'2026-01-02 00:00:00.000000'"}


def _fill(
    engine: Engine,
    status: str,
    rows: int,
    users: int | None,
    micros: str = "g * 1000",
    base: str = "2026-01-01",
    where: str = "true",
) -> None:
    """Insert rows 1 to ``rows`` (numbered ``g``) with ``status``, in one statement.

    Args:
        engine (Engine): The database.
        status (str): ``created``, ``running`` (assigned now) or ``failed`` (finished now,
            mostly not retryable, the rest out of retries).
        rows (int): How many rows, before ``where`` keeps some of them.
        users (int | None): Row ``g`` belongs to ``user-{g % users}``; None: to no user.
        micros (str): The row's creation time after ``base``, in microseconds, from ``g``.
        base (str): The day the creation times count from.
        where (str): Which of the rows to insert, from ``g``.
    """
    dialect = engine.dialect.name
    postgres = dialect == "postgresql"
    failed = status == "failed"
    # psycopg reads a lone % as a placeholder: the modulo operator is written %% there.
    expression = (lambda sql: sql.replace("%", "%%")) if postgres else (lambda sql: sql)
    sql = (_POSTGRES_FILL if postgres else _SQLITE_FILL).format(
        status=status,
        retries=MAX_RETRIES if failed else 0,
        result=_FAILED_RESULT[dialect] if failed else "NULL",
        user="NULL" if users is None else expression(f"'user-' || (g % {users})"),
        assigned=_NOW[dialect] if status == "running" else "NULL",
        finished=_NOW[dialect] if failed else "NULL",
        base=base,
        micros=expression(micros),
        where=expression(where),
    )
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(sql, {"rows": rows})
        raw.commit()
    finally:
        raw.close()


def subscribe(api_engine: Engine, users: int) -> None:
    """Give users ``user-0`` to ``user-{users - 1}`` an API key with an active subscription."""
    expires = utc_now() + datetime.timedelta(days=30)
    with Session(api_engine) as session:
        session.add_all(
            ApiKeyEntity(
                user_id=f"user-{n}",
                key_id=f"key-{n}",
                api_key=f"bench-key-{n}",
                subscription_id=f"subscription-{n}",
                is_subscription_active=True,
                expired_at=expires,
            )
            for n in range(users)
        )
        session.commit()


def fill_history(engine: Engine, sizes: Sizes) -> None:
    """Add the tasks that do not grow: active, failed, and queued without a user.

    User n has ``n % 30`` tasks running; every user has ``FAILED_PER_USER`` failed ones;
    ``sizes.no_user`` tasks without a user are queued, their creation times spread among
    those of the users' first ``sizes.queued[0]`` tasks (and never equal to one, so that
    claim order is total).
    """
    users = sizes.users
    _fill(
        engine,
        "running",
        users * ACTIVE_CYCLE,
        users,
        base="2025-12-31",
        where=f"g / {users} < (g % {users}) % {ACTIVE_CYCLE}",
    )
    _fill(engine, "failed", users * FAILED_PER_USER, users, base="2025-12-30")
    spacing = users * sizes.queued[0] // sizes.no_user
    _fill(engine, "created", sizes.no_user, None, micros=f"g * {spacing * 1000} + 500")


def fill_queued(engine: Engine, users: int, queued: int) -> None:
    """Queue ``queued`` tasks per user, in one statement, then refresh the statistics.

    Task g (from 1) is user ``g % users``'s, of priority ``g % 3``, created g milliseconds
    into 2026: the users' tasks interleave in claim order.
    """
    _fill(engine, "created", users * queued, users)
    analyze(engine)


# --- the Aana SDK 0.2.4's claim, as plain SQL -----------------------------------------------


def aana_sdk_select_sql(dialect: str, retrying: bool) -> str:
    """The Aana SDK 0.2.4's per-user claim, first step: choose the tasks and lock them.

    Every claimable task of a subscribed user (or of no user) is numbered within its user's
    tasks in claim order, beside the count of that user's active tasks; those whose number
    plus the count stays within ``cap``, and those without a user, are taken in claim order
    up to ``limit``, then read again by id and locked.

    Args:
        dialect (str): ``postgresql`` (users as an array) or ``sqlite`` (a JSON array).
        retrying (bool): Also claim failed tasks whose error, read from their JSON result, is
            retryable.

    Returns:
        str: The statement; parameters ``users``, ``cap``, ``limit`` and, retrying,
        ``max_retries`` and ``name0``, ``name1``, ...
    """
    p = lambda name: parameter(dialect, name)  # noqa: E731
    claimable = "status IN ('created', 'not_finished')"
    if retrying:
        error = (
            "result ->> 'error'" if dialect == "postgresql" else "json_extract(result, '$.error')"
        )
        names = ", ".join(p(f"name{index}") for index in range(len(RETRYABLE)))
        claimable = (
            f"({claimable} OR (status = 'failed' AND {error} IN ({names}) "
            f"AND num_retries < {p('max_retries')}))"
        )
    subscribed = (
        f"user_id = ANY({p('users')})"
        if dialect == "postgresql"
        else f"user_id IN (SELECT value FROM json_each({p('users')}))"
    )
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return f"""
SELECT {COLUMNS} FROM tasks WHERE id IN (
    SELECT id FROM (
        SELECT id, user_id, priority, created_at,
               row_number() OVER (PARTITION BY user_id ORDER BY priority DESC, created_at)
                   AS row_num,
               (SELECT count(*) FROM tasks AS active
                WHERE active.user_id = candidate.user_id
                  AND active.status IN ('assigned', 'running')) AS active_count
        FROM tasks AS candidate
        WHERE {claimable} AND ({subscribed} OR user_id IS NULL)
    ) AS numbered
    WHERE user_id IS NULL OR active_count + row_num <= {p("cap")}
    ORDER BY priority DESC, created_at
    LIMIT {p("limit")}
){lock}"""


def _now(dialect: str) -> Any:
    now = utc_now()
    if dialect == "sqlite":  # naive UTC, in the format SQLAlchemy stores SQLite datetimes in
        return now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return now


class Claimer:
    """One worker's claims: a bound session, or driver connections to both databases.

    Attributes:
        engine (Engine): The app's database, which holds the tasks.
        api_engine (Engine): The API service's database, which holds the API keys.
    """

    def __init__(self, engine: Engine, api_engine: Engine) -> None:
        """Open nothing yet: each kind of claim opens what it uses, once.

        Args:
            engine (Engine): The app's database.
            api_engine (Engine): The API service's database.
        """
        self.engine = engine
        self.api_engine = api_engine
        self._session: Session | None = None
        self._raw: list[Any] = []

    def library(
        self, limit: int, retrying: bool, api_service: bool = True
    ) -> Callable[[], list[Any]]:
        """Return a claim through ``TaskRepository.fetch_unprocessed_tasks``.

        Args:
            limit (int): Tasks per claim.
            retrying (bool): Retries on.
            api_service (bool): With the API service's subscriptions and per-user limit.
        """
        if self._session is None:
            # As get_session() binds them when the API service is enabled: the app's engine
            # is also the default bind, which the repository's transactions begin on.
            binds = {ApiServiceBase: self.api_engine, BaseEntity: self.engine}
            self._session = Session(self.engine, binds=binds, expire_on_commit=False)
        session = self._session
        tasks = TaskRepository(session)
        retryable = RETRYABLE if retrying else None

        def claim() -> list[Any]:
            claimed = tasks.fetch_unprocessed_tasks(
                limit=limit,
                max_retries=MAX_RETRIES,
                retryable_exceptions=retryable,
                api_service_enabled=api_service,
                maximum_active_tasks_per_user=CAP,
            )
            session.expunge_all()
            return [task.id for task in claimed]

        return claim

    def aana_sdk(self, limit: int, retrying: bool) -> Callable[[], list[Any]]:
        """Return the Aana SDK 0.2.4's per-user claim, in plain SQL on driver connections."""
        dialect = self.engine.dialect.name
        api, tasks = self._driver(self.api_engine), self._driver(self.engine)
        p = lambda name: parameter(dialect, name)  # noqa: E731
        select_sql = aana_sdk_select_sql(dialect, retrying)
        update_sql = (
            f"UPDATE tasks SET status = 'assigned', assigned_at = {p('now')}, "
            f"num_retries = num_retries + 1, progress = 0, result = NULL, "
            f"updated_at = {p('now')} WHERE id = {p('id')}"
        )
        subscribed_sql = "SELECT DISTINCT user_id FROM api_keys WHERE is_subscription_active"
        postgres = dialect == "postgresql"

        def claim() -> list[Any]:
            users = [row[0] for row in api.execute(subscribed_sql).fetchall()]
            if postgres:
                api.commit()
            else:
                tasks.execute("BEGIN")
            parameters: dict[str, Any] = {
                "users": users if postgres else json.dumps(users),
                "cap": CAP,
                "limit": limit,
            }
            if retrying:
                parameters["max_retries"] = MAX_RETRIES
                parameters.update({f"name{n}": name for n, name in enumerate(RETRYABLE)})
            rows = tasks.execute(select_sql, parameters).fetchall()
            now = _now(dialect)
            for row in rows:
                tasks.execute(update_sql, {"now": now, "id": row[0]})
            tasks.commit() if postgres else tasks.execute("COMMIT")
            return [row[0] for row in rows]

        return claim

    def _driver(self, engine: Engine) -> Any:
        raw = engine.raw_connection()
        self._raw.append(raw)
        return raw.driver_connection

    def close(self) -> None:
        """Close the session and the driver connections."""
        if self._session is not None:
            self._session.close()
        for raw in self._raw:
            raw.close()


# --- measuring ----------------------------------------------------------------------------

LIBRARY = "fetch_unprocessed_tasks(api_service_enabled)"
AANA = "Aana SDK 0.2.4's window-function claim (SQL)"
PLAIN = "fetch_unprocessed_tasks, no API service (ref.)"
CONTENDERS = (LIBRARY, AANA, PLAIN)


@dataclass(frozen=True)
class Point:
    """The contenders' figures for one claim at one table size.

    Attributes:
        queued (int): Queued tasks per user.
        limit (int): Tasks per claim.
        retrying (bool): Retries on.
        stats (dict[str, Stats]): Seconds per claim, by contender.
    """

    queued: int
    limit: int
    retrying: bool
    stats: dict[str, Stats]


def measure_growth(databases: BenchDatabases, sizes: Sizes) -> list[Point]:
    """Fill a database per size and time every contender on both, side by side.

    Each claim (limit, retries) is timed on the small and the large table in the same
    interleaved rounds, so that the machine's drift falls on both sizes alike and the growth
    ratios compare figures of one run. Every run claims once, from the same table: the tasks
    earlier runs claimed are put back before it (untimed). Before measuring, each claim runs
    once to warm caches and plans, and the library's per-user claim and the Aana SDK's must
    take the same tasks.

    Args:
        databases (BenchDatabases): The backend's databases.
        sizes (Sizes): The sizes and the rounds.

    Returns:
        list[Point]: The figures, by limit, then retries off and on, then size.
    """
    engines = [databases.migrated() for _ in sizes.queued]
    api_engine = databases.empty()
    claimers: list[Claimer] = []
    points: list[Point] = []
    try:
        ApiServiceBase.metadata.create_all(api_engine)
        subscribe(api_engine, sizes.users)
        for engine, queued in zip(engines, sizes.queued, strict=True):
            fill_history(engine, sizes)
            fill_queued(engine, sizes.users, queued)
        for limit in LIMITS:
            for retrying in (False, True):
                contenders: list[Contender] = []
                for engine in engines:
                    claims = {
                        LIBRARY: _claimer(claimers, engine, api_engine).library(limit, retrying),
                        AANA: _claimer(claimers, engine, api_engine).aana_sdk(limit, retrying),
                        PLAIN: _claimer(claimers, engine, api_engine).library(
                            limit, retrying, api_service=False
                        ),
                    }
                    _check(engine, claims, limit)
                    contenders += [
                        Contender(name, _untimed_result(claim), _requeuer(engine))
                        for name, claim in claims.items()
                    ]
                stats = iter(measure(contenders, 0, sizes.rounds))
                for queued in sizes.queued:
                    figures = {name: next(stats) for name in CONTENDERS}
                    points.append(Point(queued, limit, retrying, figures))
                while claimers:
                    claimers.pop().close()
    finally:
        for claimer in claimers:
            claimer.close()
        for engine in [*engines, api_engine]:
            databases.drop(engine)
    return points


def _claimer(claimers: list[Claimer], engine: Engine, api_engine: Engine) -> Claimer:
    claimer = Claimer(engine, api_engine)
    claimers.append(claimer)
    return claimer


def _check(engine: Engine, claims: dict[str, Callable[[], list[Any]]], limit: int) -> None:
    """Run each claim once (a warm-up) and check what the claims took."""
    taken: dict[str, set[uuid.UUID]] = {}
    for name, claim in claims.items():
        requeue(engine)
        taken[name] = {uuid.UUID(str(task_id)) for task_id in claim()}
        assert len(taken[name]) == limit, f"{name} claimed {len(taken[name])} tasks, not {limit}"
    assert taken[LIBRARY] == taken[AANA], "the two per-user claims took different tasks"


def _requeuer(engine: Engine) -> Callable[[], None]:
    return lambda: requeue(engine)


def _untimed_result(claim: Callable[[], list[Any]]) -> Callable[[], None]:
    def run() -> None:
        claim()

    return run


def _pair(points: Sequence[Point], sizes: Sizes, limit: int, retrying: bool) -> list[Point]:
    """Return one claim's figures on the small table and on the large one."""
    return [
        next(p for p in points if (p.queued, p.limit, p.retrying) == (queued, limit, retrying))
        for queued in sizes.queued
    ]


def _claim_label(limit: int, retrying: bool) -> str:
    return f"limit={limit}, retries {'on' if retrying else 'off'}"


def _size_label(users: int, queued: int) -> str:
    return f"{users} users x {queued:,} queued"


def comparisons(backend: str, sizes: Sizes, points: Sequence[Point]) -> list[Comparison]:
    """Each contender's growth, and the library against the others on the large table.

    Args:
        backend (str): The backend.
        sizes (Sizes): The sizes measured.
        points (Sequence[Point]): The figures.

    Returns:
        list[Comparison]: Per claim: the library's growth (large table over small, target
        ≤ 2x), the Aana SDK claim's and the plain claim's growth, then the library against
        each of them on the large table.
    """
    small, large = (_size_label(sizes.users, queued) for queued in sizes.queued)
    result: list[Comparison] = []
    for limit in LIMITS:
        for retrying in (False, True):
            claim = _claim_label(limit, retrying)
            before, after = _pair(points, sizes, limit, retrying)
            for name in CONTENDERS:
                result.append(
                    Comparison(
                        case=CASE.name,
                        backend=backend,
                        library=f"{name}, {claim}, {large}",
                        baseline=f"{name}, {claim}, {small}",
                        library_stats=after.stats[name],
                        baseline_stats=before.stats[name],
                        unit="claim",
                        target=Target(2.0, note=GROWTH_NOTE) if name == LIBRARY else None,
                    )
                )
            for name in (AANA, PLAIN):
                result.append(
                    Comparison(
                        case=CASE.name,
                        backend=backend,
                        library=f"{LIBRARY}, {claim}, {large}",
                        baseline=f"{name}, same table",
                        library_stats=after.stats[LIBRARY],
                        baseline_stats=after.stats[name],
                        unit="claim",
                    )
                )
    return result


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    sizes = QUICK_SIZES if profile.quick else FULL_SIZES
    return comparisons(databases.backend, sizes, measure_growth(databases, sizes))


GROWTH_NOTE = (
    "Per user the claim reads the active count and the next tasks through the partial "
    "indexes ix_tasks_user_active and ix_tasks_user_claimable; what grows with the backlog "
    "is the depth of those B-trees and the share of them in the cache."
)

CASE = Case(
    name="user_limits",
    summary=(
        "the API service's claim, `fetch_unprocessed_tasks(api_service_enabled=True, "
        f"maximum_active_tasks_per_user={CAP})` (limit 1 and 10, retries off and on, one "
        f"claim a run, warm), with {FULL_SIZES.users} subscribed users (their API keys in a "
        "database of their own, bound to `ApiServiceBase`) holding "
        f"{FULL_SIZES.queued[0]:,} queued tasks each, and {FULL_SIZES.queued[1]:,} each, in a "
        f"database per size. User n has n mod {ACTIVE_CYCLE} tasks running (a sixth of the "
        f"users at or over the limit) and {FAILED_PER_USER} failed (nine in ten not "
        f"retryable, the rest out of retries); {FULL_SIZES.no_user:,} tasks without a user "
        "are queued among the users' first ones. Tables are filled by `INSERT ... SELECT` "
        "(`generate_series` on PostgreSQL, a recursive CTE on SQLite). Side by side in the "
        "same rounds, on both databases: the Aana SDK 0.2.4's per-user claim as plain SQL "
        "written here (`row_number()` over every claimable task of the subscribed users, "
        "partitioned by user, beside a correlated count of the user's active tasks; the "
        "first `limit` within the limit selected again by id `FOR UPDATE SKIP LOCKED`, one "
        "`UPDATE` per task, `COMMIT`), and the library's plain claim for reference. Claimed "
        "tasks are put back before every run. The growth rows are each claim's time on the "
        "large table over its time on the small one; the library's target is ≤ 2x."
    ),
    run=run,
)


# --- the stand-alone run, and its section of RESULTS.md ----------------------------------

SECTION = "## Per-user claim limits by backlog per user"


def section(results: dict[str, tuple[str, list[Point]]], sizes: Sizes) -> str:
    """The RESULTS.md section: per backend and claim, each contender's medians and growth."""
    small, large = (f"{queued:,}/user" for queued in sizes.queued)
    header = ["Backend", "Claim"]
    for name in CONTENDERS:
        header += [f"{name}: {small}", large, "growth"]
    versions = ", ".join(f"{backend} {version}" for backend, (version, _) in results.items())
    lines = [
        SECTION,
        "",
        "`python -m benchmarks.cases.user_limits --write`: "
        + CASE.summary
        + f" Medians of {sizes.rounds} rounds, per claim, ± half the interquartile range; "
        f"measured on {datetime.date.today().isoformat()} ({versions}).",
        "",
        "| " + " | ".join(header) + " |",
        "|---|---|" + "---:|" * (len(header) - 2),
    ]
    for backend, (_, points) in results.items():
        for limit in LIMITS:
            for retrying in (False, True):
                before, after = _pair(points, sizes, limit, retrying)
                cells = [backend, _claim_label(limit, retrying)]
                for name in CONTENDERS:
                    growth = after.stats[name].median / before.stats[name].median
                    cells += [_figure(before.stats[name]), _figure(after.stats[name])]
                    cells.append(f"**{growth:.2f}x**" if name == LIBRARY else f"{growth:.2f}x")
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, ""])


def _figure(stats: Stats) -> str:
    spread = f" ±{stats.spread * 50:.0f}%" if len(stats.samples) > 1 else ""
    milliseconds = stats.median * 1000
    figure = f"{milliseconds:,.0f}" if milliseconds >= 1000 else f"{milliseconds:.3g}"
    return f"{figure} ms{spread}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cases.user_limits")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.write and args.quick:
        parser.error("--write records the full profile's figures: drop --quick")
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    results: dict[str, tuple[str, list[Point]]] = {}
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        with bench_databases(backend, args.postgres_url) as databases:
            results[backend] = (databases.version, measure_growth(databases, sizes))
        for point in results[backend][1]:
            figures = ", ".join(
                f"{name} {point.stats[name].median * 1000:.3g} ms" for name in CONTENDERS
            )
            label = _size_label(sizes.users, point.queued)
            claim = _claim_label(point.limit, point.retrying)
            print(f"{backend} {label}, {claim}: {figures}", file=sys.stderr, flush=True)
    text = section(results, sizes)
    print(text)
    if args.write:
        replace_section(RESULTS, SECTION, text)
        print(f"Wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
