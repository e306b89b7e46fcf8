"""factory-boy factories for every aana entity.

They write through the running test's ``db_session``, with no binding code in your
``conftest.py``. In an async test, holding ``async_db_session``, await
:meth:`AanaFactory.acreate` and :meth:`AanaFactory.acreate_batch` instead: factory-boy is
synchronous, and they run it where the async session can send its statements.

A factory you write by subclassing one of these (or :class:`AanaFactory`) is bound the same
way::

    class ExtendedVideoEntityFactory(VideoEntityFactory):
        class Meta:
            model = ExtendedVideoEntity

        duration = 42.0
"""

from collections.abc import Callable
from typing import Any

import factory
import factory.fuzzy
import greenlet
from factory.alchemy import SQLAlchemyModelFactory

from aana.core.models.asr import AsrSegment, AsrWord
from aana.core.models.media import new_media_id
from aana.core.models.time import TimeInterval
from aana.storage.aio.repository.base import turn_on_the_connection
from aana.storage.models import (
    CaptionEntity,
    MediaEntity,
    Status,
    TaskEntity,
    TranscriptEntity,
    VideoEntity,
    WebhookEntity,
    WebhookEventType,
)
from aana.testing.isolation import current_async_session, current_session


class AanaFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    """Base of the factories: bound to the running test's ``db_session``, flushing on create."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "flush"

    @classmethod
    async def acreate(cls, **kwargs: Any) -> Any:
        """Create and flush an entity in an async test, through its ``async_db_session``.

        Args:
            **kwargs (Any): Attribute values, as for ``create``.

        Returns:
            Any: The entity.
        """
        return await _on_test_session(cls, lambda: cls.create(**kwargs))

    @classmethod
    async def acreate_batch(cls, size: int, **kwargs: Any) -> list[Any]:
        """Create and flush ``size`` entities in an async test, through its ``async_db_session``.

        Args:
            size (int): How many.
            **kwargs (Any): Attribute values, as for ``create_batch``.

        Returns:
            list[Any]: The entities.
        """
        entities: list[Any] = await _on_test_session(cls, lambda: cls.create_batch(size, **kwargs))
        return entities

    @classmethod
    def _create(cls, model_class: type[Any], *args: Any, **kwargs: Any) -> Any:
        # Outside a greenlet of SQLAlchemy's, the async session's flush could not send a
        # statement and would leave the session broken: refuse before touching it.
        if current_async_session() is not None and greenlet.getcurrent().parent is None:
            raise RuntimeError(
                f"{cls.__name__}() in an async test cannot write through async_db_session "
                f"by itself: use `await {cls.__name__}.acreate(...)` (or acreate_batch)"
            )
        return super()._create(model_class, *args, **kwargs)


async def _on_test_session(factory_class: type[AanaFactory], build: Callable[[], Any]) -> Any:
    """Run ``build`` where the test's async session sends statements, taking its turn."""
    session = current_async_session()
    if session is None:
        raise RuntimeError(
            f"{factory_class.__name__}.acreate() needs an async test holding async_db_session; "
            f"with db_session, call {factory_class.__name__}() or .create()"
        )
    async with turn_on_the_connection(session):
        return await session.run_sync(lambda _session: build())


class MediaEntityFactory(AanaFactory):
    """Media rows with unique random media ids."""

    class Meta:
        model = MediaEntity

    id = factory.LazyFunction(new_media_id)


class VideoEntityFactory(MediaEntityFactory):
    """Videos with a path, a URL, a title and a description."""

    class Meta:
        model = VideoEntity

    path = factory.Sequence(lambda n: f"/data/videos/video_{n}.mp4")
    url = factory.Sequence(lambda n: f"https://example.com/videos/video_{n}.mp4")
    title = factory.Sequence(lambda n: f"Video {n}")
    description = factory.LazyAttribute(lambda video: f"Description of {video.title}")


def _segments(text: str, seconds_per_word: float = 0.4) -> list[dict[str, Any]]:
    """Split a text into one-sentence segments with word timings, as an ASR model would."""
    segments: list[dict[str, Any]] = []
    clock = 0.0
    for sentence in filter(None, (part.strip() for part in text.split("."))):
        start = clock
        words = []
        for word in sentence.split():
            words.append(
                AsrWord(
                    word=word,
                    time_interval=TimeInterval(start=clock, end=clock + seconds_per_word),
                    alignment_confidence=0.9,
                )
            )
            clock += seconds_per_word
        segment = AsrSegment(
            text=sentence + ".",
            time_interval=TimeInterval(start=start, end=clock),
            confidence=0.92,
            no_speech_confidence=0.03,
            words=words,
        )
        segments.append(segment.model_dump(mode="json"))
    return segments


class TranscriptEntityFactory(AanaFactory):
    """Transcripts with segments and word timings that match their text."""

    class Meta:
        model = TranscriptEntity

    model = "whisper-large-v3"
    transcript = factory.Sequence(lambda n: f"This is transcript number {n}. It has two sentences.")
    segments = factory.LazyAttribute(lambda entity: _segments(entity.transcript))
    language = "en"
    language_confidence = factory.fuzzy.FuzzyFloat(0.5, 1.0)


class CaptionEntityFactory(AanaFactory):
    """Captions of consecutive frames of a 30 fps video."""

    class Meta:
        model = CaptionEntity

    model = "blip2-opt-2.7b"
    frame_id = factory.Sequence(lambda n: n)
    caption = factory.Sequence(lambda n: f"A person walking a dog, frame {n}")
    timestamp = factory.LazyAttribute(lambda entity: entity.frame_id / 30.0)


class TaskEntityFactory(AanaFactory):
    """New tasks for a transcription endpoint."""

    class Meta:
        model = TaskEntity

    endpoint = "/video/transcribe"
    data = factory.LazyFunction(lambda: {"media_id": new_media_id(), "language": "en"})
    status = Status.CREATED
    priority = 0
    progress = 0.0
    num_retries = 0
    user_id = factory.Sequence(lambda n: f"user_{n % 3}")


class WebhookEntityFactory(AanaFactory):
    """Webhooks of three users, each subscribed to completed and failed tasks.

    ``user_id=None`` makes a system webhook, ``events=[]`` one subscribed to every event.
    """

    class Meta:
        model = WebhookEntity

    user_id = factory.Sequence(lambda n: f"user_{n % 3}")
    url = factory.Sequence(lambda n: f"https://hooks.example.com/aana/{n}")
    events = factory.LazyFunction(
        lambda: [WebhookEventType.TASK_COMPLETED.value, WebhookEventType.TASK_FAILED.value]
    )
