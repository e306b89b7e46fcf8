"""The benchmarks' quick mode runs on the selected backend and reports its figures.

A smoke check that the harness does not rot: it asserts what is printed, never how fast.
"""

import re

import pytest

from aana.testing.backends import PostgresDatabases, TestDatabases
from benchmarks.harness import QUICK
from benchmarks.run import main


def test_quick_mode_reports_library_baseline_and_ratio(
    aana_test_databases: TestDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    if isinstance(aana_test_databases, PostgresDatabases):
        url = aana_test_databases.admin_url.render_as_string(hide_password=False)
        backend = ["--backend", "postgresql", "--postgres-url", url]
    else:
        backend = ["--backend", "sqlite"]

    assert main(["--quick", "--case", "captions", *backend]) == 0

    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("captions")]
    assert len(rows) == 3
    for row in rows:
        assert backend[1] in row
        assert "CaptionRepository.save_all" in row
        assert len(re.findall(rf"\d+(\.\d+)? (s|ms|µs|ns)/{QUICK.rows} rows", row)) == 2
        assert re.search(r"\d(\.\d+)?x\b", row)
