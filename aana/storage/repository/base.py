"""The generic repository every entity repository builds on."""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Integer, SmallInteger, insert, inspect
from sqlalchemy.orm import Session

from aana.exceptions.db import NotFoundException
from aana.storage.errors import translate_errors
from aana.storage.models.base import BaseEntity

T = TypeVar("T", bound=BaseEntity)

_DECIMAL = re.compile(r"\s*[+-]?[0-9]+\s*")


class BaseRepository(Generic[T]):
    """Create, read and delete entities of one class.

    Writes run in a SAVEPOINT and then commit: a write that breaks a constraint raises an
    :class:`~aana.exceptions.db.IntegrityViolation` and leaves the session usable, with its
    earlier work intact.

    Attributes:
        session (Session): The session the repository works in.
        model_class (type[T]): The entity class.
        table_name (str): The entity's table.
    """

    def __init__(self, session: Session, model_class: type[T]) -> None:
        """Constructor.

        Args:
            session (Session): The session to work in.
            model_class (type[T]): The entity class.
        """
        self.session = session
        self.model_class = model_class
        self.table_name: str = model_class.__tablename__

    def create(self, entity: T) -> T:
        """Insert one entity and commit.

        Args:
            entity (T): The entity to insert.

        Returns:
            T: The same entity, now persistent.

        Raises:
            IntegrityViolation: If the row breaks a constraint; nothing is written.
            InvalidValueException: If a value does not fit its column; nothing is written.
            DatabaseFullException: If the disk is full; nothing is written.
        """
        with self._write():
            self.session.add(entity)
        self._commit()
        return entity

    def create_multiple(self, entities: Iterable[T]) -> list[T]:
        """Insert many entities in batched statements and commit.

        The rows go in as executemany batches, not through the unit of work one object at a
        time. The returned entities are the persisted ones, with database-generated values
        (ids, timestamps) filled in; they are new instances, not the ones passed in.

        Args:
            entities (Iterable[T]): The entities to insert, all of ``model_class``.

        Returns:
            list[T]: The persisted entities, in input order.

        Raises:
            IntegrityViolation: If any row breaks a constraint; nothing is written.
            InvalidValueException: If a value does not fit its column; nothing is written.
            DatabaseFullException: If the disk is full; nothing is written.
        """
        rows = [_column_values(entity) for entity in entities]
        return self._insert_rows(rows)

    def read(self, item_id: Any, check: bool = True) -> T | None:
        """Read an entity by its primary key.

        Args:
            item_id (Any): The primary key.
            check (bool): Raise when there is no such row, instead of returning None.

        Returns:
            T | None: The entity, or None when it does not exist and ``check`` is False.

        Raises:
            NotFoundException: If there is no such row and ``check`` is True.
        """
        key = self._parse_id(item_id)
        entity = self.session.get(self.model_class, key) if key is not None else None
        if entity is None and check:
            raise NotFoundException(self.table_name, item_id)
        return entity

    def delete(self, item_id: Any, check: bool = True) -> T | None:
        """Delete an entity by its primary key and commit.

        Args:
            item_id (Any): The primary key.
            check (bool): Raise when there is no such row, instead of returning None.

        Returns:
            T | None: The deleted entity, or None when it did not exist.

        Raises:
            NotFoundException: If there is no such row and ``check`` is True.
        """
        entity = self.read(item_id, check=check)
        if entity is not None:
            with self._write():
                self.session.delete(entity)
            self._commit()
        return entity

    def _parse_id(self, item_id: Any) -> Any | None:
        """Return the key to look up, or None when ``item_id`` cannot be a key of this table.

        An integer key takes an int, an integral float or a decimal string within the
        column's range; anything else is None. PostgreSQL would answer "abc" or 2**40 for an
        INTEGER key with an error that aborts the whole transaction, so a malformed id must
        read as "not found" without reaching the database. Subclasses with other constrained
        keys override it.
        """
        keys = inspect(self.model_class).primary_key
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            return item_id
        return _integer_key(item_id, keys[0].type, self.session.get_bind().dialect.name)

    def _insert_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[T]:
        """Insert rows as batched ORM bulk INSERT ... RETURNING and commit."""
        if not rows:
            return []
        statement = insert(self.model_class).returning(
            self.model_class, sort_by_parameter_order=True
        )
        with self._write():
            entities = list(self.session.scalars(statement, rows))
        self._commit()
        return entities

    def _commit(self) -> None:
        """Commit, translating errors: SQLite may find the disk full only at COMMIT.

        A failed COMMIT leaves the session stuck in its "prepared" state, refusing all SQL;
        the transaction is lost either way, so it is rolled back and the session goes on.
        """
        try:
            with translate_errors(self.table_name):
                self.session.commit()
        except Exception:
            self.session.rollback()
            raise

    @contextmanager
    def _write(self) -> Iterator[None]:
        """Run a write in a SAVEPOINT, flushing it and translating driver errors."""
        with translate_errors(self.table_name), self.session.begin_nested():
            yield


def _column_values(entity: BaseEntity) -> dict[str, Any]:
    """Return the column attributes set on a transient entity."""
    state = inspect(entity)
    return {
        attr.key: state.dict[attr.key]
        for attr in state.mapper.column_attrs
        if attr.key in state.dict
    }


def _integer_key(item_id: Any, column_type: Integer, dialect_name: str) -> int | None:
    """Return ``item_id`` as an int that an integer key column can hold, or None."""
    if isinstance(item_id, bool):
        return None
    integral = isinstance(item_id, int) or (isinstance(item_id, float) and item_id.is_integer())
    if not integral and not (isinstance(item_id, str) and _DECIMAL.fullmatch(item_id)):
        return None
    key = int(item_id)
    # SQLite stores every integer in up to 64 bits; PostgreSQL sizes them by the column type.
    if dialect_name == "sqlite" or isinstance(column_type, BigInteger):
        bits = 64
    elif isinstance(column_type, SmallInteger):
        bits = 16
    else:
        bits = 32
    limit = 2 ** (bits - 1)
    return key if -limit <= key < limit else None
