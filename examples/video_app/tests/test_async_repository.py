"""The app's async repository on async_db_session, with the app's factory awaited."""

from aana.core.models import Video
from aana.storage.aio.session import get_async_session
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import ExtendedVideoEntityFactory
from video_app.async_repository import AsyncExtendedVideoRepository
from video_app.models import ExtendedVideoEntity, VideoProcessingStatus


async def test_save_and_status_through_the_async_twin(async_db_session: AsyncSession) -> None:
    repository = AsyncExtendedVideoRepository(async_db_session)
    clip = Video(title="Async clip")
    await repository.save(clip, 30.0)
    video = await repository.read(clip.media_id)
    assert isinstance(video, ExtendedVideoEntity)
    assert video.duration == 30.0
    await repository.update_status(video.id, VideoProcessingStatus.RUNNING)
    # Application code opening its own session joins the test's transaction.
    async with get_async_session() as session:
        status = await AsyncExtendedVideoRepository(session).get_status(video.id)
    assert status is VideoProcessingStatus.RUNNING


async def test_the_apps_factory_in_an_async_test(async_db_session: AsyncSession) -> None:
    video = await ExtendedVideoEntityFactory.acreate(duration=5.0)
    metadata = await AsyncExtendedVideoRepository(async_db_session).get_metadata(video.id)
    assert metadata.duration == 5.0
    assert metadata.title == video.title
