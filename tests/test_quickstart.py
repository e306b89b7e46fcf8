"""The README's first command: `aana migrate`, then the quickstart script, on the test backend."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aana.testing.backends import db_settings_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.subprocesses
def test_quickstart_stores_and_reads_back(alembic_engine: Engine, tmp_path: Path) -> None:
    env = {**os.environ, "DB_CONFIG": db_settings_for(alembic_engine.url).model_dump_json()}
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "aana", "migrate"], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, ROOT / "examples" / "quickstart.py"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].endswith("'Databases for media' - 'A short talk'")
    assert lines[1] == "transcript (en): 'Hello and welcome. Today: databases.'"
    assert lines[2:] == [
        "caption at 0.0s (frame 0): 'a speaker on stage'",
        "caption at 2.0s (frame 60): 'a slide with a table'",
    ]
