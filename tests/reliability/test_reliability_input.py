"""Bad input gets a clear error and leaves the database as it was.

Media ids are refused before any SQL is sent (the tests count the statements the engine runs);
out-of-range values are refused by the database's constraints, as domain exceptions; malformed
ids read as "not found" without disturbing the transaction; garbage in ``DB_CONFIG`` is named
and nothing is touched. A property-based test then throws arbitrary strings and numbers at
the repositories' public methods: only aana's exceptions, pydantic's ``ValidationError`` or
an exception the method's docstring lists may come out, the session must stay usable, and a
call that fails must not have changed any table.
"""

import hashlib
import inspect
import json
import math
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from reliability_workers import recorded_sql
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aana.cli import cli
from aana.configs import load_settings
from aana.core.models import AsrTranscription, AsrTranscriptionInfo, Video
from aana.exceptions.db import (
    CheckViolation,
    DatabaseConfigError,
    DatabaseException,
    NotFoundException,
)
from aana.storage.engine import create_database_engine
from aana.storage.models import (
    CaptionEntity,
    MediaEntity,
    Status,
    TaskEntity,
    TranscriptEntity,
    VideoEntity,
)
from aana.storage.repository import (
    CaptionRepository,
    TaskRepository,
    TranscriptRepository,
    VideoRepository,
)
from aana.testing.isolation import isolated_session

SECRET = "Pw-never-shown-7f3a"

BAD_MEDIA_IDS = [
    "x" * 37,  # one past the 36-character limit
    "a" * 1000,
    "",
    "has space",
    "semi;colon",
    "quote'id",
    'double"quote',
    "slash/id",
    "dot.id",
    "ünïcode",
    "nul\x00byte",
    "line\nbreak",
    "'; DROP TABLE media; --",
]


@pytest.fixture
def sql_log(db_engine: Engine) -> Iterator[list[str]]:
    """Every statement the engine sends to the database while the test runs."""
    with recorded_sql(db_engine) as statements:
        yield statements


def table_counts(session: Session) -> tuple[int, ...]:
    """Row counts of every aana table, in one statement."""
    entities = (MediaEntity, VideoEntity, CaptionEntity, TranscriptEntity, TaskEntity)
    counts = [select(func.count()).select_from(entity).scalar_subquery() for entity in entities]
    return tuple(session.execute(select(*counts)).one())


def session_is_usable(session: Session) -> None:
    """The transaction is not aborted: a read and a write both still work."""
    assert session.scalar(select(func.count()).select_from(MediaEntity)) is not None
    probe = VideoRepository(session).save(Video(title="still usable"))
    assert session.get(VideoEntity, probe["media_id"]) is not None


@pytest.mark.parametrize("media_id", BAD_MEDIA_IDS, ids=repr)
def test_malformed_media_id_is_refused_before_any_sql(
    db_session: Session, sql_log: list[str], media_id: str
) -> None:
    videos = VideoRepository(db_session)
    before = table_counts(db_session)
    sql_log.clear()
    with pytest.raises(ValidationError, match=r"string|should have"):
        videos.create(VideoEntity(id=media_id, title="bad"))
    with pytest.raises(ValidationError):
        videos.create_multiple([VideoEntity(title="good"), VideoEntity(id=media_id)])
    with pytest.raises(ValidationError):
        Video(media_id=media_id)
    with pytest.raises(NotFoundException):
        videos.read(media_id)
    with pytest.raises(NotFoundException):
        videos.get_metadata(media_id)
    assert videos.delete(media_id, check=False) is None
    assert videos.check_media_exists(media_id) is False
    assert sql_log == [], "a malformed media id reached the database"
    assert table_counts(db_session) == before


@pytest.mark.parametrize("confidence", [-0.01, 1.01, 2.0, -math.inf, math.inf, math.nan])
def test_language_confidence_outside_unit_interval(db_session: Session, confidence: float) -> None:
    with pytest.raises(ValidationError, match="language_confidence"):
        AsrTranscriptionInfo(language="en", language_confidence=confidence)
    if math.isnan(confidence):
        return  # NaN passes a CHECK on PostgreSQL (NaN sorts above every number); pydantic stops it
    # Past the pydantic model, the database's CHECK constraint still says no.
    before = table_counts(db_session)
    entity = TranscriptEntity(
        model="whisper", transcript="t", segments=[], language="en", language_confidence=confidence
    )
    with pytest.raises(CheckViolation) as caught:
        TranscriptRepository(db_session).create(entity)
    assert caught.value.table_name == "transcript"
    assert caught.value.constraint_name == "ck_transcript_language_confidence_range"
    assert table_counts(db_session) == before
    session_is_usable(db_session)


@pytest.mark.parametrize(
    ("frame_id", "timestamp", "constraint"),
    [
        (-1, 0.0, "ck_caption_frame_id_non_negative"),
        (-(2**31), 0.0, "ck_caption_frame_id_non_negative"),
        (0, -0.001, "ck_caption_timestamp_non_negative"),
    ],
)
def test_negative_frame_id_or_timestamp(
    db_session: Session, frame_id: int, timestamp: float, constraint: str
) -> None:
    captions = CaptionRepository(db_session)
    kept = captions.save("blip", "written before", timestamp=0.5, frame_id=0)
    before = table_counts(db_session)
    with pytest.raises(CheckViolation) as one:
        captions.save("blip", "bad", timestamp=timestamp, frame_id=frame_id)
    assert (one.value.table_name, one.value.constraint_name) == ("caption", constraint)
    # One bad row in a batch: the whole batch is refused, not the rows before it kept.
    with pytest.raises(CheckViolation):
        captions.save_all("blip", ["ok 1", "ok 2", "bad"], [1.0, 2.0, timestamp], [1, 2, frame_id])
    assert table_counts(db_session) == before
    assert captions.read(kept.id).caption == "written before"
    session_is_usable(db_session)


@pytest.mark.parametrize("timestamp", [math.nan, math.inf, -math.inf])
def test_non_finite_timestamps_are_refused_before_sql(
    db_session: Session, sql_log: list[str], timestamp: float
) -> None:
    # A PostgreSQL CHECK (timestamp >= 0) lets NaN through, so the repository checks first.
    captions = CaptionRepository(db_session)
    sql_log.clear()
    with pytest.raises(ValueError, match=r"timestamps\[0\] is .*must be finite"):
        captions.save("blip", "bad", timestamp=timestamp, frame_id=0)
    with pytest.raises(ValueError, match=r"timestamps\[2\]"):
        captions.save_all("blip", ["a", "b", "c"], [0.0, 1.0, timestamp], [0, 1, 2])
    assert sql_log == []


@pytest.mark.parametrize(
    ("captions", "timestamps", "frame_ids"),
    [(["a", "b"], [1.0], [1, 2]), (["a"], [1.0, 2.0], [1]), ([], [], [0]), (["a"], [0.0], [])],
)
def test_save_all_with_mismatched_lengths(
    db_session: Session,
    sql_log: list[str],
    captions: list[str],
    timestamps: list[float],
    frame_ids: list[int],
) -> None:
    sql_log.clear()
    expected = f"{len(captions)}, {len(timestamps)} and {len(frame_ids)}"
    with pytest.raises(ValueError, match=expected):
        CaptionRepository(db_session).save_all("blip", captions, timestamps, frame_ids)
    assert sql_log == []


MALFORMED_INTEGER_IDS = [
    "abc",
    "1; DROP TABLE caption",
    "",
    "1.5",
    2**31,
    2**63,
    2**70,
    1.5,
    -1,
    math.nan,
    math.inf,
    None,
    "٣",
    10**9,
]
MALFORMED_TASK_IDS = [
    "abc",
    "",
    5,
    "00000000-0000-0000-0000-00000000000g",
    None,
    math.nan,
    # Well-formed but unknown; fixed, so that pytest-xdist workers collect the same ids.
    uuid.UUID("3f0c6d1e-6a53-4c1c-9d55-0d5f2b7a9e11"),
    "7b1e2c9a-0f4d-4e8b-a1c3-5d6e7f8a9b0c",
    "' OR '1'='1",
]


@pytest.mark.parametrize("item_id", MALFORMED_INTEGER_IDS, ids=repr)
@pytest.mark.parametrize("repository", [CaptionRepository, TranscriptRepository])
def test_unknown_or_malformed_integer_id(
    db_session: Session, repository: type, item_id: object
) -> None:
    # PostgreSQL answers 'abc' or 2**40 for an INTEGER key with an error that aborts the
    # transaction; the repository must read them as "not found" instead.
    repo = repository(db_session)
    with pytest.raises(NotFoundException) as caught:
        repo.read(item_id)
    assert caught.value.table_name == repo.table_name
    assert repo.read(item_id, check=False) is None
    assert repo.delete(item_id, check=False) is None
    with pytest.raises(NotFoundException):
        repo.delete(item_id)
    session_is_usable(db_session)


@pytest.mark.parametrize("task_id", MALFORMED_TASK_IDS, ids=repr)
def test_unknown_or_malformed_task_id(db_session: Session, task_id: object) -> None:
    tasks = TaskRepository(db_session)
    kept = tasks.save("/video/transcribe", {"n": 1})
    for call in (
        lambda: tasks.read(task_id),
        lambda: tasks.update_status(task_id, Status.RUNNING, progress=10.0),
        lambda: tasks.retry_task(task_id),
    ):
        with pytest.raises(NotFoundException) as caught:
            call()
        assert caught.value.table_name == "tasks"
    assert tasks.delete(task_id) is None
    assert tasks.filter_incomplete_tasks([task_id]) == []
    tasks.heartbeat([task_id])
    assert tasks.read(kept.id).status is Status.CREATED
    session_is_usable(db_session)


GARBAGE_DB_CONFIG = {
    "not json": ("{datastore_type: sqlite", DatabaseConfigError, "DB_CONFIG"),
    "truncated json with a password": (
        f'{{"datastore_type": "postgresql", "datastore_config": {{"password": "{SECRET}"',
        DatabaseConfigError,
        "DB_CONFIG",
    ),
    "a list": ("[1, 2]", DatabaseConfigError, "DB_CONFIG: Input should be a valid dictionary"),
    "a number": ("42", DatabaseConfigError, "DB_CONFIG: Input should be a valid dictionary"),
    "unknown type": ('{"datastore_type": "oracle"}', DatabaseConfigError, "datastore_type"),
    "port out of range": (
        json.dumps(
            {
                "datastore_type": "postgresql",
                "datastore_config": {"host": "h", "port": 70000, "password": SECRET},
            }
        ),
        DatabaseConfigError,
        "port",
    ),
    "password as the port": (
        json.dumps(
            {"datastore_type": "postgresql", "datastore_config": {"host": "h", "port": SECRET}}
        ),
        DatabaseConfigError,
        "port",
    ),
    "unknown key": (
        json.dumps(
            {
                "datastore_type": "postgresql",
                "datastore_config": {"host": "h", "password": SECRET, "passwrd": SECRET},
            }
        ),
        DatabaseConfigError,
        "passwrd",
    ),
    "postgres keys on sqlite": (
        json.dumps({"datastore_config": {"host": "h", "password": SECRET}}),
        DatabaseConfigError,
        "host",
    ),
    "negative pool": ('{"pool_size": -3}', DatabaseConfigError, "pool_size"),
    "path not a string": ('{"datastore_config": {"path": 5}}', DatabaseConfigError, "path"),
    "nested 1,000 levels (2 KB)": (
        '{"datastore_config":' + '{"a":' * 1000 + "1" + "}" * 1001,
        DatabaseConfigError,
        "recursion limit",
    ),
    "nested 100,000 levels": ("[" * 100_000 + "]" * 100_000, DatabaseConfigError, "recursion"),
}


@pytest.mark.parametrize(
    ("value", "error", "names"), GARBAGE_DB_CONFIG.values(), ids=GARBAGE_DB_CONFIG.keys()
)
def test_garbage_db_config(
    monkeypatch: pytest.MonkeyPatch, value: str, error: type[Exception], names: str
) -> None:
    monkeypatch.setenv("DB_CONFIG", value)
    with pytest.raises(error) as caught:
        load_settings()
    assert names in str(caught.value)
    assert SECRET not in str(caught.value)


def test_garbage_db_config_leaves_the_database_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``aana migrate`` refuses a config with one bad field and never opens the database."""
    database = tmp_path / "app.db"
    database.write_bytes(b"not touched")
    digest = hashlib.sha256(database.read_bytes()).hexdigest()
    fresh = tmp_path / "never-created.db"
    runner = CliRunner()
    for path in (database, fresh):
        config = {"datastore_config": {"path": str(path)}, "pool_size": "many"}
        monkeypatch.setenv("DB_CONFIG", json.dumps(config))
        result = runner.invoke(cli, ["migrate"])
        assert result.exit_code == 2, result.output
        assert "pool_size" in result.output
    assert hashlib.sha256(database.read_bytes()).hexdigest() == digest
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


@pytest.mark.subprocesses
def test_malformed_db_config_exits_2_from_every_command_without_a_traceback() -> None:
    commands = [["migrate"], ["migrate", "--check"], ["current"], ["downgrade", "--to", "base"]]
    configs = {
        "nested 1,000 levels": '{"datastore_config":' + '{"a":' * 1000 + "1" + "}" * 1001,
        "misspelled key": json.dumps({"datastore_config": {"pth": "/tmp/x.db"}}),
    }
    # All at once: each run spends most of its time importing.
    runs = {
        (name, " ".join(command)): subprocess.Popen(
            [sys.executable, "-c", "from aana.cli import cli; cli()", *command],
            env={**os.environ, "DB_CONFIG": config},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, config in configs.items()
        for command in commands
    }
    said = {}
    for run, process in runs.items():
        _, said[run] = process.communicate(timeout=60)
        assert process.returncode == 2, (run, said[run])
        assert "Traceback" not in said[run], (run, said[run])
        assert "Error: invalid database configuration (DB_CONFIG)" in said[run], (run, said[run])
    assert "datastore_config.pth" in said["misspelled key", "current"]
    assert "recursion limit" in said["nested 1,000 levels", "current"]


def test_sqlite_path_in_a_missing_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "aana.db"
    monkeypatch.setenv("DB_CONFIG", json.dumps({"datastore_config": {"path": str(missing)}}))
    with pytest.raises(DatabaseConfigError, match=re.escape(str(missing.parent))):
        create_database_engine(load_settings().db_config)
    assert not (tmp_path / "no").exists()


# --- property-based: arbitrary strings and numbers at every public method -------------------

HOSTILE_TEXT = [
    "\x00",
    "a\x00b",
    "\ud800",
    "tail\udfff",
    "x" * 256,
    "é" * 51,
    "' OR '1'='1",
    "'; DROP TABLE tasks; --",
    "%",
    "_",
    "\\",
    "%(user_id)s",
    ":user_id",
    "?",
    "$1",
]
# Surrogates are excluded from hypothesis's default alphabet; the databases cannot take them.
any_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(exclude_categories=[]), max_size=10),
    st.sampled_from(HOSTILE_TEXT),
)
big_ints = st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 2**70])
any_int = st.one_of(st.integers(), big_ints)
any_float = st.floats()
any_number = st.one_of(any_int, any_float)
any_id = st.one_of(any_text, any_number, st.none(), st.uuids(), st.uuids().map(str))
json_data = st.dictionaries(any_text, st.one_of(any_text, any_number, st.none()), max_size=3)

Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass
class Repositories:
    video: VideoRepository[VideoEntity]
    caption: CaptionRepository[CaptionEntity]
    transcript: TranscriptRepository[TranscriptEntity]
    task: TaskRepository


# Each operation draws its arguments, then returns the call to make and the method it calls.
Operation = Callable[[Repositories, Draw], tuple[Callable[[], object], Callable[..., object]]]


def _video_ops() -> list[Operation]:
    def save(r: Repositories, d: Draw) -> Any:
        media_id, title, url = d(st.one_of(any_text, st.uuids().map(str))), d(any_text), d(any_text)
        return (lambda: r.video.save(Video(media_id=media_id, title=title, url=url))), type(
            r.video
        ).save

    def by_id(name: str) -> Operation:
        def op(r: Repositories, d: Draw) -> Any:
            item_id = d(any_id)
            method = getattr(r.video, name)
            return (lambda: method(item_id)), getattr(type(r.video), name)

        return op

    names = ("read", "delete", "check_media_exists", "get_metadata")
    return [save, *(by_id(name) for name in names)]


def _caption_ops() -> list[Operation]:
    def save(r: Repositories, d: Draw) -> Any:
        args = d(any_text), d(any_text), d(any_number), d(any_int)
        return (lambda: r.caption.save(*args)), type(r.caption).save

    def save_all(r: Repositories, d: Draw) -> Any:
        model = d(any_text)
        texts = d(st.lists(any_text, max_size=3))
        stamps = d(st.lists(any_number, max_size=3))
        frames = d(st.lists(any_int, max_size=3))
        return (lambda: r.caption.save_all(model, texts, stamps, frames)), type(r.caption).save_all

    def read(r: Repositories, d: Draw) -> Any:
        item_id = d(any_id)
        return (lambda: r.caption.read(item_id)), type(r.caption).read

    def delete(r: Repositories, d: Draw) -> Any:
        item_id = d(any_id)
        return (lambda: r.caption.delete(item_id)), type(r.caption).delete

    return [save, save_all, read, delete]


def _transcript_ops() -> list[Operation]:
    def save(r: Repositories, d: Draw) -> Any:
        model, language, text = d(any_text), d(any_text), d(any_text)
        confidence = d(any_number)

        def call() -> object:
            info = AsrTranscriptionInfo(language=language, language_confidence=confidence)
            return r.transcript.save(model, info, AsrTranscription(text=text), [])

        return call, type(r.transcript).save

    def read(r: Repositories, d: Draw) -> Any:
        item_id = d(any_id)
        return (lambda: r.transcript.read(item_id)), type(r.transcript).read

    return [save, read]


def _task_ops() -> list[Operation]:
    def save(r: Repositories, d: Draw) -> Any:
        endpoint, data, user = d(any_text), d(json_data), d(st.one_of(st.none(), any_text))
        priority = d(any_int)
        return (lambda: r.task.save(endpoint, data, user_id=user, priority=priority)), (
            TaskRepository.save
        )

    def by_id(name: str) -> Operation:
        def op(r: Repositories, d: Draw) -> Any:
            item_id = d(any_id)
            method = getattr(r.task, name)
            return (lambda: method(item_id)), getattr(TaskRepository, name)

        return op

    def update_status(r: Repositories, d: Draw) -> Any:
        # Half the time on a real task, so that the values reach the UPDATE.
        real = r.task.save("/probe", {})
        task_id = d(st.one_of(st.just(real.id), any_id))
        status, progress, result = d(st.sampled_from(Status)), d(any_number), d(json_data)
        return (lambda: r.task.update_status(task_id, status, progress, result)), (
            TaskRepository.update_status
        )

    def get_tasks(r: Repositories, d: Draw) -> Any:
        user, status = (
            d(st.one_of(st.none(), any_text)),
            d(st.one_of(st.none(), st.sampled_from(Status))),
        )
        limit, offset = d(any_int), d(any_int)
        return (lambda: r.task.get_tasks(user, status, limit, offset)), TaskRepository.get_tasks

    def count(r: Repositories, d: Draw) -> Any:
        user = d(st.one_of(st.none(), any_text))
        return (lambda: r.task.count(user)), TaskRepository.count

    def by_ids(name: str) -> Operation:
        def op(r: Repositories, d: Draw) -> Any:
            ids = d(st.lists(any_id, max_size=4))
            method = getattr(r.task, name)
            return (lambda: method(ids)), getattr(TaskRepository, name)

        return op

    def fetch(r: Repositories, d: Draw) -> Any:
        limit = d(st.one_of(st.none(), any_int))
        retries, names = d(any_int), d(st.lists(any_text, max_size=3))
        return (lambda: r.task.fetch_unprocessed_tasks(limit, retries, names)), (
            TaskRepository.fetch_unprocessed_tasks
        )

    return [
        save,
        *(by_id(name) for name in ("read", "delete", "retry_task")),
        update_status,
        get_tasks,
        count,
        *(by_ids(name) for name in ("filter_incomplete_tasks", "heartbeat")),
        fetch,
    ]


def documented_raises(method: Callable[..., object]) -> set[str]:
    """The exception names listed in the "Raises:" section of a method's docstring."""
    doc = inspect.getdoc(method) or ""
    section = doc.partition("Raises:")[2]
    return set(re.findall(r"^\s{4}(\w+(?:\.\w+)*):", section, re.M))


def check_operation(
    session: Session, repos: Repositories, operation: Operation, draw: Draw
) -> None:
    call, method = operation(repos, draw)
    before = table_counts(session)
    try:
        call()
    except (DatabaseException, ValidationError):
        pass  # aana's documented family, and pydantic's refusal of a model's input
    except Exception as error:
        listed = documented_raises(method)
        assert type(error).__name__ in listed, (
            f"{method.__qualname__} raised {type(error).__name__}: {error}; "
            f"its docstring lists only {sorted(listed)}"
        )
    else:
        session_is_alive(session)
        return
    # A call that failed changed nothing, and the session is still usable.
    assert table_counts(session) == before
    session_is_alive(session)


def session_is_alive(session: Session) -> None:
    assert session.get(VideoEntity, "hypothesis-sentinel") is not None


# 60 examples per repository keep the suite quick; AANA_HYPOTHESIS_EXAMPLES digs deeper.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("AANA_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    database=None,
)


@pytest.mark.parametrize(
    "operations",
    [_video_ops(), _caption_ops(), _transcript_ops(), _task_ops()],
    ids=["video", "caption", "transcript", "task"],
)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_arbitrary_input_only_raises_documented_exceptions(
    db_engine: Engine, operations: list[Operation], data: st.DataObject
) -> None:
    # A session of its own per example, rolled back after it: a failure that poisoned the
    # transaction must show up in this example, not leak into the next one.
    with isolated_session(db_engine) as session:
        VideoRepository(session).save(Video(media_id="hypothesis-sentinel", title="sentinel"))
        repositories = Repositories(
            VideoRepository(session),
            CaptionRepository(session),
            TranscriptRepository(session),
            TaskRepository(session),
        )
        operation = data.draw(st.sampled_from(operations), label="operation")
        check_operation(session, repositories, operation, data.draw)
