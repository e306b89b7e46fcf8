"""Reporting: the table on stdout, ``RESULTS.md`` and the chart of the ratios."""

import datetime
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy

from benchmarks.harness import Case, Comparison

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

COLUMNS = ("Case", "Backend", "Library", "Baseline", "Library figure", "Baseline figure")
RATIO_COLUMNS = ("Ratio", "Target", "Met")


def rows(comparisons: Sequence[Comparison]) -> list[tuple[str, ...]]:
    """Return the cells of the results table, one row per comparison."""
    return [
        (
            c.case,
            c.backend,
            c.library,
            c.baseline,
            c.figure(c.library_stats),
            c.figure(c.baseline_stats),
            f"{c.ratio:.3g}x",
            str(c.target) if c.target else "",
            {None: "", True: "yes", False: "NO"}[c.met],
        )
        for c in comparisons
    ]


def text_table(comparisons: Sequence[Comparison]) -> str:
    """Render the results as a fixed-width table for the terminal."""
    header = (*COLUMNS, *RATIO_COLUMNS)
    body = rows(comparisons)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [_format_row(header, widths), _format_row(tuple("-" * w for w in widths), widths)]
    lines += [_format_row(row, widths) for row in body]
    return "\n".join(line.rstrip() for line in lines)


def _format_row(row: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))


def markdown_table(comparisons: Sequence[Comparison]) -> str:
    """Render the results as a Markdown table."""
    header = (*COLUMNS, *RATIO_COLUMNS)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i < len(COLUMNS) else "---:" for i in range(len(header))) + "|",
    ]
    for row in rows(comparisons):
        cells = [*row[:-1], "**NO**" if row[-1] == "NO" else row[-1]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_chart(comparisons: Sequence[Comparison], path: Path) -> None:
    """Draw each comparison's ratio as a bar, with its target, on a log scale.

    Args:
        comparisons (Sequence[Comparison]): The results.
        path (Path): Where to write the PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = [
        f"{c.case} vs {c.baseline} ({c.backend})" + (" [throughput]" if c.throughput else "")
        for c in comparisons
    ]
    colours = [{None: "#8c8c8c", True: "#2e7d32", False: "#c62828"}[c.met] for c in comparisons]
    ratios = [c.ratio for c in comparisons]
    figure, axes = pyplot.subplots(figsize=(11, 0.42 * len(comparisons) + 1.6))
    positions = range(len(comparisons))
    axes.barh(positions, ratios, color=colours)
    for position, comparison in zip(positions, comparisons, strict=True):
        axes.annotate(
            f"{comparison.ratio:.3g}x",
            (comparison.ratio, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
        if comparison.target is not None:
            axes.plot(
                [comparison.target.bound] * 2,
                [position - 0.4, position + 0.4],
                color="black",
                linewidth=2,
            )
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    low = min([*ratios, *(c.target.bound for c in comparisons if c.target)])
    high = max([*ratios, *(c.target.bound for c in comparisons if c.target)])
    axes.set_xlim(10 ** math.floor(math.log10(low)), 10 ** math.ceil(math.log10(high * 1.5)))
    axes.axvline(1, color="#555555", linewidth=0.8, linestyle=":")
    axes.set_xlabel(
        "library ÷ baseline (time: lower is better; [throughput]: higher is better)\n"
        "black tick: target; green: met, red: missed, grey: no target"
    )
    axes.set_title("aana against plain SQLAlchemy / driver code, measured side by side")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def machine_description(label: str) -> str:
    """Describe the machine: the given label, cores, memory and operating system."""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    return f"{label}: {os.cpu_count()} cores{memory}, {platform.platform(terse=True)}"


def write_results(
    folder: Path,
    comparisons: Sequence[Comparison],
    cases: Sequence[Case],
    machine: str,
    versions: dict[str, str],
    rounds: str,
) -> None:
    """Write ``RESULTS.md`` and ``ratios.png`` into ``folder``.

    Args:
        folder (Path): Where to write.
        comparisons (Sequence[Comparison]): The results.
        cases (Sequence[Case]): The cases that ran, for their descriptions.
        machine (str): The machine's description.
        versions (dict[str, str]): Software and server versions, by name.
        rounds (str): How many warm-up and measured rounds each figure comes from.
    """
    software = ", ".join(
        f"{name} {version}"
        for name, version in {
            "Python": platform.python_version(),
            "SQLAlchemy": sqlalchemy.__version__,
            **versions,
        }.items()
    )
    missed = [c for c in comparisons if c.met is False]
    lines = [
        "# Benchmark results",
        "",
        f"Measured on {datetime.date.today().isoformat()}, on {machine}; {software}.",
        "",
        "Run with `python -m benchmarks.run`; `--help` lists the options.",
        "",
        "Each ratio is the library's figure over the baseline's, both measured in the same "
        "run, in interleaved rounds so that the machine's drift falls on both alike. "
        f"Figures are medians of {rounds}, ± half the interquartile range. Absolute times on "
        "this shared machine are noise; the ratios are the result. Time ratios: lower is "
        "better. Throughput ratios (claims): higher is better.",
        "",
        markdown_table(comparisons),
        "",
        "![Ratios against their targets](ratios.png)",
        "",
        "## What each case measures",
        "",
        *(f"- **{case.name}**: {case.summary}" for case in cases),
        "",
    ]
    if missed:
        lines += ["## Missed targets, and what bounds them", ""]
        by_case: dict[str, list[Comparison]] = {}
        for comparison in missed:
            by_case.setdefault(comparison.case, []).append(comparison)
        for case_name, case_missed in by_case.items():
            targets = ", ".join(dict.fromkeys(str(c.target) for c in case_missed))
            figures = "; ".join(f"{c.baseline} ({c.backend}) {c.ratio:.3g}x" for c in case_missed)
            notes = " ".join(dict.fromkeys(c.target.note for c in case_missed if c.target))
            lines += [f"- **{case_name}**, target {targets}: {figures}.", "", f"  {notes}", ""]
    results = folder / "RESULTS.md"
    lines += [*(f"{section}\n" for section in _other_sections(results))]
    results.write_text("\n".join(lines))
    ratio_chart(comparisons, folder / "ratios.png")


_OWN_SECTIONS = ("## What each case measures", "## Missed targets, and what bounds them")


def _other_sections(results: Path) -> list[str]:
    """Return the sections of ``results`` that other benchmark scripts wrote, to keep them."""
    if not results.exists():
        return []
    sections = ["## " + part.rstrip("\n") for part in results.read_text().split("\n## ")[1:]]
    return [section for section in sections if not section.startswith(_OWN_SECTIONS)]


def replace_section(results: Path, heading: str, text: str) -> None:
    """Put ``text`` in place of the section of ``results`` that starts with ``heading``.

    A section runs to the next ``## `` heading. Without one, ``text`` is appended: a
    stand-alone benchmark script keeps its own section while the others stay as they are.

    Args:
        results (Path): The Markdown file, e.g. :data:`RESULTS`.
        heading (str): The section's heading line, ``## ...``.
        text (str): The new section, its heading included.
    """
    current = results.read_text()
    if heading not in current:
        results.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    before, _, after = current.partition(heading)
    rest = after.split("\n## ", 1)
    following = "\n## " + rest[1] if len(rest) == 2 else ""
    results.write_text(before + text.rstrip("\n") + "\n" + following)
