"""A stateful model of the task queue and the media repositories (issue 10).

Two sessions and a raw connection take turns on one database: the sessions through the
repositories, the raw connection with Core statements in committed transactions of its own.
After every step each answer is checked against an in-memory model, and neither session may
hold a transaction (nor, on SQLite, the write lock). The sessions keep the objects they were
given, as an application would, so a stale identity map shows up as a wrong answer.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete, event
from transaction_rule_support import (
    CAPTIONS,
    MEDIA,
    TASKS,
    VIDEOS,
    assert_nothing_held,
    raw_delete_caption,
    raw_delete_media,
    raw_delete_task,
    raw_insert_caption,
    raw_insert_task,
    raw_insert_video,
    raw_set_caption,
    raw_set_task,
    raw_set_title,
    rule_engine,
)
from transaction_workers import sessions

from aana.core.models import Video
from aana.exceptions.db import (
    MediaIdAlreadyExistsException,
    NotFoundException,
    StaleTaskUpdateException,
)
from aana.storage.models.task import Status
from aana.storage.repository import CaptionRepository, TaskRepository, VideoRepository
from aana.storage.repository.task import ALLOWED_FROM

# About 20 s on SQLite and 45 s on PostgreSQL on a loaded two-core machine.
MODEL_SETTINGS = settings(
    max_examples=50,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

MAX_RETRIES = 3
RETRYABLE = "Boom"
ACTIVE = {Status.ASSIGNED, Status.RUNNING}
FINISHED = {Status.COMPLETED, Status.FAILED}
MEDIA_IDS = [f"m{n}" for n in range(5)]

who = st.sampled_from([0, 1])
priorities = st.integers(-3, 3)
titles = st.sampled_from(["a", "b", ""])
raw_titles = st.sampled_from(["a", "c", None])
statuses = st.sampled_from(
    [Status.ASSIGNED, Status.RUNNING, Status.COMPLETED, Status.FAILED, Status.NOT_FINISHED]
)


@dataclass
class Task:
    priority: int
    status: Status = Status.CREATED
    progress: float = 0.0
    num_retries: int = 0
    result: Any = None


@dataclass
class Model:
    tasks: dict[uuid.UUID, Task] = field(default_factory=dict)
    videos: dict[str, str | None] = field(default_factory=dict)
    captions: dict[int, str] = field(default_factory=dict)

    def claimable(self, retrying: bool) -> set[uuid.UUID]:
        return {
            task_id
            for task_id, task in self.tasks.items()
            if task.status in (Status.CREATED, Status.NOT_FINISHED)
            or (
                retrying
                and task.status == Status.FAILED
                and task.num_retries < MAX_RETRIES
                and isinstance(task.result, dict)
                and task.result.get("error") == RETRYABLE
            )
        }


class QueueAndMedia(RuleBasedStateMachine):
    """Two sessions and a raw connection, checked against :class:`Model` after every step."""

    engine: Engine

    task_ids = Bundle("task_ids")
    caption_ids = Bundle("caption_ids")

    def __init__(self) -> None:
        super().__init__()
        with self.engine.begin() as connection:
            for table in (CAPTIONS, VIDEOS, MEDIA, TASKS):
                connection.execute(delete(table))
        factory = sessions(self.engine)
        self.sessions = [factory(), factory()]
        self.model = Model()
        self.held: list[Any] = []  # what the application keeps: the sessions' identity maps

    def hold(self, value: Any) -> Any:
        self.held.append(value)
        del self.held[:-60]
        return value

    def teardown(self) -> None:
        for session in self.sessions:
            session.close()

    @initialize()
    def start(self) -> None:
        pass

    # --- tasks -----------------------------------------------------------------------------

    @rule(target=task_ids, s=who, priority=priorities)
    def save_task(self, s: int, priority: int) -> uuid.UUID:
        task = self.hold(
            TaskRepository(self.sessions[s]).save("ep", {"p": priority}, priority=priority)
        )
        assert task.status == Status.CREATED
        self.model.tasks[task.id] = Task(priority)
        return task.id

    @rule(target=task_ids, priority=priorities)
    def raw_save_task(self, priority: int) -> uuid.UUID:
        task_id = raw_insert_task(self.engine, priority=priority)
        self.model.tasks[task_id] = Task(priority)
        return task_id

    @rule(
        s=who,
        task_id=task_ids,
        status=statuses,
        progress=st.none() | st.sampled_from([0.0, 42.5, 100.0]),
    )
    def update_status(
        self, s: int, task_id: uuid.UUID, status: Status, progress: float | None
    ) -> None:
        tasks = TaskRepository(self.sessions[s])
        result = {"error": RETRYABLE} if status == Status.FAILED else None
        expected = self.model.tasks.get(task_id)
        if expected is None:
            with pytest.raises(NotFoundException):
                tasks.update_status(task_id, status, progress, result)
            return
        if expected.status not in ALLOWED_FROM[status]:
            with pytest.raises(StaleTaskUpdateException):
                tasks.update_status(task_id, status, progress, result)
            return
        task = self.hold(tasks.update_status(task_id, status, progress, result))
        expected.status = status
        if progress is not None:
            expected.progress = progress
        if result is not None:
            expected.result = result
        if status == Status.ASSIGNED:
            expected.num_retries += 1
        self.check_task(task, expected)

    @rule(task_id=task_ids, status=statuses)
    def raw_update_status(self, task_id: uuid.UUID, status: Status) -> None:
        changed = raw_set_task(self.engine, task_id, status=status)
        assert changed == (task_id in self.model.tasks)
        if changed:
            self.model.tasks[task_id].status = status

    @rule(s=who, task_id=task_ids)
    def retry_task(self, s: int, task_id: uuid.UUID) -> None:
        tasks = TaskRepository(self.sessions[s])
        if task_id not in self.model.tasks:
            with pytest.raises(NotFoundException):
                tasks.retry_task(task_id)
            return
        expected = Task(self.model.tasks[task_id].priority)
        self.model.tasks[task_id] = expected
        self.check_task(self.hold(tasks.retry_task(task_id)), expected)

    @rule(s=who, task_id=task_ids, check=st.booleans())
    def delete_task(self, s: int, task_id: uuid.UUID, check: bool) -> None:
        tasks = TaskRepository(self.sessions[s])
        if task_id in self.model.tasks:
            assert tasks.delete(task_id, check=check).id == task_id
            del self.model.tasks[task_id]
        elif check:
            with pytest.raises(NotFoundException):
                tasks.delete(task_id, check=True)
        else:
            assert tasks.delete(task_id) is None

    @rule(task_id=task_ids)
    def raw_delete_task(self, task_id: uuid.UUID) -> None:
        assert raw_delete_task(self.engine, task_id) == (task_id in self.model.tasks)
        self.model.tasks.pop(task_id, None)

    @rule(s=who, limit=st.none() | st.integers(0, 3), retrying=st.booleans())
    def fetch(self, s: int, limit: int | None, retrying: bool) -> None:
        claimable = self.model.claimable(retrying)
        claimed = self.hold(
            TaskRepository(self.sessions[s]).fetch_unprocessed_tasks(
                limit=limit,
                max_retries=MAX_RETRIES,
                retryable_exceptions=[RETRYABLE] if retrying else None,
            )
        )
        ids = {task.id for task in claimed}
        assert len(ids) == len(claimed)
        assert ids <= claimable, ids - claimable
        assert len(ids) == (len(claimable) if limit is None else min(limit, len(claimable)))
        left = claimable - ids
        if ids and left:
            lowest = min(self.model.tasks[i].priority for i in ids)
            assert lowest >= max(self.model.tasks[i].priority for i in left)
        for task in claimed:
            expected = self.model.tasks[task.id]
            expected.status = Status.ASSIGNED
            expected.num_retries += 1
            self.check_task(task, expected)

    @rule(s=who, task_id=task_ids)
    def read_task(self, s: int, task_id: uuid.UUID) -> None:
        tasks = TaskRepository(self.sessions[s])
        expected = self.model.tasks.get(task_id)
        if expected is None:
            with pytest.raises(NotFoundException):
                tasks.read(task_id)
        else:
            self.check_task(self.hold(tasks.read(task_id)), expected)

    @rule(s=who)
    def list_tasks(self, s: int) -> None:
        tasks = TaskRepository(self.sessions[s])
        listed = self.hold(tasks.get_tasks(limit=1000))
        assert {t.id: t.status for t in listed} == {
            i: t.status for i, t in self.model.tasks.items()
        }
        active = self.hold(tasks.get_active_tasks())
        assert {t.id for t in active} == {
            i for i, t in self.model.tasks.items() if t.status in ACTIVE
        }
        counts = tasks.count()
        for status in Status:
            assert counts[status.value] == sum(
                1 for t in self.model.tasks.values() if t.status == status
            ), status
        assert counts["total"] == len(self.model.tasks)

    @rule(s=who, data=st.data())
    def filter_incomplete(self, s: int, data: st.DataObject) -> None:
        known = sorted(self.model.tasks, key=str)
        asked = data.draw(st.lists(st.sampled_from(known), unique=True)) if known else []
        asked.append(uuid.uuid4())
        incomplete = TaskRepository(self.sessions[s]).filter_incomplete_tasks(asked)
        # As in the Aana SDK, a task requeued as not_finished is no longer running.
        assert incomplete == [
            str(i)
            for i in asked
            if i in self.model.tasks
            and self.model.tasks[i].status not in {*FINISHED, Status.NOT_FINISHED}
        ]

    @rule(s=who)
    def heartbeat_and_expire(self, s: int) -> None:
        tasks = TaskRepository(self.sessions[s])
        tasks.heartbeat(list(self.model.tasks))
        assert tasks.update_expired_tasks(3600, 3600, MAX_RETRIES) == []

    def check_task(self, task: Any, expected: Task) -> None:
        assert (task.status, task.priority, task.progress, task.num_retries) == (
            expected.status,
            expected.priority,
            expected.progress,
            expected.num_retries,
        )
        assert task.result == expected.result

    # --- videos ----------------------------------------------------------------------------

    @rule(s=who, media_id=st.sampled_from(MEDIA_IDS), title=titles)
    def save_video(self, s: int, media_id: str, title: str) -> None:
        videos = VideoRepository(self.sessions[s])
        if media_id in self.model.videos:
            with pytest.raises(MediaIdAlreadyExistsException):
                videos.save(Video(media_id=media_id, title=title))
        else:
            assert videos.save(Video(media_id=media_id, title=title)) == {"media_id": media_id}
            self.model.videos[media_id] = title

    @rule(media_id=st.sampled_from(MEDIA_IDS), title=raw_titles)
    def raw_save_or_retitle_video(self, media_id: str, title: str | None) -> None:
        if media_id in self.model.videos:
            assert raw_set_title(self.engine, media_id, title) == 1
        else:
            raw_insert_video(self.engine, media_id, title)
        self.model.videos[media_id] = title

    @rule(media_id=st.sampled_from(MEDIA_IDS))
    def raw_delete_video(self, media_id: str) -> None:
        assert raw_delete_media(self.engine, media_id) == (media_id in self.model.videos)
        self.model.videos.pop(media_id, None)

    @rule(s=who, media_id=st.sampled_from(MEDIA_IDS), check=st.booleans())
    def delete_video(self, s: int, media_id: str, check: bool) -> None:
        videos = VideoRepository(self.sessions[s])
        if media_id in self.model.videos:
            assert videos.delete(media_id, check=check).id == media_id
            del self.model.videos[media_id]
        elif check:
            with pytest.raises(NotFoundException):
                videos.delete(media_id, check=True)
        else:
            assert videos.delete(media_id, check=False) is None

    @rule(s=who, media_id=st.sampled_from(MEDIA_IDS))
    def read_video(self, s: int, media_id: str) -> None:
        videos = VideoRepository(self.sessions[s])
        exists = media_id in self.model.videos
        assert videos.check_media_exists(media_id) == exists
        if not exists:
            with pytest.raises(NotFoundException):
                videos.read(media_id)
            with pytest.raises(NotFoundException):
                videos.get_metadata(media_id)
            return
        assert self.hold(videos.read(media_id)).title == self.model.videos[media_id]
        assert videos.get_metadata(media_id).title == (self.model.videos[media_id] or "")

    # --- captions ----------------------------------------------------------------------------

    @rule(
        target=caption_ids,
        s=who,
        texts=st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3),
    )
    def save_captions(self, s: int, texts: list[str]) -> Any:
        frames = list(range(len(texts)))
        saved = self.hold(
            CaptionRepository(self.sessions[s]).save_all("m", texts, [1.0] * len(texts), frames)
        )
        ids = [caption.id for caption in saved]
        assert len(set(ids)) == len(ids) and not set(ids) & set(self.model.captions)
        self.model.captions.update(zip(ids, texts, strict=True))
        return multiple(*ids)

    @rule(target=caption_ids, text=st.sampled_from(["x", "y"]))
    def raw_save_caption(self, text: str) -> int:
        caption_id = raw_insert_caption(self.engine, "raw", 0, text)
        assert caption_id not in self.model.captions
        self.model.captions[caption_id] = text
        return caption_id

    @rule(caption_id=caption_ids, text=st.sampled_from(["p", "q"]))
    def raw_update_caption(self, caption_id: int, text: str) -> None:
        changed = raw_set_caption(self.engine, caption_id, text)
        assert changed == (caption_id in self.model.captions)
        if changed:
            self.model.captions[caption_id] = text

    @rule(caption_id=caption_ids)
    def raw_delete_caption(self, caption_id: int) -> None:
        assert raw_delete_caption(self.engine, caption_id) == (caption_id in self.model.captions)
        self.model.captions.pop(caption_id, None)

    @rule(s=who, caption_id=caption_ids)
    def read_caption(self, s: int, caption_id: int) -> None:
        captions = CaptionRepository(self.sessions[s])
        if caption_id in self.model.captions:
            caption = self.hold(captions.read(caption_id))
            assert caption.caption == self.model.captions[caption_id]
        else:
            with pytest.raises(NotFoundException):
                captions.read(caption_id)

    @rule(s=who, caption_id=caption_ids, check=st.booleans())
    def delete_caption(self, s: int, caption_id: int, check: bool) -> None:
        captions = CaptionRepository(self.sessions[s])
        if caption_id in self.model.captions:
            assert captions.delete(caption_id, check=check).id == caption_id
            del self.model.captions[caption_id]
        elif check:
            with pytest.raises(NotFoundException):
                captions.delete(caption_id, check=True)
        else:
            assert captions.delete(caption_id, check=False) is None

    # --- after every step ----------------------------------------------------------------------

    @invariant()
    def nothing_held(self) -> None:
        for session in self.sessions:
            assert_nothing_held(session, self.engine)


@pytest.fixture
def model_engine(transactional_db_engine: Engine) -> Iterator[Engine]:
    """The run's database; on PostgreSQL a lock wait fails after 5 s instead of hanging."""
    with rule_engine(transactional_db_engine) as engine:
        if engine.dialect.name != "postgresql":
            yield engine
            return

        def lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SET lock_timeout = '5s'")
            dbapi_connection.autocommit = False

        event.listen(engine, "connect", lock_timeout)
        engine.dispose()  # pooled connections predate the listener
        try:
            yield engine
        finally:
            event.remove(engine, "connect", lock_timeout)


def test_two_sessions_and_a_raw_connection(model_engine: Engine) -> None:
    machine = type("Machine", (QueueAndMedia,), {"engine": model_engine})
    run_state_machine_as_test(machine, settings=MODEL_SETTINGS)
