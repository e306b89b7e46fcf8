"""Writing an app's revisions on its own lineage, never on aana's."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

from aana.storage.migrations.config import aana_script_location


def new_revision(
    config: Config, message: str, branch_label: str, engine: Engine | None = None
) -> Script:
    """Write a new revision on the app's lineage, never on aana's.

    The revision goes to the app's first version location. The app's first revision starts
    a branch labelled ``branch_label``; later ones follow the app's head. Each depends on the
    aana heads that the app's lineage does not depend on yet: the revision was written
    against that schema, so it is applied after it, and a later aana revision does not
    have to wait for it.

    Args:
        config (Config): The app's configuration, from :func:`alembic_config`.
        message (str): The revision's message.
        branch_label (str): The label of the app's lineage, set on its first revision.
        engine (Engine | None): The database to compare the models with, which must be at
            head; ``None`` writes an empty revision.

    Returns:
        Script: The new revision.

    Raises:
        CommandError: If the app has no version location of its own, its lineage has
            several heads, or the database is not at head.
    """
    script = ScriptDirectory.from_config(config)
    aana_versions = (aana_script_location() / "versions").resolve()
    own_locations = [
        Path(location)
        for location in script.version_locations or []
        if Path(location).resolve() != aana_versions
    ]
    if not own_locations:
        raise CommandError("the app's configuration names no version location of its own")
    heads = script.get_revisions("heads")
    aana_heads = [head.revision for head in heads if _in_folder(head, aana_versions)]
    app_heads = [head.revision for head in heads if not _in_folder(head, aana_versions)]
    if len(app_heads) > 1:
        raise CommandError(
            f"the app's lineage has several heads ({', '.join(app_heads)}); merge them first"
        )
    if app_heads:
        ancestors = {rev.revision for rev in script.iterate_revisions(app_heads[0], "base")}
        head, label = app_heads[0], None
        depends_on = [revision for revision in aana_heads if revision not in ancestors]
    else:
        head, label, depends_on = "base", branch_label, aana_heads
    options: dict[str, Any] = {
        "message": message,
        "head": head,
        "branch_label": label,
        "version_path": str(own_locations[0]),
        "depends_on": depends_on or None,
    }
    if engine is None:
        generated = command.revision(config, **options)
    else:
        with engine.connect() as connection, connection.begin() as transaction:
            config.attributes["connection"] = connection
            try:
                generated = command.revision(config, autogenerate=True, **options)
            finally:
                config.attributes.pop("connection", None)
                transaction.rollback()
    assert isinstance(generated, Script)
    return generated


def _in_folder(revision: Script, folder: Path) -> bool:
    return Path(revision.path).resolve().parent == folder
