"""Repositories: create, read, delete and the per-entity save methods, on each backend."""

import datetime
import pickle
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from either import (
    BaseRepository,
    CaptionRepository,
    MediaRepository,
    TranscriptRepository,
    VideoRepository,
)
from factories import media_with_outputs
from halves import either_half  # noqa: F401
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from aana.core.models import (
    AsrSegment,
    AsrSegments,
    AsrTranscription,
    AsrTranscriptionInfo,
    TimeInterval,
    Video,
    VideoMetadata,
)
from aana.exceptions.db import CheckViolation, MediaIdAlreadyExistsException, NotFoundException
from aana.storage.models import CaptionEntity, MediaEntity, TranscriptEntity, VideoEntity
from aana.testing.factories import VideoEntityFactory
from aana.testing.queries import CapturedQueries

QueryLimit = Callable[[int], AbstractContextManager[CapturedQueries]]


def count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


def test_base_repository_create_read_delete(db_session: Session) -> None:
    repository = BaseRepository(db_session, CaptionEntity)
    created = repository.create(
        CaptionEntity(model="m", caption="a cat", frame_id=3, timestamp=0.1)
    )
    assert created.id is not None
    assert repository.read(created.id) is created
    assert repository.delete(created.id) is created
    assert repository.read(created.id, check=False) is None
    with pytest.raises(NotFoundException, match=rf"caption: no row with id {created.id}"):
        repository.read(created.id)
    with pytest.raises(NotFoundException):
        repository.delete(created.id)
    assert repository.delete(created.id, check=False) is None


def test_create_multiple_inserts_in_order_with_generated_values(db_session: Session) -> None:
    repository = BaseRepository(db_session, CaptionEntity)
    entities = [
        CaptionEntity(model="m", caption=f"c{i}", frame_id=i, timestamp=float(i)) for i in range(5)
    ]
    saved = repository.create_multiple(entities)
    assert [entity.caption for entity in saved] == [f"c{i}" for i in range(5)]
    assert len({entity.id for entity in saved}) == 5
    assert all(entity.created_at.tzinfo is datetime.UTC for entity in saved)
    assert count(db_session, CaptionEntity) == 5


def test_media_repository_create_and_check_exists(db_session: Session) -> None:
    repository = MediaRepository(db_session, MediaEntity)
    assert not repository.check_media_exists("m-1")
    repository.create(MediaEntity(id="m-1"))
    assert repository.check_media_exists("m-1")
    assert not repository.check_media_exists("not/valid")


def test_media_repository_defaults_to_media_entity_as_the_aana_sdk_did(
    db_session: Session,
) -> None:
    repository = MediaRepository(db_session)
    assert repository.model_class is MediaEntity and repository.table_name == "media"
    repository.create(MediaEntity(id="m-default"))
    assert repository.check_media_exists("m-default")
    assert type(repository.read("m-default")) is MediaEntity


def test_taken_media_id_raises_and_keeps_the_session_usable(db_session: Session) -> None:
    repository = VideoRepository(db_session)
    repository.save(Video(media_id="taken", title="first"))
    db_session.add(CaptionEntity(model="m", caption="pending", frame_id=0, timestamp=0))
    with pytest.raises(MediaIdAlreadyExistsException) as raised:
        repository.save(Video(media_id="taken", title="second"))
    assert raised.value.media_id == "taken"
    assert raised.value.table_name == "video"
    assert "video: media id 'taken' already exists" in str(raised.value)
    # The failed insert rolled back to its savepoint only: earlier work is intact.
    assert repository.read("taken").title == "first"
    assert count(db_session, CaptionEntity) == 1
    repository.save(Video(media_id="next"))
    assert count(db_session, VideoEntity) == 2


def test_create_multiple_with_a_taken_id_writes_nothing(db_session: Session) -> None:
    repository = VideoRepository(db_session)
    repository.save(Video(media_id="existing"))
    batch = [VideoEntity(id="new-1"), VideoEntity(id="existing"), VideoEntity(id="new-2")]
    with pytest.raises(MediaIdAlreadyExistsException) as raised:
        repository.create_multiple(batch)
    assert raised.value.media_id == "existing"
    assert count(db_session, MediaEntity) == 1


def test_create_multiple_with_a_repeated_id_names_it(db_session: Session) -> None:
    repository = VideoRepository(db_session)
    with pytest.raises(MediaIdAlreadyExistsException) as raised:
        repository.create_multiple([VideoEntity(id="twice"), VideoEntity(id="twice")])
    assert raised.value.media_id == "twice"
    assert count(db_session, MediaEntity) == 0


@pytest.mark.parametrize("bad_id", ["", "x" * 37, "has space", "semi;colon", "ünïcode"])
def test_malformed_media_ids_are_rejected_before_sql(db_session: Session, bad_id: str) -> None:
    repository = VideoRepository(db_session)
    with pytest.raises(ValidationError):
        repository.create(VideoEntity(id=bad_id))
    with pytest.raises(NotFoundException):
        repository.read(bad_id)
    assert repository.read(bad_id, check=False) is None
    assert count(db_session, MediaEntity) == 0


def test_video_save_and_metadata(db_session: Session) -> None:
    repository = VideoRepository(db_session)
    result = repository.save(
        Video(path=Path("/videos/a.mp4"), title="A", description="About A", media_id="vid-a")
    )
    assert result == {"media_id": "vid-a"}
    assert repository.get_metadata("vid-a") == VideoMetadata(title="A", description="About A")
    entity = repository.read("vid-a")
    assert (entity.path, entity.media_type) == ("/videos/a.mp4", "video")


def test_video_without_path_stores_null_not_the_string_none(db_session: Session) -> None:
    VideoRepository(db_session).save(Video(url="https://example.com/v.mp4", media_id="no-path"))
    stored = db_session.execute(text("SELECT path, url FROM video WHERE id = 'no-path'")).one()
    assert tuple(stored) == (None, "https://example.com/v.mp4")


def test_video_default_media_id_is_a_fresh_uuid() -> None:
    first, second = Video(url="https://example.com/a"), Video(url="https://example.com/a")
    assert first.media_id != second.media_id
    assert len(first.media_id) == 36


def test_get_metadata_of_an_unknown_video(db_session: Session) -> None:
    with pytest.raises(NotFoundException, match="video: no row with id 'ghost'"):
        VideoRepository(db_session).get_metadata("ghost")


def test_deleting_a_video_deletes_its_media_row(db_session: Session) -> None:
    video = VideoEntityFactory()
    VideoRepository(db_session).delete(video.id)
    assert count(db_session, MediaEntity) == 0


def test_transcript_save_round_trip(db_session: Session) -> None:
    segments = AsrSegments(
        [
            AsrSegment(
                text="hello world",
                time_interval=TimeInterval(start=0.0, end=1.5),
                confidence=0.9,
                no_speech_confidence=0.01,
                speaker="SPEAKER_00",
            )
        ]
    )
    saved = TranscriptRepository(db_session).save(
        "whisper",
        AsrTranscriptionInfo(language="en", language_confidence=0.97),
        AsrTranscription(text="hello world"),
        segments,
    )
    db_session.expire_all()
    loaded = TranscriptRepository(db_session).read(saved.id)
    assert (loaded.model, loaded.transcript, loaded.language) == ("whisper", "hello world", "en")
    assert loaded.language_confidence == pytest.approx(0.97)
    assert AsrSegments.model_validate(loaded.segments) == segments
    assert loaded.transcript_type == "transcript"


def test_caption_save_and_save_all(db_session: Session) -> None:
    repository = CaptionRepository(db_session)
    one = repository.save("blip", "a dog", timestamp=0.5, frame_id=15)
    assert (one.caption, one.frame_id, one.timestamp) == ("a dog", 15, 0.5)
    many = repository.save_all("blip", ["a", "b", "c"], [0.0, 0.1, 0.2], [0, 3, 6])
    assert [(c.caption, c.frame_id) for c in many] == [("a", 0), ("b", 3), ("c", 6)]
    assert all(isinstance(c.id, int) for c in many)
    assert len({c.id for c in many} | {one.id}) == 4
    assert count(db_session, CaptionEntity) == 4


def test_save_all_with_mismatched_lengths_names_them_and_writes_nothing(
    db_session: Session,
) -> None:
    with pytest.raises(ValueError, match="got 2, 3 and 2"):
        CaptionRepository(db_session).save_all("blip", ["a", "b"], [0.0, 0.1, 0.2], [0, 1])
    assert count(db_session, CaptionEntity) == 0


def test_timestamps_are_aware_utc_on_read(db_session: Session) -> None:
    video = VideoRepository(db_session).read(VideoEntityFactory().id)
    db_session.commit()
    db_session.expire_all()
    reloaded = VideoRepository(db_session).read(video.id)
    for value in (reloaded.created_at, reloaded.updated_at):
        assert value.tzinfo is datetime.UTC
        assert abs(datetime.datetime.now(datetime.UTC) - value) < datetime.timedelta(minutes=5)


def test_aware_datetimes_in_other_zones_are_stored_as_utc(db_session: Session) -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2026, 1, 2, 12, 0, tzinfo=plus_two)
    video = VideoEntityFactory(created_at=moment)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(VideoEntity, video.id).created_at
    assert stored == moment
    assert stored.tzinfo is datetime.UTC
    assert stored.hour == 10


def test_naive_datetimes_are_refused(db_session: Session) -> None:
    entity = VideoEntity(id="naive", created_at=datetime.datetime(2026, 1, 1))
    with pytest.raises(Exception, match="naive datetime"):
        VideoRepository(db_session).create(entity)


def test_updated_at_moves_on_update(db_session: Session) -> None:
    video = VideoEntityFactory()
    before = video.updated_at
    video.title = "renamed"
    db_session.commit()
    db_session.refresh(video)
    assert video.updated_at > before
    assert video.created_at <= before


def test_from_parent_builds_the_subclass_with_the_parents_values() -> None:
    media = MediaEntity(id="parent-1")
    video = VideoEntity.from_parent(media, title="child")
    assert isinstance(video, VideoEntity)
    assert (video.id, video.title, video.media_type) == ("parent-1", "child", "video")


def test_constructors_build_the_class_they_are_called_on() -> None:
    class SubCaption(CaptionEntity):
        __mapper_args__ = {"polymorphic_identity": "sub_caption"}  # noqa: RUF012

    class SubTranscript(TranscriptEntity):
        __mapper_args__ = {"polymorphic_identity": "sub_transcript"}  # noqa: RUF012

    assert type(SubCaption.from_caption_output("m", "c", 0, 0.0)) is SubCaption
    transcript = SubTranscript.from_asr_output(
        "m", AsrTranscriptionInfo(), AsrTranscription(), AsrSegments([])
    )
    assert type(transcript) is SubTranscript


@pytest.mark.parametrize(
    "error",
    [NotFoundException("video", "abc"), MediaIdAlreadyExistsException("video", "abc")],
)
def test_exceptions_survive_pickling(error: Exception) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert "video" in str(copy) and "abc" in str(copy)


def test_reading_a_video_with_its_transcript_and_captions_runs_one_query_per_row(
    db_session: Session, assert_max_queries: QueryLimit
) -> None:
    media = media_with_outputs(captions=5)
    db_session.expunge_all()
    with assert_max_queries(1):
        metadata = VideoRepository(db_session).get_metadata(media.video.id)
    assert metadata.title == media.video.title
    with assert_max_queries(1):
        transcript = TranscriptRepository(db_session).read(media.transcript.id)
        assert transcript is not None
        read_transcript = (transcript.transcript, transcript.segments, transcript.language)
    assert read_transcript[0] == media.transcript.transcript
    captions = CaptionRepository(db_session)
    with assert_max_queries(len(media.captions)):
        read_captions = []
        for caption in media.captions:
            entity = captions.read(caption.id)
            assert entity is not None
            read_captions.append((entity.frame_id, entity.caption, entity.timestamp))
    assert [frame for frame, _, _ in read_captions] == [0, 1, 2, 3, 4]


def test_a_refused_write_leaves_the_sessions_other_objects_loaded(db_session: Session) -> None:
    # Nothing to reload, on either half: async code could not load an expired attribute.
    videos, captions = VideoRepository(db_session), CaptionRepository(db_session)
    videos.save(Video(media_id="held", title="held"))
    held = [videos.read("held"), *captions.save_all("m", ["a", "b"], [0.0, 1.0], [0, 1])]
    with pytest.raises(MediaIdAlreadyExistsException):
        videos.save(Video(media_id="held"))
    with pytest.raises(CheckViolation):
        captions.save("m", "a negative frame", 1.0, -1)
    for entity in held:
        assert not sa_inspect(entity).expired_attributes, entity
