"""aana's own revisions, read from its script directory, so tests name no revision id."""

from alembic.script import ScriptDirectory

from aana.storage.migrations import alembic_config

_script = ScriptDirectory.from_config(alembic_config())

AANA_HEAD: str = _script.get_current_head() or ""
"""The head of aana's lineage."""

AANA_REVISIONS: list[str] = [
    revision.revision for revision in reversed(list(_script.walk_revisions("base", "heads")))
]
"""aana's revisions, oldest first."""
