"""The Aana SDK releases a database's revision ids come from, and what to do with each.

Aana SDK 0.2.0 and 0.2.1 had one revision, ``6d95f693a277``. Aana SDK 0.2.2 started its
migrations anew (``5ad873484aa3``, with no upgrade from ``6d95f693a277``), and 0.2.3 and
0.2.4 added to that history. Only a database at 0.2.4's last revision is adopted; for the
others, the message names the release and the way forward instead of Alembic's "Can't locate
revision".
"""

from aana.storage.migrations.aana_sdk_schema import AANA_SDK_HEAD

AANA_SDK_RELEASES: dict[str, str] = {
    "6d95f693a277": "Aana SDK 0.2.0 or 0.2.1",
    "5ad873484aa3": "Aana SDK 0.2.2",
    "b9860676dd49": "Aana SDK 0.2.3",
    "d40eba8ebc4c": "a development version between Aana SDK 0.2.3 and 0.2.4",
    AANA_SDK_HEAD: "Aana SDK 0.2.4",
}
"""Each Aana SDK revision id, and the release whose last revision it is."""

_FIRST_HISTORY = frozenset({"6d95f693a277"})
"""Revisions of the history that Aana SDK 0.2.2 abandoned: no release migrates them."""


def aana_sdk_release(revisions: tuple[str, ...]) -> str | None:
    """Name the Aana SDK release a database's revisions come from.

    Args:
        revisions (tuple[str, ...]): The revisions recorded in ``alembic_version``.

    Returns:
        str | None: The release, e.g. ``"Aana SDK 0.2.2"``; None if no revision is Aana's.
    """
    releases = sorted({AANA_SDK_RELEASES[r] for r in revisions if r in AANA_SDK_RELEASES})
    return " and ".join(releases) or None


def older_release_problem(revisions: tuple[str, ...]) -> str | None:
    """Say why a database of an Aana SDK release before 0.2.4 is not adopted, and what to do.

    Args:
        revisions (tuple[str, ...]): The revisions recorded in ``alembic_version``.

    Returns:
        str | None: The message; None unless a revision is one of a release before 0.2.4's
        last.
    """
    older = sorted(r for r in revisions if r in AANA_SDK_RELEASES and r != AANA_SDK_HEAD)
    if not older:
        return None
    release = aana_sdk_release(tuple(older))
    if set(older) & _FIRST_HISTORY:
        return (
            f"The database was created by {release} (revision {', '.join(older)}). Aana SDK "
            "0.2.2 started its migrations anew, with no upgrade from that revision, so no "
            "Aana SDK release and not aana can migrate this database in place (its tables "
            "differ too: captions, transcripts, create_ts and update_ts). Create a new "
            "database with aana migrate and copy the rows you need into it."
        )
    return (
        f"The database is at Aana SDK revision(s) {', '.join(older)}, not Aana SDK 0.2.4's "
        f"last one ({AANA_SDK_HEAD}): it was last migrated by {release}. Upgrade the app to "
        "Aana SDK 0.2.4 and start it once, which migrates its database on start, then run "
        "aana migrate again."
    )


def unknown_revisions_hint(unknown: list[str] | tuple[str, ...], app: str | None) -> str:
    """Say what a database at revisions that the migrations do not have probably is.

    Args:
        unknown (list[str] | tuple[str, ...]): The revisions the migrations do not have.
        app (str | None): The app named on the command line, if any.

    Returns:
        str: An Aana SDK release's way forward when they are Aana SDK's, else what else they
        can be: another app's revision, or an Aana app's own revision from before aana.
    """
    revisions = tuple(unknown)
    problem = older_release_problem(revisions)
    if problem:
        return problem
    if AANA_SDK_HEAD in revisions:
        return "That is Aana SDK 0.2.4's last revision: adopt the database with aana migrate."
    if app:
        return (
            f"Neither aana's migrations nor {app}'s have it. If it is the app's own revision "
            "from before aana, stacked on Aana SDK 0.2.4's, adopt the database with "
            f"`aana migrate {app} --adopt`."
        )
    return (
        "Is it an app's revision? Name the app, as in `aana migrate my_app.app:aana_app`, to "
        "work on its lineage too; if it is the app's own revision from before aana, stacked "
        "on Aana SDK 0.2.4's, adopt the database with `aana migrate my_app.app:aana_app "
        "--adopt`."
    )
