"""Videos and their metadata."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from aana.core.models.media import MediaId, new_media_id


class Video(BaseModel):
    """A video, given by a local path, a URL or its raw content.

    Building a ``Video`` never touches the network or the file system: the URL and the
    path are only recorded.

    Attributes:
        path (Path | None): Local path of the video file.
        url (str | None): URL the video can be downloaded from.
        content (bytes | None): The raw bytes of the video.
        media_id (MediaId): The media id; a fresh uuid4 string by default.
        title (str): The title of the video.
        description (str): The description of the video.
    """

    path: Path | None = None
    url: str | None = None
    content: bytes | None = None
    media_id: MediaId = Field(default_factory=new_media_id)
    title: str = ""
    description: str = ""

    model_config = ConfigDict(validate_assignment=True)


class VideoMetadata(BaseModel):
    """Metadata of a video.

    Attributes:
        title (str): The title of the video.
        description (str): The description of the video.
        duration (float | None): The duration of the video in seconds, if known.
    """

    title: str
    description: str
    duration: float | None = None
