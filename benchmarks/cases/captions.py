"""Case 2: saving a video's captions in bulk, ids returned."""

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from aana.storage.models import CaptionEntity
from aana.storage.repository import CaptionRepository
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, Target, library_against

MODEL = "bench-model"
TABLE = CaptionEntity.__table__


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    engine = databases.migrated()
    count = profile.rows
    captions = [f"a caption of frame {index}" for index in range(count)]
    timestamps = [index / 25 for index in range(count)]
    frame_ids = list(range(count))
    rows = [
        {
            "model": MODEL,
            "caption": caption,
            "timestamp": timestamp,
            "frame_id": frame_id,
            "caption_type": "caption",
        }
        for caption, timestamp, frame_id in zip(captions, timestamps, frame_ids, strict=True)
    ]
    entities: list[CaptionEntity] = []

    def save_all() -> None:
        with Session(engine, expire_on_commit=False) as session:
            saved = CaptionRepository(session).save_all(MODEL, captions, timestamps, frame_ids)
        assert len(saved) == count and saved[-1].id is not None

    def core_insert() -> None:
        with engine.begin() as connection:
            connection.execute(insert(TABLE), rows)

    def core_returning() -> None:
        statement = insert(TABLE).returning(*TABLE.c, sort_by_parameter_order=True)
        with engine.begin() as connection:
            returned: list[Any] = connection.execute(statement, rows).all()
        assert len(returned) == count

    def add_all() -> None:
        with Session(engine, expire_on_commit=False) as session:
            session.add_all(entities)
            session.commit()

    def clear() -> None:
        databases.clear(engine, "caption")

    def build_entities() -> None:
        clear()
        entities[:] = [CaptionEntity(**row) for row in rows]

    baselines = [
        (
            Contender("Core insert() executemany", core_insert, clear),
            Target(2, note=CAPTIONS_BOUND),
        ),
        (Contender("Core insert ... RETURNING (ref.)", core_returning, clear), None),
        (Contender("ORM add_all + commit (ref.)", add_all, build_entities), None),
    ]
    try:
        return library_against(
            CASE.name,
            databases.backend,
            f"{count:,} rows",
            Contender("CaptionRepository.save_all", save_all, clear),
            baselines,
            profile.warmup,
            profile.repetitions,
        )
    finally:
        databases.drop(engine)


CAPTIONS_BOUND = (
    "The repository inserts with a plain Core executemany, as the baseline does, and reads "
    "nothing back: the ids are reserved from the sequence in one query on PostgreSQL and "
    "derived from `last_insert_rowid()` on SQLite, the timestamps filled in Python. What "
    "remains is building the 10,000 entities the baseline does not return: an ORM instance "
    "made persistent for each row (`make_transient_to_detached`), added to the session's "
    "identity map, and the garbage collections those allocations set off. Measured alone on "
    "SQLite, building them costs about as much as the INSERT itself and adding them to the "
    "session half as much again; returning detached entities would save the latter, not "
    "enough for 2x."
)

CASE = Case(
    name="captions",
    summary=(
        "`CaptionRepository.save_all` of 10,000 captions (its three lists built beforehand) "
        "in a new session, which returns the entities with their ids. Against a Core "
        "`insert()` executemany of the same rows (their dicts built beforehand), which "
        "returns nothing; for reference, the same Core insert with `RETURNING` of every "
        "column in parameter order, and the ORM's `session.add_all` and `commit` of "
        "entities built beforehand. Every run starts from an empty table."
    ),
    run=run,
)
