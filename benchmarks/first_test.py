"""Time to the first test, with and without ``--aana-reuse-db``, side by side.

``python -m benchmarks.first_test [--rounds N] [--backend ...] [--write]`` runs, in
interleaved rounds, ``pytest -p aana.testing`` from process start to the start of the first
test, once without template reuse (every run migrates a template) and once with it (the kept
template is built by a warm-up run). Two projects: the example app (aana's lineage and the
app's) and a generated app lineage of 50 revisions, each creating a table. ``--write``
replaces this benchmark's section of ``benchmarks/RESULTS.md``.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine

from aana.storage.migrations import alembic_config
from aana.testing.backends import KEPT_PREFIX, postgres_url
from aana.testing.template_key import lineage_hash
from benchmarks.databases import BACKENDS, DEFAULT_POSTGRES_URL
from benchmarks.harness import Stats
from benchmarks.report import RESULTS, replace_section

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_APP = ROOT / "examples" / "video_app"
SECTION = "## Time to the first test: template reuse"

REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "bench_{n:04d}"
down_revision = {down}
branch_labels = {labels}
depends_on = None


def upgrade():
    op.create_table(
        "bench_{n:04d}",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )


def downgrade():
    op.drop_table("bench_{n:04d}")
"""

ENV = """
from aana.storage.migrations import run_env
from aana.storage.models import BaseEntity

run_env(BaseEntity.metadata)
"""

FIRST_TEST = "def test_first(db_session):\n    pass\n"


def write_long_lineage(folder: Path, revisions: int) -> Path:
    """Write a project whose app lineage has ``revisions`` revisions; return the project."""
    migrations = folder / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text(ENV)
    (migrations / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\npath_separator = os\n"
    )
    for n in range(1, revisions + 1):
        down = f'"bench_{n - 1:04d}"' if n > 1 else "None"
        labels = '("bench",)' if n == 1 else "None"
        (migrations / "versions" / f"bench_{n:04d}.py").write_text(
            REVISION.format(n=n, down=down, labels=labels)
        )
    (folder / "test_first.py").write_text(FIRST_TEST)
    (folder / "pytest.ini").write_text(
        f"[pytest]\naana_alembic_config = {migrations / 'alembic.ini'}\n"
    )
    return folder


def time_to_first_test(
    project: Path, args: Sequence[str], env: dict[str, str]
) -> tuple[float, float]:
    """Run pytest in ``project``; return the seconds to the first test.

    Returns:
        tuple[float, float]: From the process's start, and from the session's start.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".clock") as clock:
        started = time.time()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "aana.testing", "-p", "no:cacheprovider",
             "-p", "benchmarks.first_test_clock", "-x", "-q", *args],
            cwd=project,
            env={**env, "AANA_BENCH_CLOCK": clock.name},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pytest failed in {project}:\n{done.stdout}{done.stderr}")
        session_start, first_test = map(float, Path(clock.name).read_text().split())
        return first_test - started, first_test - session_start


@contextmanager
def kept_templates_dropped(backend: str, url: str, inis: Sequence[Path]) -> Iterator[None]:
    """Drop the PostgreSQL templates the reuse runs kept, afterwards."""
    try:
        yield
    finally:
        if backend == "postgresql":
            engine = create_engine(postgres_url(url), isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                for ini in inis:
                    name = f"{KEPT_PREFIX}{lineage_hash(alembic_config(ini))}"
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()


def measure(rounds: int, backends: Sequence[str], url: str, revisions: int) -> list[str]:
    """Measure every project on every backend; return the table's rows."""
    rows = []
    with tempfile.TemporaryDirectory() as work:
        long_lineage = write_long_lineage(Path(work) / "long", revisions)
        (Path(work) / "tmp").mkdir()
        env = {
            **os.environ,
            # The kept SQLite templates go to the system's temporary folder: a throwaway one.
            "TMPDIR": str(Path(work) / "tmp"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLE_APP)]),
        }
        projects = {
            "example app (aana + video_app lineages)": (
                EXAMPLE_APP,
                EXAMPLE_APP / "video_app" / "alembic.ini",
                ["tests/test_extended_video.py::test_the_spec_page_example"],
            ),
            f"app lineage of {revisions} revisions (+ aana's)": (
                long_lineage,
                long_lineage / "migrations" / "alembic.ini",
                [],
            ),
        }
        for backend in backends:
            backend_args = [f"--aana-db={backend}"]
            if backend == "postgresql":
                backend_args.append(f"--aana-postgres-url={url}")
            inis = [ini for _, ini, _ in projects.values()]
            with kept_templates_dropped(backend, url, inis):
                for label, (project, _, selection) in projects.items():
                    args = [*backend_args, *selection]
                    reuse = [*args, "--aana-reuse-db"]
                    time_to_first_test(project, [*reuse, "--aana-create-db"], env)
                    without, with_reuse = [], []
                    for _ in range(rounds):
                        without.append(time_to_first_test(project, args, env))
                        with_reuse.append(time_to_first_test(project, reuse, env))
                    cells = []
                    for part in (0, 1):
                        a = Stats(tuple(run[part] for run in without))
                        b = Stats(tuple(run[part] for run in with_reuse))
                        cells.append(
                            f"{a.median:.2f} s ±{a.spread / 2:.0%} | "
                            f"{b.median:.2f} s ±{b.spread / 2:.0%} | {b.median / a.median:.2f}x"
                        )
                    print(f"{backend} {label}: {' | '.join(cells)}", file=sys.stderr)
                    rows.append(f"| {label} | {backend} | {' | '.join(cells)} |")
    return rows


def section(rows: Sequence[str], rounds: int) -> str:
    """The RESULTS.md section."""
    return "\n".join(
        [
            SECTION,
            "",
            "Run with `python -m benchmarks.first_test --write`. The time until the first "
            "test (a `db_session` test) of `pytest -p aana.testing` starts, without template "
            "reuse (each run migrates its template) and with `--aana-reuse-db` (the template "
            f"an earlier run kept is cloned), in {rounds} interleaved rounds; medians ± half "
            "the interquartile range. Counted from the process's start, and from the "
            "session's start, which leaves out the interpreter, imports and plugin loading "
            "(the same on both sides, and most of the noise on a shared machine). The "
            "ratios are the result (with reuse over without: lower is better). Measured on "
            f"{datetime.date.today().isoformat()}; on a shared machine under load the "
            "interpreter's start alone takes seconds, which dilutes the from-process ratios.",
            "",
            "| Project | Backend | From process start: without reuse | with reuse | ratio "
            "| From session start: without reuse | with reuse | ratio |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_test")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--revisions", type=int, default=50)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("AANA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    text = section(measure(args.rounds, backends, args.postgres_url, args.revisions), args.rounds)
    print(text)
    if args.write:
        replace_section(RESULTS, SECTION, text)


if __name__ == "__main__":
    main()
