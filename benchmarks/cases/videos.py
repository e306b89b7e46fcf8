"""Case 3: saving videos in bulk, two tables per row (joined inheritance)."""

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from aana.storage.models import MediaEntity, VideoEntity
from aana.storage.repository import VideoRepository
from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, Target, library_against

MEDIA = MediaEntity.__table__
VIDEO = VideoEntity.__table__


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    assert databases is not None
    engine = databases.migrated()
    count = profile.rows
    videos = [
        (f"video-{index}", f"/data/video-{index}.mp4", f"Video {index}", "A video")
        for index in range(count)
    ]
    media_rows = [{"id": media_id, "media_type": "video"} for media_id, *_ in videos]
    video_rows = [
        {"id": media_id, "path": path, "title": title, "description": description}
        for media_id, path, title, description in videos
    ]
    entities: list[VideoEntity] = []

    def create_multiple() -> None:
        with Session(engine, expire_on_commit=False) as session:
            saved = VideoRepository(session).create_multiple(entities)
        assert len(saved) == count

    def core_insert() -> None:
        with engine.begin() as connection:
            connection.execute(insert(MEDIA), media_rows)
            connection.execute(insert(VIDEO), video_rows)

    def core_returning() -> None:
        with engine.begin() as connection:
            returned: list[Any] = [
                connection.execute(
                    insert(table).returning(*table.c, sort_by_parameter_order=True), rows
                ).all()
                for table, rows in ((MEDIA, media_rows), (VIDEO, video_rows))
            ]
        assert all(len(table_rows) == count for table_rows in returned)

    def clear() -> None:
        databases.clear(engine, "video", "media")

    def build_entities() -> None:
        clear()
        entities[:] = [
            VideoEntity(id=media_id, path=path, title=title, description=description)
            for media_id, path, title, description in videos
        ]

    baselines = [
        (
            Contender("Core 2-table insert executemany", core_insert, clear),
            Target(2.5, note=VIDEOS_BOUND),
        ),
        (Contender("Core 2-table insert ... RETURNING (ref.)", core_returning, clear), None),
    ]
    try:
        return library_against(
            CASE.name,
            databases.backend,
            f"{count:,} rows",
            Contender("VideoRepository.create_multiple", create_multiple, build_entities),
            baselines,
            profile.warmup,
            profile.repetitions,
        )
    finally:
        databases.drop(engine)


VIDEOS_BOUND = (
    "As for captions, the repository inserts with plain Core executemany batches, media "
    "rows then video rows, and reads nothing back; what remains is the ORM's per-row work "
    "the baseline does not do: reading each given entity's column values and validating "
    "its media id on the way in, building a persistent entity per row and adding it to the "
    "session on the way out, and the garbage collections those allocations set off."
)

CASE = Case(
    name="videos",
    summary=(
        "`VideoRepository.create_multiple` of 10,000 `VideoEntity` objects (built "
        "beforehand) in a new session: a `media` and a `video` row each, the ids given, the "
        "persisted entities returned. Against a Core `insert()` executemany into `media`, "
        "then into `video`, of the same values (their dicts built beforehand), in one "
        "transaction; for reference, the same two inserts with `RETURNING` of every column in "
        "parameter order. Every run starts from empty tables."
    ),
    run=run,
)
