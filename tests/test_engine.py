"""Engines behave alike on both backends: enforced foreign keys, real transactions, savepoints."""

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from aana.storage.engine import SQLITE_BEGIN_OPTION


def test_foreign_keys_are_enforced(transactional_db_engine: Engine) -> None:
    with pytest.raises(IntegrityError), transactional_db_engine.begin() as connection:
        connection.execute(text("INSERT INTO video (id) VALUES ('orphan')"))


def test_savepoint_rollback_keeps_the_outer_transaction(transactional_db_engine: Engine) -> None:
    insert = text(
        "INSERT INTO media (id, media_type, created_at, updated_at) "
        "VALUES (:id, 'media', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with transactional_db_engine.connect() as connection:
        with connection.begin():
            connection.execute(insert, {"id": "kept"})
            savepoint = connection.begin_nested()
            connection.execute(insert, {"id": "dropped"})
            savepoint.rollback()
        with connection.begin():
            connection.execute(insert, {"id": "rolled-back"})
            connection.rollback()
        ids = connection.scalars(text("SELECT id FROM media ORDER BY id")).all()
    assert ids == ["kept"]


def test_a_transaction_reads_one_snapshot(transactional_db_engine: Engine) -> None:
    # pysqlite left alone runs SELECTs outside any transaction; with the BEGIN recipe a
    # transaction does not see rows another connection commits after its first read.
    insert = text(
        "INSERT INTO media (id, media_type, created_at, updated_at) "
        "VALUES (:id, 'media', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    count = text("SELECT count(*) FROM media")
    with transactional_db_engine.connect() as reader:
        if reader.dialect.name == "postgresql":
            reader = reader.execution_options(isolation_level="REPEATABLE READ")
        with reader.begin():
            assert reader.scalar(count) == 0
            with transactional_db_engine.begin() as writer:
                writer.execute(insert, {"id": "late"})
            assert reader.scalar(count) == 0
        assert reader.scalar(count) == 1


def test_sqlite_pragmas(transactional_db_engine: Engine) -> None:
    if transactional_db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only settings")
    with transactional_db_engine.connect() as connection:
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA busy_timeout")) > 0


def test_unknown_sqlite_begin_mode_is_refused(transactional_db_engine: Engine) -> None:
    if transactional_db_engine.dialect.name != "sqlite":
        pytest.skip("the BEGIN mode is an SQLite setting")
    with transactional_db_engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "SOMETIMES"})
        with pytest.raises(ValueError, match="aana_sqlite_begin='SOMETIMES'"):
            connection.execute(text("SELECT 1"))
