"""Run the benchmarks: ``python -m benchmarks.run [--quick] [--backend ...] [--case ...]``.

Prints the results table on stdout, progress on stderr. A complete full run (every case,
every backend) also writes ``benchmarks/RESULTS.md`` and ``benchmarks/ratios.png``; ``--out``
writes them elsewhere, for any run. ``--quick`` is a smoke run for CI: tiny sizes, one round,
figures that mean nothing, and no assertion about speed.
"""

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

from benchmarks.cases import CASES
from benchmarks.databases import BACKENDS, DEFAULT_POSTGRES_URL, BenchDatabases, bench_databases
from benchmarks.harness import FULL, QUICK, Case, Comparison, Profile
from benchmarks.report import machine_description, text_table, write_results

HERE = Path(__file__).resolve().parent


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="aana against plain SQLAlchemy or driver code, as ratios of one run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: tiny sizes, one round (CI)"
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all", help="default: all")
    parser.add_argument(
        "--case",
        action="append",
        choices=[case.name for case in CASES],
        help="run only this case; repeat for several (default: all)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("AANA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create aana_bench_* databases on "
        "(env AANA_BENCH_POSTGRES_URL; default %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="write RESULTS.md and ratios.png into this folder")
    parser.add_argument("--machine", default=platform.node(), help="machine label for RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    profile: Profile = QUICK if args.quick else FULL
    cases = [case for case in CASES if args.case is None or case.name in args.case]
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    comparisons: list[Comparison] = []
    versions: dict[str, str] = {}
    for backend in backends:
        database_cases = [case for case in cases if case.needs_database]
        if not database_cases:
            continue
        with bench_databases(backend, args.postgres_url) as databases:
            versions[{"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]] = databases.version
            if backend == "postgresql":
                versions["psycopg"] = version("psycopg")
            for case in database_cases:
                comparisons += _run(case, backend, databases, profile)
    for case in cases:
        if not case.needs_database:
            comparisons += _run(case, "python", None, profile)
    order = {case.name: index for index, case in enumerate(cases)}
    comparisons.sort(key=lambda comparison: order[comparison.case])
    if profile.quick:
        print("Quick mode: a smoke run; the figures are not measurements, no target is judged.")
        comparisons = [replace(comparison, target=None) for comparison in comparisons]
    print(text_table(comparisons))
    complete = not profile.quick and len(cases) == len(CASES) and len(backends) == len(BACKENDS)
    out = args.out or (HERE if complete else None)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        rounds = (
            f"{profile.repetitions} rounds ({profile.fine_repetitions} for db_session against "
            f"the bare recipe and for imports) after {profile.warmup} warm-up round"
        )
        write_results(out, comparisons, cases, machine_description(args.machine), versions, rounds)
        print(f"Wrote {out / 'RESULTS.md'} and {out / 'ratios.png'}")
    return 0


def _run(
    case: Case, backend: str, databases: BenchDatabases | None, profile: Profile
) -> list[Comparison]:
    print(f"[{backend}] {case.name} ...", end="", file=sys.stderr, flush=True)
    start = time.perf_counter()
    comparisons = case.run(databases, profile)
    print(f" {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return comparisons


if __name__ == "__main__":
    sys.exit(main())
