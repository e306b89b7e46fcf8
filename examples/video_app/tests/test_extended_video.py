"""The spec page's ExtendedVideoEntity and ExtendedVideoRepository, on the app's own table."""

import pytest
from aana.core.models import Video
from aana.core.models.video import VideoMetadata
from aana.exceptions.db import MediaIdAlreadyExistsException
from aana.storage.models import VideoEntity
from aana.storage.repository.video import VideoRepository
from aana.testing.factories import VideoEntityFactory
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import ExtendedVideoEntityFactory
from video_app.models import ExtendedVideoEntity, VideoProcessingStatus
from video_app.repository import ExtendedVideoRepository


def test_the_spec_page_example(db_session: Session) -> None:
    session = db_session
    video = Video(title="My Video", url="https://example.com/video.mp4")
    duration = 42
    video_repository = ExtendedVideoRepository(session)
    video_repository.save(video, duration)

    # The row is in the app's table, created by the app's migration, joined to aana's.
    row = session.execute(
        text(
            "SELECT m.media_type, v.title, e.duration, e.status FROM extended_video e "
            "JOIN video v ON v.id = e.id JOIN media m ON m.id = e.id WHERE e.id = :id"
        ),
        {"id": video.media_id},
    ).one()
    assert tuple(row) == ("extended_video", "My Video", 42.0, "CREATED")


def test_status_and_metadata_round_trip(db_session: Session) -> None:
    repository = ExtendedVideoRepository(db_session)
    video = Video(title="Clip", description="A clip")
    repository.save(video, duration=12.5)

    assert repository.get_status(video.media_id) is VideoProcessingStatus.CREATED
    repository.update_status(video.media_id, VideoProcessingStatus.RUNNING)
    db_session.expire_all()
    assert repository.get_status(video.media_id) is VideoProcessingStatus.RUNNING
    assert repository.get_metadata(video.media_id) == VideoMetadata(
        title="Clip", description="A clip", duration=12.5
    )


def test_a_taken_media_id_is_refused_on_the_extended_table(db_session: Session) -> None:
    repository = ExtendedVideoRepository(db_session)
    taken = ExtendedVideoEntityFactory()
    # The row is in the database; out of the identity map, the clash is the database's to find.
    db_session.expunge(taken)
    with pytest.raises(MediaIdAlreadyExistsException):
        repository.save(Video(media_id=taken.id, title="again"))
    assert (
        db_session.scalar(
            select(ExtendedVideoEntity.title).where(ExtendedVideoEntity.id == taken.id)
        )
        == taken.title
    )


def test_aana_queries_return_the_app_subclass(db_session: Session) -> None:
    extended = ExtendedVideoEntityFactory.create_batch(2, status=VideoProcessingStatus.COMPLETED)
    plain = VideoEntityFactory()
    db_session.expunge_all()

    videos = db_session.scalars(select(VideoEntity)).all()
    assert {type(video) for video in videos} == {VideoEntity, ExtendedVideoEntity}
    read = VideoRepository(db_session).read(extended[0].id)
    assert isinstance(read, ExtendedVideoEntity)
    assert read.status is VideoProcessingStatus.COMPLETED
    assert not isinstance(VideoRepository(db_session).read(plain.id), ExtendedVideoEntity)
