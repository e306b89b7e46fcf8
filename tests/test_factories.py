"""The project's test-data builders (tests/factories) build what they say, on each backend."""

import datetime

from factories import media_with_outputs, task_queue
from factories.tasks import EXECUTION_TIMEOUT
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aana.storage.models import CaptionEntity, Status, TaskEntity, TranscriptEntity
from aana.storage.repository import TaskRepository
from aana.storage.types import utc_now


def test_a_media_item_comes_with_its_transcript_and_captions(db_session: Session) -> None:
    media = media_with_outputs(captions=4, title="Dogs")
    assert media.video.title == "Dogs"
    assert [caption.frame_id for caption in media.captions] == [0, 1, 2, 3]
    assert media.captions[2].caption == "Dogs, frame 2"
    assert db_session.scalar(select(func.count()).select_from(CaptionEntity)) == 4
    assert db_session.get(TranscriptEntity, media.transcript.id) is media.transcript
    assert media.transcript.segments[0]["text"].endswith(".")


def test_a_task_queue_has_a_task_in_every_state(db_session: Session) -> None:
    queue = task_queue(utc_now(), retries=2)
    statuses = db_session.scalars(select(TaskEntity.status)).all()
    assert set(statuses) == set(Status)
    assert len(statuses) == len(Status) + 2
    assert queue.retried.num_retries == 2
    assert queue.by_status[Status.COMPLETED].completed_at is not None
    assert queue.by_status[Status.CREATED].assigned_at is None


def test_only_the_expired_task_expires(db_session: Session) -> None:
    queue = task_queue(utc_now())
    timeout = EXECUTION_TIMEOUT.total_seconds()
    expired = TaskRepository(db_session).update_expired_tasks(
        execution_timeout=timeout, heartbeat_timeout=timeout, max_retries=3
    )
    assert [task.id for task in expired] == [queue.expired.id]
    active = {task.id for task in TaskRepository(db_session).get_active_tasks()}
    assert active == {queue.by_status[Status.ASSIGNED].id, queue.by_status[Status.RUNNING].id}


def test_the_queue_is_built_around_the_given_now(db_session: Session) -> None:
    now = utc_now() - datetime.timedelta(days=1)
    queue = task_queue(now)
    assert queue.expired.assigned_at == now - 2 * EXECUTION_TIMEOUT
    assert queue.by_status[Status.RUNNING].assigned_at == now - datetime.timedelta(minutes=1)
