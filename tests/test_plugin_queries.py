"""count_queries and assert_max_queries, as fixtures and as context managers."""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aana.storage.models import VideoEntity
from aana.testing.factories import VideoEntityFactory
from aana.testing.queries import CapturedQueries
from aana.testing.queries import assert_max_queries as assert_max_queries_cm

Counter = Callable[..., AbstractContextManager[CapturedQueries]]


def test_count_queries_records_the_statements_on_the_test_connection(
    db_session: Session, count_queries: Counter
) -> None:
    VideoEntityFactory.create_batch(2)
    with count_queries() as captured:
        db_session.scalars(select(VideoEntity)).all()
        db_session.get(VideoEntity, "missing")
    assert len(captured) == 2
    assert all(sql.startswith("SELECT") for sql in captured.statements)
    assert "FROM media JOIN video" in captured.statements[0]


def test_assert_max_queries_lists_the_statements_when_over(
    db_session: Session, assert_max_queries: Counter
) -> None:
    ids = [video.id for video in VideoEntityFactory.create_batch(3)]
    db_session.expunge_all()
    with pytest.raises(AssertionError) as over, assert_max_queries(2):
        for media_id in ids:
            db_session.get(VideoEntity, media_id)
    message = str(over.value)
    assert message.startswith("expected at most 2 queries, 3 ran:\n1. SELECT")
    assert "\n3. SELECT" in message


def test_assert_max_queries_passes_at_the_limit(db_session: Session) -> None:
    with assert_max_queries_cm(1) as captured:
        db_session.scalars(select(VideoEntity)).all()
    assert len(captured) == 1


def test_counting_on_a_committing_engine(transactional_db_engine: Engine) -> None:
    with assert_max_queries_cm(1), transactional_db_engine.connect() as connection:
        connection.execute(select(VideoEntity.id))
