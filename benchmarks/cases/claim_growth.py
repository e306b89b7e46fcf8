"""Case 8: what one claim costs as the table grows, before and after the claim's indexes.

A worker's claim (``fetch_unprocessed_tasks(limit=1)``) is timed on tables of growing size:
with N tasks queued, and with retries on and N failed tasks in the history. Side by side in
each round, on databases filled alike:

- the library's claim, on a database at head (``0002_task_claim``);
- the claim of aana before revision 0002, as plain SQL, on a database at ``0001_initial``:
  it selected among claimable statuses with no index serving the claim's order, and with
  retries on parsed every failed row's JSON for its error name;
- the Aana SDK 0.2.4's claim, as plain SQL written here, on the ``0001_initial`` database
  (whose tasks table has the indexes Aana's had): a ``SELECT`` of the whole rows,
  ``ORDER BY priority DESC, created_at LIMIT n FOR UPDATE SKIP LOCKED``, with retries on
  ``OR (status = 'failed' AND result->>'error' IN (...) AND num_retries < max)``, then one
  ``UPDATE`` per task (status, ``assigned_at``, ``num_retries + 1``, progress 0, result
  NULL), then ``COMMIT``;
- a raw SQL claim of the same shape as the library's, on the driver's connection, on the
  head database: the floor.

``python -m benchmarks.cases.claim_growth [--backend ...] [--write]`` runs this case alone and
``--write`` replaces its section of ``benchmarks/RESULTS.md`` and draws
``benchmarks/claim_growth.png``.
"""

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aana.storage.migrations import upgrade
from aana.storage.repository import TaskRepository
from aana.storage.types import utc_now
from benchmarks.databases import BACKENDS, DEFAULT_POSTGRES_URL, BenchDatabases, bench_databases
from benchmarks.harness import Case, Comparison, Contender, Profile, Stats, Target, measure
from benchmarks.report import RESULTS, replace_section

RETRYABLE = ["InferenceException", "TimeoutError"]
MAX_RETRIES = 3
QUEUED_WITH_FAILED = 1_000
"""Tasks queued beside the failed history, so that every claim with retries on takes one."""
CLAIMS_PER_RUN = 10
"""Claims per timed run; a figure is the median over runs of their mean."""


@dataclass(frozen=True)
class Sizes:
    """Table sizes of one profile.

    Attributes:
        queued (tuple[int, ...]): Tasks queued.
        failed (tuple[int, ...]): Failed tasks in the history, claimed with retries on.
        rounds (int): Measured rounds per size.
    """

    queued: tuple[int, ...]
    failed: tuple[int, ...]
    rounds: int


FULL_SIZES = Sizes(queued=(1_000, 100_000, 1_000_000), failed=(1_000, 300_000), rounds=15)
QUICK_SIZES = Sizes(queued=(100, 1_000), failed=(100, 1_000), rounds=1)

COLUMNS = (
    "id, endpoint, data, status, priority, assigned_at, completed_at, progress, result, "
    "num_retries, user_id, created_at, updated_at"
)

# --- filling ----------------------------------------------------------------------------

_POSTGRES_FILL = """
INSERT INTO tasks (id, endpoint, data, status, priority, progress, num_retries, result, user_id,
                   assigned_at, completed_at, created_at, updated_at)
SELECT gen_random_uuid(), '/bench', '{{"n": 1}}', '{status}', mod(g, 3), 0, {retries}, {result},
       'user-' || mod(g, 1000), {finished}, {finished},
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond', now()
FROM generate_series(%(start)s::integer, %(stop)s::integer) AS g
"""
_SQLITE_FILL = """
WITH RECURSIVE g(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM g WHERE n < :stop)
INSERT INTO tasks (id, endpoint, data, status, priority, progress, num_retries, result, user_id,
                   assigned_at, completed_at, created_at, updated_at)
SELECT lower(hex(randomblob(16))), '/bench', '{{"n": 1}}', '{status}', n % 3, 0.0, {retries},
       {result}, 'user-' || (n % 1000), {finished}, {finished},
       datetime('2026-01-01', '+' || (n / 1000) || ' seconds') || '.'
           || printf('%06d', (n % 1000) * 1000),
       '2026-01-01 00:00:00.000000'
FROM g
"""
# Nine failures in ten are not retryable; the tenth is retryable but out of retries.
_FAILED_RESULT = {
    "postgresql": 'CASE WHEN mod(g, 10) = 0 THEN \'{"error": "InferenceException"}\' '
    'ELSE \'{"error": "ValueError", "message": "bad input"}\' END::json',
    "sqlite": 'CASE WHEN n % 10 = 0 THEN \'{"error": "InferenceException"}\' '
    'ELSE \'{"error": "ValueError", "message": "bad input"}\' END',
}


def fill(engine: Engine, status: str, start: int, stop: int) -> None:
    """Insert tasks ``start`` to ``stop`` (inclusive) with ``status``, in one statement.

    Args:
        engine (Engine): The database.
        status (str): ``created`` or ``failed``; failed ones carry an error, most of them not
            retryable, the rest out of retries.
        start (int): The first task's number, which orders it.
        stop (int): The last task's number.
    """
    if stop < start:
        return
    dialect = engine.dialect.name
    failed = status == "failed"
    template = _POSTGRES_FILL if dialect == "postgresql" else _SQLITE_FILL
    sql = template.format(
        status=status,
        retries=MAX_RETRIES if failed else 0,
        result=_FAILED_RESULT[dialect] if failed else "NULL",
        finished=("now()" if dialect == "postgresql" else "'2026-01-02 00:00:00.000000'")
        if failed
        else "NULL",
    )
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(sql, {"start": start, "stop": stop})
        raw.commit()
    finally:
        raw.close()
    analyze(engine)


def analyze(engine: Engine) -> None:
    """Refresh the tasks table's statistics (and visibility map, on PostgreSQL)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE tasks" if _postgres(engine) else "ANALYZE")


def requeue(engine: Engine) -> None:
    """Put the tasks claimed by earlier runs back in the queue: every run sees the same table."""
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(
            "UPDATE tasks SET status = 'created', assigned_at = NULL, num_retries = 0 "
            "WHERE status = 'assigned'"
        )
        raw.commit()
    finally:
        raw.close()


def _postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# --- the contenders' claims ---------------------------------------------------------------

_UNREADABLE_JSON = (
    r"\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)
_OLD_ERROR_NAME = {
    "postgresql": f"CASE WHEN result::text ~* '{_UNREADABLE_JSON}' THEN NULL "
    "WHEN json_typeof(result -> 'error') = 'string' THEN result ->> 'error' END",
    "sqlite": "CASE WHEN NOT json_valid(result) THEN NULL "
    "WHEN json_type(result, '$.error') = 'text' THEN json_extract(result, '$.error') END",
}


def _names(dialect: str) -> str:
    marker = "%(name{})s" if dialect == "postgresql" else ":name{}"
    return ", ".join(marker.format(index) for index in range(len(RETRYABLE)))


def parameter(dialect: str, name: str) -> str:
    """Return the placeholder of parameter ``name`` in a raw statement of ``dialect``."""
    return f"%({name})s" if dialect == "postgresql" else f":{name}"


def before_claim_sql(dialect: str, retrying: bool) -> str:
    """aana's claim before revision 0002: claimable statuses as bound values, no order index.

    Args:
        dialect (str): ``postgresql`` or ``sqlite``.
        retrying (bool): Also retry failed tasks, finding them by parsing their JSON.

    Returns:
        str: The statement.
    """
    p = lambda name: parameter(dialect, name)  # noqa: E731
    claimable = f"status IN ({p('created')}, {p('not_finished')})"
    if retrying:
        claimable = (
            f"({claimable} OR (status = {p('failed')} AND num_retries < {p('max_retries')} "
            f"AND ({_OLD_ERROR_NAME[dialect]}) IN ({_names(dialect)})))"
        )
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    materialized = "MATERIALIZED " if dialect == "postgresql" else ""
    return (
        f"WITH candidates AS {materialized}(SELECT id FROM tasks WHERE {claimable} "
        f"ORDER BY priority DESC, created_at, id LIMIT 1{lock}) "
        f"UPDATE tasks SET status = 'assigned', assigned_at = {p('now')}, "
        f"num_retries = num_retries + 1, updated_at = {p('now')} "
        f"WHERE id IN (SELECT id FROM candidates) RETURNING {COLUMNS}"
    )


def raw_claim_sql(dialect: str, retrying: bool) -> str:
    """The library's claim written as plain SQL: each kind read in index order, then merged.

    Args:
        dialect (str): ``postgresql`` or ``sqlite``.
        retrying (bool): Also retry failed tasks, found by their error name's index.

    Returns:
        str: The statement.
    """
    p = lambda name: parameter(dialect, name)  # noqa: E731
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    materialized = "MATERIALIZED " if dialect == "postgresql" else ""
    order = "ORDER BY priority DESC, created_at, id LIMIT 1"
    queued = (
        f"queued AS {materialized}(SELECT id, priority, created_at FROM tasks "
        f"WHERE status IN ('created', 'not_finished') {order}{lock})"
    )
    if retrying:
        ctes = (
            f"{queued}, retry AS {materialized}(SELECT id, priority, created_at FROM tasks "
            f"WHERE status = 'failed' AND error_name IN ({_names(dialect)}) "
            f"AND num_retries < {p('max_retries')} {order}{lock})"
        )
        chosen = (
            "SELECT id FROM (SELECT * FROM queued UNION ALL SELECT * FROM retry) AS both_kinds "
            f"{order}"
        )
    else:
        ctes, chosen = queued, "SELECT id FROM queued"
    return (
        f"WITH {ctes} UPDATE tasks SET status = 'assigned', assigned_at = {p('now')}, "
        f"num_retries = num_retries + 1, attempt = attempt + 1, updated_at = {p('now')} "
        f"WHERE id IN ({chosen}) RETURNING {COLUMNS}"
    )


def aana_sdk_select_sql(dialect: str, retrying: bool) -> str:
    """The Aana SDK 0.2.4's claim, first step: select and lock the candidates, whole rows.

    Args:
        dialect (str): ``postgresql`` or ``sqlite``.
        retrying (bool): Also retry failed tasks, reading each failed row's error from its JSON.

    Returns:
        str: The statement.
    """
    p = lambda name: parameter(dialect, name)  # noqa: E731
    claimable = "status IN ('created', 'not_finished')"
    if retrying:
        error = (
            "result ->> 'error'" if dialect == "postgresql" else "json_extract(result, '$.error')"
        )
        claimable = (
            f"({claimable} OR (status = 'failed' AND {error} IN ({_names(dialect)}) "
            f"AND num_retries < {p('max_retries')}))"
        )
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return (
        f"SELECT {COLUMNS} FROM tasks WHERE {claimable} "
        f"ORDER BY priority DESC, created_at LIMIT 1{lock}"
    )


def _parameters(dialect: str, retrying: bool) -> dict[str, Any]:
    now: Any = utc_now()
    if dialect == "sqlite":
        now = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    values: dict[str, Any] = {
        "now": now,
        "created": "created",
        "not_finished": "not_finished",
        "failed": "failed",
    }
    if retrying:
        values["max_retries"] = MAX_RETRIES
        values.update({f"name{index}": name for index, name in enumerate(RETRYABLE)})
    return values


class Claimer:
    """One worker's claims on one database: a session or a driver connection, kept open.

    Attributes:
        engine (Engine): The database.
    """

    def __init__(self, engine: Engine) -> None:
        """Constructor.

        Args:
            engine (Engine): The database.
        """
        self.engine = engine
        self._session: Session | None = None
        self._raw: Any = None

    def library(self, retrying: bool) -> Callable[[], None]:
        """Return a claim through ``TaskRepository.fetch_unprocessed_tasks(limit=1)``."""
        if self._session is None:
            self._session = Session(self.engine, expire_on_commit=False)
        tasks = TaskRepository(self._session)
        retryable = RETRYABLE if retrying else None

        def claim() -> None:
            claimed = tasks.fetch_unprocessed_tasks(
                limit=1, max_retries=MAX_RETRIES, retryable_exceptions=retryable
            )
            assert len(claimed) == 1, "nothing to claim"
            self._session.expunge_all()  # type: ignore[union-attr]

        return claim

    def statement(self, sql: str, retrying: bool) -> Callable[[], None]:
        """Return a claim by one plain-SQL ``UPDATE ... RETURNING`` and a commit."""
        dialect = self.engine.dialect.name
        connection = self._driver()

        def claim() -> None:
            if dialect == "sqlite":
                connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute(sql, _parameters(dialect, retrying)).fetchall()
            connection.commit() if dialect == "postgresql" else connection.execute("COMMIT")
            assert len(rows) == 1, "nothing to claim"

        return claim

    def aana_sdk(self, retrying: bool) -> Callable[[], None]:
        """Return the Aana SDK 0.2.4's claim: select and lock, one update per task, commit."""
        dialect = self.engine.dialect.name
        connection = self._driver()
        select_sql = aana_sdk_select_sql(dialect, retrying)
        p = lambda name: parameter(dialect, name)  # noqa: E731
        update_sql = (
            f"UPDATE tasks SET status = 'assigned', assigned_at = {p('now')}, "
            f"num_retries = num_retries + 1, progress = 0, result = NULL, "
            f"updated_at = {p('now')} WHERE id = {p('id')}"
        )

        def claim() -> None:
            if dialect == "sqlite":
                connection.execute("BEGIN")
            parameters = _parameters(dialect, retrying)
            rows = connection.execute(select_sql, parameters).fetchall()
            for row in rows:
                connection.execute(update_sql, {"now": parameters["now"], "id": row[0]})
            connection.commit() if dialect == "postgresql" else connection.execute("COMMIT")
            assert len(rows) == 1, "nothing to claim"

        return claim

    def _driver(self) -> Any:
        if self._raw is None:
            self._raw = self.engine.raw_connection()
        return self._raw.driver_connection

    def close(self) -> None:
        """Close the session and the driver connection."""
        if self._session is not None:
            self._session.close()
        if self._raw is not None:
            self._raw.close()


# --- measuring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """The contenders' figures at one table size.

    Attributes:
        scenario (str): ``queued`` or ``failed`` (with retries on).
        size (int): Tasks queued, or failed tasks in the history.
        stats (dict[str, Stats]): Seconds per claim, by contender.
    """

    scenario: str
    size: int
    stats: dict[str, Stats]


LIBRARY = "fetch_unprocessed_tasks"
BEFORE = "aana before 0002 (SQL)"
AANA = "Aana SDK 0.2.4's claim (SQL)"
RAW = "raw SQL claim"
CONTENDERS = (LIBRARY, BEFORE, AANA, RAW)


def measure_growth(databases: BenchDatabases, sizes: Sizes) -> list[Point]:
    """Fill a head and a 0001 database step by step and time each contender's claim at each size.

    Args:
        databases (BenchDatabases): The backend's databases.
        sizes (Sizes): The sizes and the rounds.

    Returns:
        list[Point]: The figures, size by size, queued first, then failed.
    """
    points: list[Point] = []
    for scenario, steps in (("queued", sizes.queued), ("failed", sizes.failed)):
        after = databases.migrated()
        before = databases.empty()
        claimers: list[Claimer] = []
        try:
            upgrade(before, revision="0001_initial")
            if scenario == "failed":
                for engine in (after, before):
                    fill(engine, "created", 1, QUEUED_WITH_FAILED)
            filled = 0
            for size in steps:
                status = "created" if scenario == "queued" else "failed"
                offset = 0 if scenario == "queued" else QUEUED_WITH_FAILED
                for engine in (after, before):
                    fill(engine, status, offset + filled + 1, offset + size)
                filled = size
                retrying = scenario == "failed"
                claimers = [Claimer(after), Claimer(before), Claimer(before), Claimer(after)]
                dialect = after.dialect.name
                runs = {
                    LIBRARY: (claimers[0].library(retrying), after),
                    BEFORE: (
                        claimers[1].statement(before_claim_sql(dialect, retrying), retrying),
                        before,
                    ),
                    AANA: (claimers[2].aana_sdk(retrying), before),
                    RAW: (claimers[3].statement(raw_claim_sql(dialect, retrying), retrying), after),
                }
                contenders = [
                    Contender(name, _repeated(run), lambda engine=engine: requeue(engine))
                    for name, (run, engine) in runs.items()
                ]
                for contender in contenders:
                    contender.run()  # warm: caches, prepared plans, the pool
                stats = measure(contenders, 0, sizes.rounds)
                points.append(
                    Point(
                        scenario,
                        size,
                        {name: _per_claim(s) for name, s in zip(runs, stats, strict=True)},
                    )
                )
                for claimer in claimers:
                    claimer.close()
                claimers = []
        finally:
            for claimer in claimers:
                claimer.close()
            databases.drop(after)
            databases.drop(before)
    return points


def _repeated(claim: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        for _ in range(CLAIMS_PER_RUN):
            claim()

    return run


def _per_claim(stats: Stats) -> Stats:
    return Stats(tuple(sample / CLAIMS_PER_RUN for sample in stats.samples))


def comparisons(backend: str, points: Sequence[Point]) -> list[Comparison]:
    """The library against each contender at each size, and against itself at the smallest.

    Args:
        backend (str): The backend.
        points (Sequence[Point]): The figures.

    Returns:
        list[Comparison]: Per scenario: the library at the largest size over the library at
        the smallest (target ≤ 2x), then the library against each baseline at each size.
    """
    result: list[Comparison] = []
    for scenario in ("queued", "failed"):
        steps = [point for point in points if point.scenario == scenario]
        if not steps:
            continue
        smallest, largest = steps[0], steps[-1]
        result.append(
            Comparison(
                case=CASE.name,
                backend=backend,
                library=f"{LIBRARY}, {_label(scenario, largest.size)}",
                baseline=f"{LIBRARY}, {_label(scenario, smallest.size)}",
                library_stats=largest.stats[LIBRARY],
                baseline_stats=smallest.stats[LIBRARY],
                unit="claim",
                target=Target(2.0, note=GROWTH_NOTE),
            )
        )
        for point in steps:
            for baseline in (BEFORE, AANA, RAW):
                result.append(
                    Comparison(
                        case=CASE.name,
                        backend=backend,
                        library=f"{LIBRARY}, {_label(scenario, point.size)}",
                        baseline=f"{baseline}, same table",
                        library_stats=point.stats[LIBRARY],
                        baseline_stats=point.stats[baseline],
                        unit="claim",
                    )
                )
    return result


def _label(scenario: str, size: int) -> str:
    if scenario == "queued":
        return f"{size:,} queued"
    return f"{size:,} failed + {QUEUED_WITH_FAILED:,} queued, retries on"


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    sizes = QUICK_SIZES if profile.quick else FULL_SIZES
    return comparisons(databases.backend, measure_growth(databases, sizes))


GROWTH_NOTE = (
    "The claim reads the rows it takes through partial indexes; what grows with the table is "
    "the depth of those B-trees (one level per few hundred times more rows) and the share of "
    "them in the cache."
)

CASE = Case(
    name="claim_growth",
    summary=(
        "one worker claims one task (`fetch_unprocessed_tasks(limit=1)`, warm, "
        f"{CLAIMS_PER_RUN} claims a run) from tables of growing size: N tasks queued, and "
        f"N failed tasks (nine in ten not retryable, the rest out of retries) beside "
        f"{QUEUED_WITH_FAILED:,} queued with retries on. Tables are filled by one "
        "`INSERT ... SELECT` (`generate_series` on PostgreSQL, a recursive CTE on SQLite). "
        "The same claim is timed at each size against aana's claim before revision 0002 "
        "(plain SQL, on a database at `0001_initial`), the Aana SDK 0.2.4's claim (plain SQL "
        "written here: select and lock whole rows, one update per task) on that database, and "
        "a raw SQL claim of the library's shape on the head database; claimed tasks are put "
        "back between runs. The first row of each scenario is the library at its largest size "
        "over the library at its smallest: the growth target."
    ),
    run=run,
)


# --- the stand-alone run, and its section of RESULTS.md ----------------------------------

PLOT = RESULTS.parent / "claim_growth.png"
SECTION = "## Claim latency by table size"


def section(results: dict[str, list[Point]]) -> str:
    """The RESULTS.md section: a table of medians per size and contender, and the plot."""
    lines = [
        SECTION,
        "",
        "`python -m benchmarks.cases.claim_growth --write`: "
        + CASE.summary
        + f" Medians of {FULL_SIZES.rounds} rounds, per claim, ± half the interquartile range.",
        "",
        "| Backend | Table | " + " | ".join(CONTENDERS) + " | Library ÷ its smallest size |",
        "|---|---|" + "---:|" * (len(CONTENDERS) + 1),
    ]
    for backend, points in results.items():
        for scenario in ("queued", "failed"):
            steps = [point for point in points if point.scenario == scenario]
            for point in steps:
                growth = point.stats[LIBRARY].median / steps[0].stats[LIBRARY].median
                cells = [_figure(point.stats[name]) for name in CONTENDERS]
                lines.append(
                    f"| {backend} | {_label(scenario, point.size)} | "
                    + " | ".join(cells)
                    + f" | {growth:.2f}x |"
                )
    lines += ["", f"![Claim latency against table size]({PLOT.name})", ""]
    return "\n".join(lines)


def _figure(stats: Stats) -> str:
    milliseconds = stats.median * 1000
    spread = f" ±{stats.spread * 50:.0f}%" if len(stats.samples) > 1 else ""
    return f"{milliseconds:.3g} ms{spread}"


def plot(results: dict[str, list[Point]], path: Path) -> None:
    """Draw claim latency against table size, one panel per backend and scenario."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    panels = [(backend, scenario) for backend in results for scenario in ("queued", "failed")]
    figure, _axes = pyplot.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2))
    for axis, (backend, scenario) in zip(figure.axes, panels, strict=True):
        steps = [point for point in results[backend] if point.scenario == scenario]
        for name, marker in zip(CONTENDERS, "osD^", strict=True):
            axis.plot(
                [point.size for point in steps],
                [point.stats[name].median * 1000 for point in steps],
                marker=marker,
                label=name,
            )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("failed tasks (retries on)" if scenario == "failed" else "queued tasks")
        axis.set_ylabel("ms per claim")
        axis.set_title(f"{backend}: {scenario}")
        axis.grid(True, which="both", alpha=0.3)
    axes_list = list(figure.axes)
    axes_list[0].legend(fontsize=7)
    figure.suptitle("One claim (limit=1) against table size, measured side by side")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cases.claim_growth")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--write", action="store_true", help="update RESULTS.md and the plot")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    results: dict[str, list[Point]] = {}
    for backend in BACKENDS if args.backend == "all" else (args.backend,):
        with bench_databases(backend, args.postgres_url) as databases:
            results[backend] = measure_growth(databases, sizes)
        for point in results[backend]:
            figures = ", ".join(
                f"{name} {statistics.median(point.stats[name].samples) * 1000:.3g} ms"
                for name in CONTENDERS
            )
            print(f"{backend} {_label(point.scenario, point.size)}: {figures}", flush=True)
    text = section(results)
    print(text)
    if args.write:
        replace_section(RESULTS, SECTION, text)
        plot(results, PLOT)
        print(f"Wrote {RESULTS} and {PLOT}", file=sys.stderr)


if __name__ == "__main__":
    main()
