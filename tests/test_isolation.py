"""Per-test isolation: commits inside a test never reach the next test."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aana.core.models import Video
from aana.storage.models import MediaEntity, VideoEntity
from aana.storage.repository import VideoRepository
from aana.storage.session import get_session

SHARED_ID = "isolation-pair"


@pytest.mark.parametrize("attempt", ["first", "second"])
def test_committed_rows_do_not_survive_the_test(db_session: Session, attempt: str) -> None:
    # Both runs see an empty table and both commit the same id: the second would raise
    # MediaIdAlreadyExistsException if the first one's commit had survived.
    assert db_session.scalar(select(func.count()).select_from(MediaEntity)) == 0
    VideoRepository(db_session).save(Video(media_id=SHARED_ID, title=attempt))
    db_session.commit()
    assert db_session.get(VideoEntity, SHARED_ID) is not None


def test_application_sessions_join_the_test_transaction(db_session: Session) -> None:
    VideoRepository(db_session).save(Video(media_id="seen-by-app", title="t"))
    with get_session() as app_session:
        assert app_session.get(VideoEntity, "seen-by-app") is not None
        VideoRepository(app_session).save(Video(media_id="written-by-app"))
    assert db_session.get(VideoEntity, "written-by-app") is not None
