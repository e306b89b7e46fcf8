"""One transaction rule for every repository method (issue 10), and the faults it closes.

A repository method called outside a transaction (or after an autobegun one, which it commits
first) runs in a transaction of its own and ends it, committed or rolled back entirely: the
session then holds no transaction, no SQLite lock and no read snapshot. Inside a transaction
the caller began it works in a SAVEPOINT and commits nothing. Every read returns the
database's current state. These tests run on both backends.
"""

import datetime
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from either import CaptionRepository, TaskRepository, VideoRepository, open_session
from halves import Half
from reliability_workers import recorded_sql
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session
from transaction_rule_support import (
    MEDIA,
    assert_nothing_held,
    emptied,
    no_sa_warning,
    raw_age_task,
    raw_delete_caption,
    raw_delete_media,
    raw_delete_task,
    raw_insert_caption,
    raw_insert_task,
    raw_insert_video,
    raw_media_ids,
    raw_set_caption,
    raw_set_task,
    raw_set_title,
    raw_task,
    raw_task_count,
    rule_engine,
)

from aana.core.models import Video
from aana.exceptions.db import (
    CheckViolation,
    InvalidValueException,
    MediaIdAlreadyExistsException,
    NotFoundException,
)
from aana.storage.models.task import Status
from aana.storage.types import utc_now
from aana.testing.backends import TestDatabases


@pytest.fixture(scope="module")
def rule_database(aana_test_databases: TestDatabases, aana_template: None) -> Iterator[Engine]:
    """A migrated database with real commits, for the whole module.

    Cloning a database for each of the module's 200 tests cost a quarter of a second each on
    PostgreSQL; emptying the tables after each test (:func:`emptied`) costs a few milliseconds.
    """
    engine = aana_test_databases.create(aana_test_databases.new_name(), from_template=True)
    yield engine
    aana_test_databases.drop(engine)


@pytest.fixture
def engine(rule_database: Engine) -> Iterator[Engine]:
    with emptied(rule_database), rule_engine(rule_database) as engine:
        yield engine


@pytest.fixture
def session(engine: Engine, half: Half) -> Iterator[Session]:
    with half.session(engine, expire_on_commit=False) as session:
        yield session


@dataclass
class Seed:
    task: uuid.UUID
    video: str
    caption: int


@pytest.fixture
def seed(engine: Engine) -> Seed:
    """A task, a video and a caption, committed by another connection."""
    task = raw_insert_task(engine, status=Status.RUNNING)
    raw_insert_video(engine, "seed-video", title="seed")
    caption = raw_insert_caption(engine, "seed-model", 0)
    return Seed(task, "seed-video", caption)


# --- the rule: nothing is left open -----------------------------------------------------------

Call = Callable[[Session, Seed], Any]

CALLS: dict[str, Call] = {
    "task read": lambda s, seed: TaskRepository(s).read(seed.task),
    "get_tasks": lambda s, seed: TaskRepository(s).get_tasks(),
    "get_active_tasks": lambda s, seed: TaskRepository(s).get_active_tasks(),
    "count": lambda s, seed: TaskRepository(s).count(),
    "filter_incomplete_tasks": lambda s, seed: TaskRepository(s).filter_incomplete_tasks(
        [seed.task]
    ),
    "check_media_exists": lambda s, seed: VideoRepository(s).check_media_exists(seed.video),
    "get_metadata": lambda s, seed: VideoRepository(s).get_metadata(seed.video),
    "video read": lambda s, seed: VideoRepository(s).read(seed.video),
    "caption read": lambda s, seed: CaptionRepository(s).read(seed.caption),
    "task save": lambda s, seed: TaskRepository(s).save("ep", {"n": 1}),
    "update_status": lambda s, seed: TaskRepository(s).update_status(
        seed.task, Status.RUNNING, progress=5.0
    ),
    "retry_task": lambda s, seed: TaskRepository(s).retry_task(seed.task),
    "fetch_unprocessed_tasks": lambda s, seed: TaskRepository(s).fetch_unprocessed_tasks(),
    "heartbeat": lambda s, seed: TaskRepository(s).heartbeat([seed.task]),
    "update_expired_tasks": lambda s, seed: TaskRepository(s).update_expired_tasks(60, 60, 3),
    "task delete": lambda s, seed: TaskRepository(s).delete(seed.task, check=True),
    "video save": lambda s, seed: VideoRepository(s).save(Video(media_id="new-video")),
    "video delete": lambda s, seed: VideoRepository(s).delete(seed.video),
    "caption save": lambda s, seed: CaptionRepository(s).save("m", "c", 1.0, 1),
    "caption save_all": lambda s, seed: CaptionRepository(s).save_all(
        "m", ["a", "b"], [1, 2], [1, 2]
    ),
    "caption delete": lambda s, seed: CaptionRepository(s).delete(seed.caption),
}

FAILING_CALLS: dict[str, tuple[Call, type[Exception]]] = {
    "taken media id": (
        lambda s, seed: VideoRepository(s).save(Video(media_id=seed.video)),
        MediaIdAlreadyExistsException,
    ),
    "check violation": (
        lambda s, seed: CaptionRepository(s).save("m", "c", 1.0, -1),
        CheckViolation,
    ),
    "missing video": (lambda s, seed: VideoRepository(s).read("missing"), NotFoundException),
    "missing task delete": (
        lambda s, seed: TaskRepository(s).delete(uuid.uuid4(), check=True),
        NotFoundException,
    ),
    "missing task update": (
        lambda s, seed: TaskRepository(s).update_status(uuid.uuid4(), Status.RUNNING),
        NotFoundException,
    ),
    "priority out of range": (
        lambda s, seed: TaskRepository(s).save("ep", {}, priority=2**70),
        InvalidValueException,
    ),
    "nan progress": (
        lambda s, seed: TaskRepository(s).update_status(seed.task, Status.RUNNING, math.nan),
        InvalidValueException,
    ),
}


def assert_no_snapshot(session: Session, engine: Engine, media_id: str) -> None:
    """A row another connection commits now is seen by the session's next read."""
    raw_insert_video(engine, media_id)
    assert VideoRepository(session).check_media_exists(media_id), "stale read snapshot"


@pytest.mark.parametrize("name", list(CALLS))
def test_a_call_leaves_nothing_open(
    name: str, engine: Engine, session: Session, seed: Seed
) -> None:
    CALLS[name](session, seed)
    assert_nothing_held(session, engine)
    assert_no_snapshot(session, engine, "committed-meanwhile")


@pytest.mark.parametrize("name", list(FAILING_CALLS))
def test_a_failed_call_leaves_nothing_open(
    name: str, engine: Engine, session: Session, seed: Seed
) -> None:
    call, expected = FAILING_CALLS[name]
    before = raw_task(engine, seed.task)
    with pytest.raises(expected):
        call(session, seed)
    assert_nothing_held(session, engine)
    assert_no_snapshot(session, engine, "committed-meanwhile")
    # Rolled back entirely: the seeded task is as it was, and the session goes on.
    assert raw_task(engine, seed.task) == before
    assert VideoRepository(session).save(Video(media_id="after-the-error"))
    assert "after-the-error" in raw_media_ids(engine)
    assert_nothing_held(session, engine)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("count", None), ("video save", None), ("taken media id", MediaIdAlreadyExistsException)],
)
def test_an_autobegun_transaction_is_committed_first(
    name: str, expected: type[Exception] | None, engine: Engine, session: Session, seed: Seed
) -> None:
    """The caller's own plain ``session.execute`` autobegan a transaction: the call commits it."""
    session.execute(insert(MEDIA).values(id="callers-row", media_type="media"))
    assert session.in_transaction()
    if expected is None:
        CALLS[name](session, seed)
    else:
        with pytest.raises(expected):
            FAILING_CALLS[name][0](session, seed)
    assert "callers-row" in raw_media_ids(engine)
    assert_nothing_held(session, engine)


# --- the rule: inside the caller's transaction --------------------------------------------------


def test_inside_session_begin_a_savepoint_and_no_commit(
    engine: Engine, session: Session, seed: Seed
) -> None:
    videos = VideoRepository(session)
    with session.begin():
        videos.save(Video(media_id="in-tx-1"))
        with pytest.raises(MediaIdAlreadyExistsException):
            videos.save(Video(media_id=seed.video))
        # Only the failed save was undone; the outer transaction is usable and uncommitted.
        assert session.in_transaction()
        assert videos.check_media_exists("in-tx-1")
        with pytest.raises(MediaIdAlreadyExistsException):
            videos.create_multiple(
                [
                    videos.model_class(id="in-tx-partial"),
                    videos.model_class(id=seed.video),
                ]
            )
        videos.save(Video(media_id="in-tx-2"))
        assert session.in_transaction()
        assert raw_media_ids(engine) == {seed.video}, "a call committed the caller's transaction"
    assert raw_media_ids(engine) == {seed.video, "in-tx-1", "in-tx-2"}
    assert_nothing_held(session, engine)


def test_inside_begin_nested_a_savepoint_and_no_commit(
    engine: Engine, session: Session, seed: Seed
) -> None:
    videos = VideoRepository(session)
    session.begin()
    nested = session.begin_nested()
    videos.save(Video(media_id="nested-1"))
    with pytest.raises(MediaIdAlreadyExistsException):
        videos.save(Video(media_id=seed.video))
    assert nested.is_active and session.in_transaction()
    assert raw_media_ids(engine) == {seed.video}, "a call committed the caller's transaction"
    nested.rollback()
    videos.save(Video(media_id="nested-2"))
    assert raw_media_ids(engine) == {seed.video}
    session.commit()
    assert raw_media_ids(engine) == {seed.video, "nested-2"}
    assert_nothing_held(session, engine)


def test_after_update_status_without_commit_nothing_is_committed(
    engine: Engine, session: Session, seed: Seed
) -> None:
    tasks, videos = TaskRepository(session), VideoRepository(session)
    tasks.update_status(seed.task, Status.COMPLETED, progress=100.0, commit=False)
    with pytest.raises(MediaIdAlreadyExistsException):
        videos.save(Video(media_id=seed.video))
    assert session.in_transaction()
    videos.save(Video(media_id="uncommitted"))
    tasks.save("ep", {"n": 1})
    assert session.in_transaction()
    assert raw_task(engine, seed.task).status == Status.RUNNING, "the caller's work was committed"
    assert raw_media_ids(engine) == {seed.video}
    assert raw_task_count(engine) == 1
    session.rollback()
    assert raw_task(engine, seed.task).status == Status.RUNNING
    assert raw_media_ids(engine) == {seed.video}
    assert raw_task_count(engine) == 1


@pytest.mark.parametrize(
    "name",
    ["task read", "get_tasks", "count", "check_media_exists", "video save", "update_status"],
)
def test_a_call_after_update_status_without_commit_commits_nothing(
    name: str, engine: Engine, session: Session, seed: Seed
) -> None:
    """``commit=False`` leaves the transaction to the caller: later calls work inside it."""
    TaskRepository(session).update_status(seed.task, Status.COMPLETED, commit=False)
    if name == "update_status":
        TaskRepository(session).update_status(seed.task, Status.FAILED, commit=False)
    else:
        CALLS[name](session, seed)
    assert session.in_transaction()
    assert raw_task(engine, seed.task).status == Status.RUNNING, "the caller's work was committed"
    session.rollback()
    assert raw_task(engine, seed.task).status == Status.RUNNING
    assert raw_media_ids(engine) == {seed.video}


# --- fault 2: stale reads ---------------------------------------------------------------------


def test_task_reads_are_current(engine: Engine, session: Session) -> None:
    tasks = TaskRepository(session)
    held = tasks.save("ep", {"n": 1})  # the session holds the task from here on
    task_id = held.id
    assert tasks.read(task_id).status == Status.CREATED
    with open_session(engine, expire_on_commit=False) as other:
        TaskRepository(other).update_status(task_id, Status.ASSIGNED)
        TaskRepository(other).update_status(task_id, Status.RUNNING, progress=10.0)
    assert tasks.read(task_id).status == Status.RUNNING
    assert tasks.read(task_id).progress == 10.0
    assert [(t.id, t.status) for t in tasks.get_tasks()] == [(task_id, Status.RUNNING)]
    assert [(t.id, t.status) for t in tasks.get_active_tasks()] == [(task_id, Status.RUNNING)]
    assert tasks.count()["running"] == 1
    assert tasks.filter_incomplete_tasks([task_id]) == [str(task_id)]
    raw_set_task(engine, task_id, status=Status.COMPLETED, progress=100.0, result={"ok": 1})
    held_list = tasks.get_tasks()
    read = tasks.read(task_id)
    assert (read.status, read.progress, read.result) == (Status.COMPLETED, 100.0, {"ok": 1})
    assert [t.status for t in tasks.get_tasks()] == [Status.COMPLETED]
    assert tasks.get_active_tasks() == []
    assert tasks.count()["completed"] == 1 and tasks.count()["running"] == 0
    assert tasks.filter_incomplete_tasks([task_id]) == []
    assert held_list[0].status == Status.COMPLETED and held.id == task_id


def test_task_deleted_elsewhere_is_not_found(engine: Engine, session: Session) -> None:
    tasks = TaskRepository(session)
    held = tasks.save("ep", {"n": 1})
    task_id = held.id
    assert tasks.read(task_id) is not None
    assert raw_delete_task(engine, task_id) == 1
    with pytest.raises(NotFoundException):
        tasks.read(task_id)
    assert tasks.read(task_id, check=False) is None
    assert tasks.get_tasks() == []
    assert tasks.count()["total"] == 0
    with no_sa_warning(), pytest.raises(NotFoundException):
        tasks.delete(task_id, check=True)
    with no_sa_warning():
        assert tasks.delete(task_id) is None
    assert held.id == task_id
    assert_nothing_held(session, engine)


def test_video_reads_are_current(engine: Engine, session: Session) -> None:
    videos = VideoRepository(session)
    videos.save(Video(media_id="v", title="old"))
    held = videos.read("v")  # the session holds the video from here on
    assert held.title == "old"
    assert raw_set_title(engine, "v", "new") == 1
    assert videos.read("v").title == "new"
    assert videos.get_metadata("v").title == "new"
    assert raw_delete_media(engine, "v") == 1
    assert videos.check_media_exists("v") is False
    with pytest.raises(NotFoundException):
        videos.read("v")
    with pytest.raises(NotFoundException):
        videos.get_metadata("v")
    with no_sa_warning(), pytest.raises(NotFoundException):
        videos.delete("v", check=True)
    assert held.id == "v"
    assert_nothing_held(session, engine)


def test_caption_reads_are_current(engine: Engine, session: Session) -> None:
    captions = CaptionRepository(session)
    held = captions.save("m", "old", 1.0, 1)  # the session holds the caption from here on
    caption_id = held.id
    assert captions.read(caption_id).caption == "old"
    assert raw_set_caption(engine, caption_id, "new") == 1
    assert captions.read(caption_id).caption == "new"
    assert raw_delete_caption(engine, caption_id) == 1
    with pytest.raises(NotFoundException):
        captions.read(caption_id)
    with no_sa_warning(), pytest.raises(NotFoundException):
        captions.delete(caption_id, check=True)
    assert held.id == caption_id
    assert_nothing_held(session, engine)


# --- fault 4: read, another connection commits, then write --------------------------------------


def test_check_media_exists_then_save(engine: Engine, session: Session) -> None:
    videos = VideoRepository(session)
    assert videos.check_media_exists("mine") is False
    raw_insert_video(engine, "theirs")
    assert videos.save(Video(media_id="mine")) == {"media_id": "mine"}
    assert raw_media_ids(engine) == {"mine", "theirs"}
    assert_nothing_held(session, engine)


def test_caption_read_then_save_all(engine: Engine, session: Session) -> None:
    captions = CaptionRepository(session)
    first = captions.save("m", "first", 0.0, 0).id
    captions.read(first)
    theirs = raw_insert_caption(engine, "other", 5)
    saved = captions.save_all("m", ["a", "b"], [1.0, 2.0], [1, 2])
    ids = [caption.id for caption in saved]
    assert len(set(ids)) == 2 and theirs not in ids and first not in ids
    assert [captions.read(i).caption for i in ids] == ["a", "b"]
    assert_nothing_held(session, engine)


def test_read_then_delete(engine: Engine, session: Session) -> None:
    videos = VideoRepository(session)
    videos.save(Video(media_id="doomed"))
    videos.read("doomed")
    raw_insert_video(engine, "theirs")
    assert videos.delete("doomed").id == "doomed"
    assert raw_media_ids(engine) == {"theirs"}
    assert_nothing_held(session, engine)


def test_task_read_then_save(engine: Engine, session: Session) -> None:
    tasks = TaskRepository(session)
    tasks.get_tasks()
    raw_insert_task(engine)
    tasks.save("ep", {"n": 1})
    assert raw_task_count(engine) == 2
    assert_nothing_held(session, engine)


# --- fault 1: NUL and lone surrogates ---------------------------------------------------------

BAD_CHARACTERS = {"nul": "\x00", "surrogate": "\ud800", "escaped byte": "clip-\udcff.mp4"}


def poisoned(bad: str) -> dict[str, Any]:
    return {
        "value": bad,
        "in a value": {"path": f"a{bad}b"},
        "in a key": {f"k{bad}": 1},
        "nested value": {"a": [1, {"b": [bad]}]},
        "nested key": {"a": {"b": {bad: "v"}}},
        "in a list": ["ok", bad],
    }


POISONED = [
    pytest.param(payload, id=f"{name}-{shape}")
    for name, bad in BAD_CHARACTERS.items()
    for shape, payload in poisoned(bad).items()
]


@pytest.mark.parametrize("data", POISONED)
def test_save_refuses_unstorable_text_before_sql(
    data: Any, engine: Engine, session: Session
) -> None:
    tasks = TaskRepository(session)
    with recorded_sql(engine) as statements, pytest.raises(InvalidValueException):
        tasks.save("ep", data)
    assert statements == []
    assert raw_task_count(engine) == 0
    tasks.save("ep", {"fine": True})
    assert raw_task_count(engine) == 1
    assert_nothing_held(session, engine)


@pytest.mark.parametrize("result", POISONED)
def test_update_status_refuses_unstorable_text_before_sql(
    result: Any, engine: Engine, session: Session
) -> None:
    tasks = TaskRepository(session)
    task_id = raw_insert_task(engine, status=Status.RUNNING)
    with recorded_sql(engine) as statements, pytest.raises(InvalidValueException):
        tasks.update_status(task_id, Status.FAILED, result=result)
    assert statements == []
    stored = raw_task(engine, task_id)
    assert (stored.status, stored.result) == (Status.RUNNING, None)
    tasks.update_status(task_id, Status.FAILED, result={"error": "Fine"})
    assert raw_task(engine, task_id).result == {"error": "Fine"}
    assert_nothing_held(session, engine)


STORED_POISON = {
    "nul in the error": '{"error": "Boom\\u0000"}',
    "surrogate in the error": '{"error": "\\ud800"}',
    "nul elsewhere": '{"error": "Boom", "message": "a\\u0000b"}',
    "surrogate elsewhere": '{"error": "Boom", "path": "\\udcff"}',
    "nul in a key": '{"\\u0000": 1, "error": "Boom"}',
    "surrogate in a list": '{"error": ["\\ud800"]}',
}


@pytest.mark.parametrize("raw_result", list(STORED_POISON.values()), ids=list(STORED_POISON))
def test_a_stored_poison_row_does_not_stop_the_queue(
    raw_result: str, engine: Engine, session: Session
) -> None:
    poison = raw_insert_task(engine, status=Status.FAILED, raw_result=raw_result)
    retryable = raw_insert_task(engine, status=Status.FAILED, result={"error": "Boom"})
    fresh = raw_insert_task(engine)
    tasks = TaskRepository(session)

    def claim() -> set[uuid.UUID]:
        claimed = tasks.fetch_unprocessed_tasks(
            max_retries=3, retryable_exceptions=["Boom", "OSError"]
        )
        return {task.id for task in claimed}

    first = claim()
    assert {retryable, fresh} <= first <= {poison, retryable, fresh}
    second = claim()  # the next worker's claim fails no more than the first
    assert second <= {poison} and not first & second
    assert raw_task(engine, retryable).status == Status.ASSIGNED
    assert raw_task(engine, fresh).status == Status.ASSIGNED
    assert raw_task(engine, poison).status in (Status.FAILED, Status.ASSIGNED)
    assert_nothing_held(session, engine)


# --- fault 6: values the columns cannot hold ------------------------------------------------------


@pytest.mark.parametrize(
    "progress", [10**400, "abc", math.nan, math.inf], ids=["10**400", "abc", "nan", "inf"]
)
def test_update_status_refuses_bad_progress_before_sql(
    progress: Any, engine: Engine, session: Session
) -> None:
    tasks = TaskRepository(session)
    task_id = raw_insert_task(engine, status=Status.RUNNING)
    with recorded_sql(engine) as statements, pytest.raises(InvalidValueException):
        tasks.update_status(task_id, Status.RUNNING, progress=progress)
    assert statements == []
    assert_nothing_held(session, engine)
    assert raw_task(engine, task_id).progress == 0.0
    assert tasks.update_status(task_id, Status.RUNNING, progress=50.0).progress == 50.0
    assert raw_task(engine, task_id).progress == 50.0


@pytest.mark.parametrize("priority", [2**31, 2**70, "x", True], ids=["2**31", "2**70", "x", "True"])
def test_save_refuses_bad_priority_before_sql(
    priority: Any, engine: Engine, session: Session
) -> None:
    tasks = TaskRepository(session)
    with recorded_sql(engine) as statements, pytest.raises(InvalidValueException):
        tasks.save("ep", {}, priority=priority)
    assert statements == []
    assert_nothing_held(session, engine)
    assert raw_task_count(engine) == 0
    highest = tasks.save("ep", {}, priority=2**31 - 1).id
    lowest = tasks.save("ep", {}, priority=-(2**31)).id
    assert raw_task(engine, highest).priority == 2**31 - 1
    assert raw_task(engine, lowest).priority == -(2**31)


def test_update_expired_tasks_clamps_max_retries(engine: Engine, session: Session) -> None:
    tasks = TaskRepository(session)
    task_id = tasks.save("ep", {}).id
    assert [t.id for t in tasks.fetch_unprocessed_tasks()] == [task_id]
    raw_age_task(engine, task_id, 3600)
    expired = tasks.update_expired_tasks(60, 60, max_retries=2**40)
    assert [(t.id, t.status) for t in expired] == [(task_id, Status.NOT_FINISHED)]
    assert raw_task(engine, task_id).status == Status.NOT_FINISHED
    assert_nothing_held(session, engine)
    assert [t.id for t in tasks.fetch_unprocessed_tasks()] == [task_id]


# --- fault 10: many ids, non-string errors ----------------------------------------------------

MANY_IDS = 70_000


def test_seventy_thousand_ids(engine: Engine, session: Session) -> None:
    tasks = TaskRepository(session)
    running = raw_insert_task(engine, status=Status.RUNNING)
    created = raw_insert_task(engine)
    done = raw_insert_task(engine, status=Status.COMPLETED)
    raw_age_task(engine, running, 3600)
    ids: list[Any] = [uuid.uuid4() for _ in range(MANY_IDS)]
    ids[10] = done
    ids[MANY_IDS // 2] = created
    ids[-1] = str(running)
    tasks.heartbeat(ids)
    assert raw_task(engine, running).updated_at > utc_now() - datetime.timedelta(seconds=600)
    assert tasks.filter_incomplete_tasks(ids) == [str(created), str(running)]


def test_a_non_string_error_never_matches(engine: Engine, session: Session) -> None:
    non_strings = [True, False, 1, 0, None, ["1"], {"a": 1}, 1.5]
    never = {raw_insert_task(engine, Status.FAILED, result={"error": e}) for e in non_strings}
    matches = {
        raw_insert_task(engine, Status.FAILED, result={"error": name}): name
        for name in ["1", "True", "true"]
    }
    no_match = raw_insert_task(engine, Status.FAILED, result={"error": "TRUE"})
    names = ["1", "0", "True", "true", "False", "false", "None", "null", '["1"]', "1.5"]
    names += ['{"a": 1}', '{"a":1}', "[1]", "1.0"]
    claimed = {
        task.id
        for task in TaskRepository(session).fetch_unprocessed_tasks(
            max_retries=5, retryable_exceptions=names
        )
    }
    assert claimed == set(matches), (claimed & never, set(matches) - claimed)
    assert no_match not in claimed


# --- issue 11, item 5: a taken id while the session holds its entity ----------------------------


def test_saving_a_taken_id_held_by_the_session(engine: Engine, session: Session) -> None:
    videos = VideoRepository(session)
    videos.save(Video(media_id="held", title="first"))
    held = videos.read("held")
    with no_sa_warning(), pytest.raises(MediaIdAlreadyExistsException):
        videos.save(Video(media_id="held", title="second"))
    assert_nothing_held(session, engine)
    assert held.title == "first"
    assert videos.read("held").title == "first"
    assert raw_media_ids(engine) == {"held"}
    with engine.connect() as connection:
        assert connection.scalar(select(MEDIA.c.media_type).where(MEDIA.c.id == "held")) == "video"
