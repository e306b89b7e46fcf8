"""The Aana SDK 0.2.4 app databases in ``tests/data``, made by the real Aana SDK 0.2.4.

``tests/data/make_aana_0_2_4_database.py`` wrote them (see its docstring): Aana's tables and
the docs' ``extended_video`` table, in two layouts (``create_all``, ``revisions``), as an
SQLite file and as a PostgreSQL dump, each with a manifest of what was written. Loading one
into a test database copies its schema and rows as they are: the SQLite file's own
statements (``iterdump``), or the dump.
"""

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

DATA = Path(__file__).resolve().parent / "data"
LAYOUTS = ("create_all", "revisions")
APP_REVISION = "7e1f0c2a9b31"
"""The app's own revision, stacked on Aana SDK 0.2.4's, in the ``revisions`` layout."""


def sqlite_file(layout: str) -> Path:
    """The committed SQLite database of a layout."""
    return DATA / f"aana_sdk_0_2_4_{layout}.db"


def manifest(layout: str, backend: str) -> dict[str, Any]:
    """What the Aana SDK wrote into a layout's database on a backend: ids by kind."""
    suffix = ".postgresql.json" if backend == "postgresql" else ".json"
    written: dict[str, Any] = json.loads((DATA / f"aana_sdk_0_2_4_{layout}{suffix}").read_text())
    return written


def task_ids(written: dict[str, Any], kind: str) -> list[str]:
    """The ids of the tasks of a kind (``plain``, ``tuple``, ``nul``, ...), as aana names them."""
    return sorted(task for task, what in written["tasks"].items() if what["kind"] == kind)


def load_aana_sdk_app(engine: Engine, layout: str) -> dict[str, Any]:
    """Copy a layout's database into the empty database of ``engine``; return its manifest."""
    backend = engine.dialect.name
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        if backend == "sqlite":
            source = sqlite3.connect(sqlite_file(layout))
            try:
                script = "\n".join(source.iterdump())
            finally:
                source.close()
            # The dump's tables come in name order: extended_video before the video it
            # references.
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.executescript(script)
        else:
            cursor = raw.cursor()
            cursor.execute((DATA / f"aana_sdk_0_2_4_{layout}.sql").read_text())
            raw.commit()
        # The dump set session settings (search_path, lock_timeout): not for pooled reuse.
        connection.invalidate()
    return manifest(layout, backend)
