"""Constraint violations come out as domain exceptions, classified by the driver's code.

Unique, foreign-key, check and not-null violations are told apart by PostgreSQL's SQLSTATE and
SQLite's extended result code. Constraint names below are chosen to lie: a check constraint
whose name reads like a unique one, and so on, so that classifying by message text would fail.
After every violation the session goes on working, with its earlier work intact.
"""

import pickle
from collections.abc import Iterator

import pytest
from sqlalchemy import (
    CheckConstraint,
    Engine,
    ForeignKey,
    String,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from aana.core.models import Video
from aana.exceptions.db import (
    CheckViolation,
    DatabaseConfigError,
    DatabaseException,
    ForeignKeyViolation,
    IntegrityViolation,
    InvalidValueException,
    MediaIdAlreadyExistsException,
    NotFoundException,
    NotNullViolation,
    UniqueViolation,
)
from aana.storage.errors import translate_errors
from aana.storage.models import CaptionEntity, MediaEntity, VideoEntity
from aana.storage.repository import BaseRepository, CaptionRepository, VideoRepository


class ProbeBase(DeclarativeBase):
    """Tables of this module only: created inside the test's transaction, never migrated."""


class ProbeNote(ProbeBase):
    """A row with one constraint of every kind, each named to mislead a message matcher."""

    __tablename__ = "reliability_probe_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Cross-metadata foreign key to aana's own media table.
    media_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey(MediaEntity.__table__.c.id, name="probe_unique_key_fk")
    )
    code: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("code", name="probe_check_foreign_key_uq"),
        CheckConstraint("length(body) < 50", name="probe_duplicate_key_unique_ck"),
    )


@pytest.fixture
def probe_tables(db_session: Session) -> Iterator[Session]:
    """Create the probe table in the test's transaction; the rollback drops it."""
    ProbeBase.metadata.create_all(db_session.connection())
    yield db_session


def note(**values: object) -> ProbeNote:
    return ProbeNote(**{"body": "fine", **values})


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


def test_unique_violation_is_classified_by_code(probe_tables: Session) -> None:
    repository = BaseRepository(probe_tables, ProbeNote)
    repository.create(note(code="a"))
    with pytest.raises(IntegrityViolation) as caught:
        repository.create(note(code="a"))
    assert type(caught.value) is UniqueViolation
    assert caught.value.table_name == "reliability_probe_note"
    if is_postgres(probe_tables):
        # SQLite does not report the name of a violated UNIQUE constraint; PostgreSQL does.
        assert caught.value.constraint_name == "probe_check_foreign_key_uq"


def test_foreign_key_violation_is_classified_by_code(probe_tables: Session) -> None:
    with pytest.raises(IntegrityViolation) as caught:
        BaseRepository(probe_tables, ProbeNote).create(note(media_id="no-such-media"))
    assert type(caught.value) is ForeignKeyViolation
    assert caught.value.table_name == "reliability_probe_note"
    if is_postgres(probe_tables):
        assert caught.value.constraint_name == "probe_unique_key_fk"


def test_check_violation_is_classified_by_code(probe_tables: Session) -> None:
    with pytest.raises(IntegrityViolation) as caught:
        BaseRepository(probe_tables, ProbeNote).create(note(body="x" * 60))
    assert type(caught.value) is CheckViolation
    assert caught.value.table_name == "reliability_probe_note"
    assert caught.value.constraint_name == "probe_duplicate_key_unique_ck"
    assert "probe_duplicate_key_unique_ck" in str(caught.value)


def test_not_null_violation_is_classified_by_code(probe_tables: Session) -> None:
    with pytest.raises(IntegrityViolation) as caught:
        BaseRepository(probe_tables, ProbeNote).create(ProbeNote(code="n"))
    assert type(caught.value) is NotNullViolation
    assert caught.value.table_name == "reliability_probe_note"


def test_aana_schema_violations_name_table_and_constraint(db_session: Session) -> None:
    captions = CaptionRepository(db_session)
    with pytest.raises(CheckViolation) as check:
        captions.save("blip", "a frame", timestamp=1.0, frame_id=-1)
    assert (check.value.table_name, check.value.constraint_name) == (
        "caption",
        "ck_caption_frame_id_non_negative",
    )
    first = captions.save("blip", "a frame", timestamp=1.0, frame_id=1)
    with pytest.raises(UniqueViolation) as unique:
        # create_multiple goes straight to an INSERT: a second object with the same key in
        # the identity map would be refused by the ORM before the database could say no.
        captions.create_multiple(
            [CaptionEntity(id=first.id, model="m", caption="c", timestamp=0.0, frame_id=0)]
        )
    assert unique.value.table_name == "caption"
    if is_postgres(db_session):
        assert unique.value.constraint_name == "pk_caption"
    # The video table's key references media: an orphan row is a foreign-key violation.
    with (
        pytest.raises(ForeignKeyViolation) as orphan,
        translate_errors(),
        db_session.begin_nested(),
    ):
        db_session.execute(insert(VideoEntity.__table__).values(id="orphan-video"))
    assert orphan.value.table_name == "video"
    if is_postgres(db_session):
        assert orphan.value.constraint_name == "fk_video_id_media"
    assert count(db_session, CaptionEntity) == 1


def test_taken_media_id_is_a_media_exception(db_session: Session) -> None:
    videos = VideoRepository(db_session)
    videos.save(Video(media_id="taken-id", title="first"))
    with pytest.raises(MediaIdAlreadyExistsException) as caught:
        videos.save(Video(media_id="taken-id", title="second"))
    assert isinstance(caught.value, UniqueViolation)
    assert caught.value.media_id == "taken-id"
    assert caught.value.table_name == "video"
    assert db_session.get(VideoEntity, "taken-id").title == "first"


VIOLATIONS = {
    "unique": lambda repo: repo.create(note(code="dup")),
    "foreign key": lambda repo: repo.create(note(media_id="missing")),
    "check": lambda repo: repo.create(note(body="y" * 99)),
    "not null": lambda repo: repo.create(ProbeNote(code="nn")),
}


def test_session_survives_every_violation_with_earlier_work_intact(
    transactional_db_engine: Engine,
) -> None:
    """With real commits: committed, pending and later work all come through the violations."""
    with Session(transactional_db_engine, expire_on_commit=False) as session:
        ProbeBase.metadata.create_all(session.connection())
        session.commit()
        notes = BaseRepository(session, ProbeNote)
        VideoRepository(session).save(Video(media_id="committed-before"))
        notes.create(note(code="dup"))
        # Pending, not committed: the violations' SAVEPOINTs must not take it with them.
        session.add(MediaEntity(id="pending-before"))
        session.flush()
        raised = []
        for kind, violate in VIOLATIONS.items():
            with pytest.raises(IntegrityViolation) as caught:
                violate(notes)
            raised.append((kind, caught.value.kind))
            # The session answers, and sees everything written before the violation.
            assert session.get(MediaEntity, "pending-before") is not None
            assert session.get(VideoEntity, "committed-before") is not None
        assert raised == [(kind, kind) for kind in VIOLATIONS]
        notes.create(note(code="after"))
        session.commit()
    with Session(transactional_db_engine) as fresh:
        assert set(fresh.scalars(select(MediaEntity.id))) == {"committed-before", "pending-before"}
        assert set(fresh.scalars(select(ProbeNote.code))) == {"dup", "after"}


@pytest.mark.parametrize(
    "error",
    [
        DatabaseConfigError("datastore_config.path: directory '/x' does not exist"),
        NotFoundException("video", "abc"),
        UniqueViolation("media", "pk_media", "duplicate key"),
        CheckViolation("caption", "ck_caption_frame_id_non_negative", "detail"),
        ForeignKeyViolation("video", None, "FOREIGN KEY constraint failed"),
        NotNullViolation("caption", None, "NOT NULL constraint failed: caption.timestamp"),
        MediaIdAlreadyExistsException("video", "abc"),
        InvalidValueException("tasks", "value too long for type character varying(255)"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_exceptions_survive_pickling(error: DatabaseException) -> None:
    """Worker processes hand errors back to their parent pickled; nothing may get lost."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
