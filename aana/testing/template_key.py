"""The key a kept template is stored under: a hash of the migrations it was built with."""

import hashlib
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory


def lineage_hash(config: Config) -> str:
    """Hash every migration script of the lineages ``config`` names, and their ``env.py``.

    Any change to a revision, a new revision, or a change to the environment gives another
    hash, so that a kept template is never used with migrations it was not built with.

    Args:
        config (Config): The Alembic configuration: aana's lineage, and an app's if it has one.

    Returns:
        str: Sixteen hex digits.
    """
    script = ScriptDirectory.from_config(config)
    digest = hashlib.sha256()
    paths = [Path(script.dir) / "env.py"]
    paths += [Path(revision.path) for revision in script.walk_revisions()]
    for path in sorted(paths):
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]
