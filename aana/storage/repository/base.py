"""The generic repository every entity repository builds on."""

import functools
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, BigInteger, Integer, SmallInteger, inspect, literal, select
from sqlalchemy.orm import Mapper, Session, selectin_polymorphic
from sqlalchemy.orm.interfaces import ORMOption

from aana.exceptions.db import NotFoundException, UniqueViolation
from aana.storage.models.base import BaseEntity
from aana.storage.repository.bulk_insert import bulk_insert_of
from aana.storage.repository.transaction import unit
from aana.storage.repository.values import json_value

T = TypeVar("T", bound=BaseEntity)

_DECIMAL = re.compile(r"\s*[+-]?[0-9]+\s*")


class BaseRepository(Generic[T]):
    """Create, read and delete entities of one class.

    Every method follows one transaction rule (:mod:`aana.storage.repository.transaction`):

    - A method that starts a transaction ends it: committed on success, rolled back entirely
      on failure. Afterwards the session holds no open transaction, no SQLite lock and no read
      snapshot. A transaction that SQLAlchemy began on its own (autobegin) counts as none: it
      is committed first, with what the caller left in it.
    - Called inside a transaction the caller began (``session.begin()``, ``commit=False``, the
      test plugin's outer transaction), a method works in a SAVEPOINT, leaves that transaction
      usable after an error, and leaves committing to the caller.
    - Every read returns the database's current state, never the session's cached copy of an
      object; a row deleted elsewhere is not found.
    - On SQLite every write transaction takes the write lock up front (``BEGIN IMMEDIATE``),
      so a read followed by a write cannot fail at once with "database is locked".
    - A lost connection fails the call it happened in with
      :class:`~aana.exceptions.db.ConnectionLostException`; the next call on the same session
      works, and nothing committed is lost.

    A write that breaks a constraint raises an
    :class:`~aana.exceptions.db.IntegrityViolation`; nothing of it is written.

    Attributes:
        session (Session): The session the repository works in.
        model_class (type[T]): The entity class.
        table_name (str): The entity's table.
    """

    def __init__(self, session: Session, model_class: type[T]) -> None:
        """Work in ``session`` on the entities of ``model_class``.

        Args:
            session (Session): The session to work in.
            model_class (type[T]): The entity class.

        Raises:
            TypeError: If ``session`` is not a ``Session``; an ``AsyncSession`` takes the
                repository of the same name in :mod:`aana.storage.aio.repository`.
        """
        if not isinstance(session, Session):
            raise TypeError(
                f"{type(self).__name__} takes a Session, not a {type(session).__name__}; for "
                f"an AsyncSession use aana.storage.aio.repository.{type(self).__name__}"
            )
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
            IntegrityViolation: If the row breaks a constraint, or the session holds another
                entity whose row has this key; nothing is written.
            InvalidValueException: If a value does not fit its column, or JSON holds NaN,
                NUL or an unpaired surrogate; nothing is written.
            DatabaseFullException: If the disk is full; nothing is written.
            ConnectionLostException: If the connection broke; nothing is written.
        """
        _check_json(inspect(self.model_class), _column_values(entity), self.table_name)
        with self._unit(write=True, may_break_constraints=True):
            self._displace_held(entity)
            self.session.add(entity)
            self.session.flush()
        return entity

    def create_multiple(self, entities: Iterable[T]) -> list[T]:
        """Insert many entities in batched statements and commit.

        The rows go in as executemany batches, not through the unit of work one object at a
        time. The returned entities are the persisted ones, with generated values (ids,
        default timestamps) filled in; they are new instances, not the ones passed in, and
        belong to the session.

        Args:
            entities (Iterable[T]): The entities to insert, all of ``model_class``.

        Returns:
            list[T]: The persisted entities, in input order.

        Raises:
            IntegrityViolation: If any row breaks a constraint; nothing is written.
            InvalidValueException: If a value does not fit its column; nothing is written.
            DatabaseFullException: If the disk is full; nothing is written.
            ConnectionLostException: If the connection broke; nothing is written.
        """
        rows = [_column_values(entity) for entity in entities]
        return self._insert_rows(rows)

    def read(self, item_id: Any, check: bool = True) -> T | None:
        """Read an entity by its primary key, as the database has it now.

        Args:
            item_id (Any): The primary key.
            check (bool): Raise when there is no such row, instead of returning None.

        Returns:
            T | None: The entity, or None when it does not exist and ``check`` is False.

        Raises:
            NotFoundException: If there is no such row and ``check`` is True.
        """
        key = self._parse_id(item_id)
        entity = None
        if key is not None:
            with self._unit(write=False):
                entity = self.session.get(
                    self.model_class, key, populate_existing=True, options=self._load_subclasses()
                )
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
        key = self._parse_id(item_id)
        entity = None
        if key is not None:
            with self._unit(write=True, may_break_constraints=True):
                # Locked, so that no other transaction deletes the row under the ORM's DELETE.
                entity = self.session.get(
                    self.model_class,
                    key,
                    populate_existing=True,
                    with_for_update=True,
                    options=self._load_subclasses(),
                )
                if entity is not None:
                    self.session.delete(entity)
                    self.session.flush()
        if entity is None and check:
            raise NotFoundException(self.table_name, item_id)
        return entity

    def _unit(
        self, *, write: bool, commit: bool = True, may_break_constraints: bool = False
    ) -> AbstractContextManager[None]:
        """Open the unit a method works in (see :func:`~.transaction.unit`)."""
        return unit(
            self.session,
            self.table_name,
            write=write,
            commit=commit,
            may_break_constraints=may_break_constraints,
        )

    def _load_subclasses(self) -> list[ORMOption]:
        """Options of a read that load, with each row, the columns of the subclass it belongs to.

        A row of an app's subclass (joined-table inheritance: ``ExtendedVideoEntity`` read by
        the ``VideoEntity`` repository) comes back as the subclass, and its own columns, in its
        own table, would be loaded on first access: a query async code cannot run. So they
        are loaded with the read: a SELECT per level of subclass present in the result, none
        when no row is of a subclass. One option per level, each naming that level's direct
        subclasses: an option naming a subclass and its own subclass together loads only the
        first one's columns of a row of the second.
        """
        options: list[ORMOption] = []
        for mapper in inspect(self.model_class).self_and_descendants:
            children = [sub.class_ for sub in mapper.self_and_descendants if sub.inherits is mapper]
            if children:
                options.append(selectin_polymorphic(mapper.class_, children))
        return options

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

    def _displace_held(self, entity: T) -> None:
        """Make room in the session for a new entity whose key an entity it holds has.

        The ORM would warn that the two conflict before trying the INSERT. When the held
        entity's row still exists, the key is taken and nothing is tried; when the row was
        deleted elsewhere, the held entity is stale and leaves the session.

        Raises:
            UniqueViolation: If the row of the held entity exists.
        """
        mapper = inspect(self.model_class)
        identity = mapper.identity_key_from_instance(entity)
        held = self.session.identity_map.get(identity)
        if held is None or held is entity:
            return
        key = identity[1]
        root = mapper.base_mapper
        # A query of the key alone: loading the held entity through its base class would
        # expire its subclass's columns, which async code could not load back.
        taken = select(literal(1)).where(
            *(column == value for column, value in zip(root.primary_key, key, strict=True))
        )
        if self.session.scalar(taken.limit(1)) is not None:
            raise UniqueViolation(
                mapper.base_mapper.local_table.name,  # type: ignore[attr-defined]
                None,
                f"a row with key {key!r} already exists",
            )
        self.session.expunge(held)

    def _insert_rows(self, rows: list[dict[str, Any]]) -> list[T]:
        """Insert rows as Core executemany batches, one table at a time, and commit.

        Python-side defaults are filled in first and generated keys obtained without
        ``RETURNING`` (see :class:`~.bulk_insert.BulkInsert`), so the persisted entities are
        built from the values sent, without reading them back.

        Args:
            rows (list[dict[str, Any]]): Attribute values of each entity, keyed by attribute
                name; they are completed in place.

        Returns:
            list[T]: The persisted entities, in the order of ``rows``, attached to the session.
        """
        if not rows:
            return []
        mapper = inspect(self.model_class)
        bulk = bulk_insert_of(mapper)
        for row in rows:
            _check_json(mapper, row, self.table_name)
            bulk.complete(row)
        with self._unit(write=True, may_break_constraints=True):
            bulk.execute(self.session.connection(), rows)
            entities = [bulk.entity(row) for row in rows]
            if self.session.identity_map:
                # The rows are new, so an entity the session holds with one of their keys is
                # left from a row deleted elsewhere.
                for entity in entities:
                    held = self.session.identity_map.get(inspect(entity).key)
                    if held is not None:
                        self.session.expunge(held)
            self.session.add_all(entities)
        return entities


def _check_json(mapper: Mapper[Any], values: dict[str, Any], table_name: str) -> None:
    """Refuse JSON column values that a backend would refuse or could not read back."""
    for key in _json_attributes(mapper):
        value = values.get(key)
        if value is not None:
            json_value(value, table_name, key)


@functools.cache
def _json_attributes(mapper: Mapper[Any]) -> tuple[str, ...]:
    """Return the attributes of a mapped class stored in JSON columns."""
    return tuple(
        prop.key
        for prop in mapper.column_attrs
        if any(isinstance(column.type, JSON) for column in prop.columns)
    )


def _column_values(entity: BaseEntity) -> dict[str, Any]:
    """Return the column attributes set on a transient entity."""
    state = inspect(entity)
    values = state.dict
    return {attr.key: values[attr.key] for attr in state.mapper.column_attrs if attr.key in values}


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
