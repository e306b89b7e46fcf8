"""The repository of video entities."""

from typing import TypeVar

from sqlalchemy.orm import Session

from aana.core.models.media import MediaId
from aana.core.models.video import Video, VideoMetadata
from aana.storage.models.video import VideoEntity
from aana.storage.repository.media import MediaRepository

V = TypeVar("V", bound=VideoEntity)


class VideoRepository(MediaRepository[V]):
    """Repository of videos; use it directly or subclass it for your own video entity."""

    def __init__(self, session: Session, model_class: type[V] = VideoEntity) -> None:  # type: ignore[assignment]
        """Work in ``session`` on the videos of ``model_class``.

        Args:
            session (Session): The session to work in.
            model_class (type[V]): The video entity class; ``VideoEntity`` by default.
        """
        super().__init__(session, model_class)

    def save(self, video: Video) -> dict[str, MediaId]:
        """Save a video.

        Args:
            video (Video): The video; a missing path is stored as NULL.

        Returns:
            dict[str, MediaId]: ``{"media_id": ...}``.

        Raises:
            MediaIdAlreadyExistsException: If the video's media id is taken.
        """
        entity = self.model_class(
            id=video.media_id,
            path=str(video.path) if video.path is not None else None,
            url=video.url,
            title=video.title,
            description=video.description,
        )
        self.create(entity)
        # Not entity.id: on a session that expires on commit, reading it would run a SELECT
        # after the COMMIT, and a connection lost there would report a committed save as failed.
        return {"media_id": video.media_id}

    def get_metadata(self, media_id: MediaId) -> VideoMetadata:
        """Get the metadata of a video.

        Args:
            media_id (MediaId): The media id.

        Returns:
            VideoMetadata: Title and description; the duration is not stored here.

        Raises:
            NotFoundException: If there is no such video.
        """
        entity = self.read(media_id)
        assert entity is not None
        return VideoMetadata(title=entity.title or "", description=entity.description or "")
