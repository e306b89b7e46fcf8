"""Importing aana does no I/O: no engine, no directory, no file, no connection."""

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = r"""
import importlib, json, os, pkgutil, sys
import sqlalchemy
import sqlalchemy.engine.create

created = []
real_create_engine = sqlalchemy.engine.create.create_engine

def spy(*args, **kwargs):
    created.append(str(args[0]) if args else "?")
    return real_create_engine(*args, **kwargs)

sqlalchemy.create_engine = spy
sqlalchemy.engine.create.create_engine = spy

import aana
modules = []
for info in pkgutil.walk_packages(aana.__path__, "aana."):
    importlib.import_module(info.name)
    modules.append(info.name)
print(json.dumps({"modules": modules, "engines": created}))
"""


@pytest.mark.subprocesses
def test_importing_every_module_has_no_side_effects(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "aana.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "DB_CONFIG": f'{{"datastore_config": {{"path": "{db_path}"}}}}',
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "aana.storage.repository" in report["modules"]
    assert "aana.testing" in report["modules"]
    assert report["engines"] == []
    assert sorted(path.name for path in tmp_path.iterdir()) == []
