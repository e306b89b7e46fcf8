"""What a case is, and how contenders are timed side by side."""

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.databases import BenchDatabases


@dataclass(frozen=True)
class Profile:
    """How much work a run does.

    Attributes:
        quick (bool): A smoke run: tiny sizes, one measured round, figures meaningless.
        warmup (int): Rounds run and discarded before measuring.
        repetitions (int): Rounds measured.
        fine_repetitions (int): Rounds measured where a run takes milliseconds and a close
            ratio is judged (isolation against the bare recipe, imports): many short rounds
            let the median shrug off the bursts of a shared machine.
        rows (int): Rows per bulk save (captions, videos).
        tests (int): Tests per timed run, for isolation mechanisms that cost milliseconds.
        slow_tests (int): Tests per timed run, for those that build a database per test.
        claims (int): Claim calls per run: ``claims * limit`` tasks are queued.
        imports (int): Fresh interpreters per timed run of the import case.
    """

    quick: bool
    warmup: int
    repetitions: int
    fine_repetitions: int
    rows: int
    tests: int
    slow_tests: int
    claims: int
    imports: int


FULL = Profile(
    quick=False,
    warmup=1,
    repetitions=5,
    fine_repetitions=15,
    rows=10_000,
    tests=20,
    slow_tests=3,
    claims=100,
    imports=1,
)
QUICK = Profile(
    quick=True,
    warmup=0,
    repetitions=1,
    fine_repetitions=1,
    rows=50,
    tests=2,
    slow_tests=1,
    claims=5,
    imports=1,
)


@dataclass(frozen=True)
class Case:
    """One benchmark case.

    Attributes:
        name (str): Selects it on the command line.
        summary (str): What it measures, for RESULTS.md.
        run (Callable[[BenchDatabases | None, Profile], list[Comparison]]): Measures it on
            one backend's databases, or with None for a case that needs no database.
        needs_database (bool): Whether it runs once per backend.
    """

    name: str
    summary: str
    run: "Callable[[BenchDatabases | None, Profile], list[Comparison]]"
    needs_database: bool = True


@dataclass(frozen=True)
class Contender:
    """One side of a comparison: the library's code or a baseline's.

    Attributes:
        name (str): What the code is, as shown in the table.
        run (Callable[[], float | None]): The timed work. It returns None to be timed from
            outside, or the seconds it measured itself (e.g. inside a child process).
        setup (Callable[[], object] | None): Untimed preparation before every run, so that
            every run starts from the same state (an emptied table, a fresh database).
        ops (int): Operations one run performs; figures are per operation.
    """

    name: str
    run: Callable[[], float | None]
    setup: Callable[[], object] | None = None
    ops: int = 1


@dataclass(frozen=True)
class Stats:
    """Seconds per operation over the measured runs.

    Attributes:
        samples (tuple[float, ...]): Seconds per operation of each run.
    """

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median seconds per operation."""
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """The interquartile range relative to the median; 0 for fewer than two runs."""
        if len(self.samples) < 2:
            return 0.0
        low, _, high = statistics.quantiles(self.samples, n=4, method="inclusive")
        return (high - low) / self.median


def measure(contenders: Sequence[Contender], warmup: int, repetitions: int) -> list[Stats]:
    """Time contenders side by side, in interleaved rounds.

    Each round runs every contender once, starting with a different one each round, so that
    drift of a shared machine (other tenants, caches, autovacuum) falls on all of them
    alike instead of on whichever ran last.

    Args:
        contenders (Sequence[Contender]): The code to time.
        warmup (int): Rounds run first and discarded.
        repetitions (int): Rounds measured.

    Returns:
        list[Stats]: One per contender, in the order given.
    """
    samples: list[list[float]] = [[] for _ in contenders]
    for round_number in range(warmup + repetitions):
        shift = round_number % len(contenders)
        for index in [*range(shift, len(contenders)), *range(shift)]:
            contender = contenders[index]
            if contender.setup is not None:
                contender.setup()
            gc.collect()
            start = time.perf_counter()
            reported = contender.run()
            elapsed = time.perf_counter() - start if reported is None else reported
            if round_number >= warmup:
                samples[index].append(elapsed / contender.ops)
    return [Stats(tuple(values)) for values in samples]


@dataclass(frozen=True)
class Target:
    """The ratio a comparison should reach.

    Attributes:
        bound (float): The ratio's limit.
        at_least (bool): The ratio must be at least ``bound`` (throughput); otherwise at most.
        note (str): What bounds the ratio, printed in RESULTS.md when the target is missed.
    """

    bound: float
    at_least: bool = False
    note: str = ""

    def met(self, ratio: float) -> bool:
        """Tell whether ``ratio`` reaches the target."""
        return ratio >= self.bound if self.at_least else ratio <= self.bound

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.bound:g}x"


@dataclass(frozen=True)
class Comparison:
    """The library against one baseline, on one backend.

    Attributes:
        case (str): The case's name.
        backend (str): ``sqlite``, ``postgresql`` or ``python`` for backend-free cases.
        library (str): The library's contender.
        baseline (str): The baseline's contender.
        library_stats (Stats): The library's seconds per operation.
        baseline_stats (Stats): The baseline's seconds per operation.
        unit (str): What one operation is, e.g. ``test`` or ``claim``.
        throughput (bool): Figures are operations per second and the ratio is the library's
            throughput over the baseline's (higher is better); otherwise figures are times
            and the ratio is the library's time over the baseline's (lower is better).
        target (Target | None): The ratio to reach, if the issue sets one.
    """

    case: str
    backend: str
    library: str
    baseline: str
    library_stats: Stats
    baseline_stats: Stats
    unit: str
    throughput: bool = False
    target: Target | None = None

    @property
    def ratio(self) -> float:
        """Library ÷ baseline, of time or, for throughput, of operations per second."""
        if self.throughput:
            return self.baseline_stats.median / self.library_stats.median
        return self.library_stats.median / self.baseline_stats.median

    @property
    def met(self) -> bool | None:
        """Whether the target is reached; None without a target."""
        return None if self.target is None else self.target.met(self.ratio)

    def figure(self, stats: Stats) -> str:
        """Render one side's figure, with ± half its interquartile range."""
        spread = f" ±{stats.spread * 50:.0f}%" if len(stats.samples) > 1 else ""
        if self.throughput:
            return f"{1 / stats.median:,.0f} {self.unit}/s{spread}"
        return f"{_duration(stats.median)}/{self.unit}{spread}"


def library_against(
    case: str,
    backend: str,
    unit: str,
    library: Contender,
    baselines: Sequence[tuple[Contender, Target | None]],
    warmup: int,
    repetitions: int,
) -> list[Comparison]:
    """Measure the library against its baselines side by side: one comparison per baseline."""
    contenders = [library, *(baseline for baseline, _target in baselines)]
    library_stats, *baseline_stats = measure(contenders, warmup, repetitions)
    return [
        Comparison(
            case=case,
            backend=backend,
            library=library.name,
            baseline=baseline.name,
            library_stats=library_stats,
            baseline_stats=stats,
            unit=unit,
            target=target,
        )
        for (baseline, target), stats in zip(baselines, baseline_stats, strict=True)
    ]


def _duration(seconds: float) -> str:
    for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {suffix}"
    return f"{seconds / 1e-9:.3g} ns"
