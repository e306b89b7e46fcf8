"""The generic repository every entity repository builds on."""

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Integer,
    SmallInteger,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    select,
)
from sqlalchemy import Sequence as DatabaseSequence
from sqlalchemy.orm import (
    Mapper,
    Session,
    make_transient_to_detached,
    selectin_polymorphic,
)
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.schema import ColumnDefault, sort_tables
from sqlalchemy.sql.elements import ColumnElement

from aana.exceptions.db import NotFoundException, UniqueViolation
from aana.storage.models.base import BaseEntity
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
        """Constructor.

        Args:
            session (Session): The session to work in.
            model_class (type[T]): The entity class.
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
        ``RETURNING`` (see :class:`_BulkInsert`), so the persisted entities are built from
        the values sent, without reading them back.

        Args:
            rows (list[dict[str, Any]]): Attribute values of each entity, keyed by attribute
                name; they are completed in place.

        Returns:
            list[T]: The persisted entities, in the order of ``rows``, attached to the session.
        """
        if not rows:
            return []
        mapper = inspect(self.model_class)
        bulk = _bulk_insert(mapper)
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


class _BulkInsert:
    """Inserts rows of one mapped class with Core executemany and builds their entities.

    SQLAlchemy's ORM bulk ``INSERT ... RETURNING`` in parameter order sends one statement
    per row on SQLite when the database generates the key, and on PostgreSQL multi-row
    statements with thousands of placeholders. Here every value of a row is known before
    the INSERT instead, so nothing has to be read back: the given values, the Python-side
    column defaults (called once per row, as Core would call them), NULL where a column has
    no default at all, and the generated key, obtained without a race:

    - PostgreSQL: reserved from the key's sequence in one query, then sent explicitly.
    - SQLite: derived after the INSERT. The transaction holds the database's write lock
      from its first write, so no other connection inserts in between, and SQLite gives each
      new row the largest rowid plus one: a batch of n rows gets the n ids ending at
      ``last_insert_rowid()``. Only once the largest rowid has reached its limit does SQLite
      pick free rowids at random; the last row is then not the largest, which is checked.

    A column whose value only the database knows (a server default, an SQL expression or a
    default that reads the execution context, when no value is given) is left out of the
    INSERT and expired on the entity, to be loaded on first access.

    Attributes:
        mapper (Mapper[Any]): The mapper of the entity class.
    """

    def __init__(self, mapper: Mapper[Any]) -> None:
        """Constructor.

        Args:
            mapper (Mapper[Any]): The mapper of the entity class.
        """
        self.mapper = mapper
        # Reading column_attrs configures the mappers, which building instances needs.
        attribute_of: dict[ColumnElement[Any], str] = {
            column: prop.key for prop in mapper.column_attrs for column in prop.columns
        }
        tables = sort_tables(mapper.tables)
        # Parent tables first: a joined subclass's rows reference their parent's key.
        self._tables = [
            (
                table,
                [(column, attribute_of[column]) for column in table.c if column in attribute_of],
            )
            for table in tables
        ]
        generated = tables[0].autoincrement_column
        self._generated = generated
        self._generated_key = attribute_of.get(generated) if generated is not None else None
        self._defaults: list[tuple[str, Callable[[], Any]]] = []
        self._evaluates_none = {
            attribute_of[column]
            for table in tables
            for column in table.c
            if column in attribute_of and column.type.should_evaluate_none
        }
        # Left out of the INSERT when a row lacks them, and so NULL: not sent as None, which
        # a type such as JSON would store as a value of its own.
        self._null_if_absent: list[str] = []
        seen = set()
        # A joined subclass maps one key attribute to a column per table; the root's counts.
        for table in tables:
            for column in table.c:
                key = attribute_of.get(column)
                if key is None or key in seen or column is generated:
                    continue
                seen.add(key)
                if column.default is None and column.server_default is None:
                    self._null_if_absent.append(key)
                    continue
                factory = _default_factory(column)
                if factory is not None:
                    self._defaults.append((key, factory))
        discriminator = (
            attribute_of.get(mapper.polymorphic_on) if mapper.polymorphic_on is not None else None
        )
        self._discriminator = (
            (discriminator, mapper.polymorphic_identity)
            if discriminator is not None and mapper.polymorphic_identity is not None
            else None
        )

    def complete(self, row: dict[str, Any]) -> None:
        """Fill in the discriminator and the Python-side defaults that ``row`` lacks.

        Args:
            row (dict[str, Any]): Attribute values of one entity, completed in place.
        """
        # As the ORM does: None stands for "no value" unless the type stores None itself.
        for key in [key for key, value in row.items() if value is None]:
            if key not in self._evaluates_none:
                del row[key]
        if self._discriminator is not None:
            row.setdefault(*self._discriminator)
        for key, factory in self._defaults:
            if key not in row:
                row[key] = factory()

    def execute(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows``, table by table, filling in the generated keys they lack.

        Args:
            connection (Connection): The connection of the session's transaction.
            rows (list[dict[str, Any]]): Completed rows; generated keys are added to them.

        Raises:
            NotImplementedError: If keys must be generated on a backend other than
                PostgreSQL and SQLite.
            RuntimeError: If SQLite did not number the new rows consecutively.
        """
        key = self._generated_key
        pending = [] if key is None else [row for row in rows if key not in row]
        dialect = connection.dialect.name
        if key is not None and pending and dialect == "postgresql":
            for row, value in zip(pending, self._reserve(connection, len(pending)), strict=True):
                row[key] = value
        elif pending and dialect != "sqlite":
            raise NotImplementedError(f"generating keys in bulk on {dialect}")
        for table, columns in self._tables:
            # Rows that leave different columns to the database go in different statements.
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in rows:
                present = tuple(name for _column, name in columns if name in row)
                groups.setdefault(present, []).append(row)
            for present, group in groups.items():
                # Bound by attribute name, so the rows serve as parameters as they are.
                statement = insert(table).values(
                    {
                        column: bindparam(name, type_=column.type)
                        for column, name in columns
                        if name in present
                    }
                )
                connection.execute(statement, group)
                if key is not None and key not in present:
                    self._number(connection, group)

    def entity(self, values: dict[str, Any]) -> Any:
        """Build the detached entity of an inserted row, as if loaded from it.

        Like the ORM's loading, this does not call ``__init__``; attributes not in
        ``values`` are expired.
        """
        entity = self.mapper.class_manager.new_instance()
        state_dict = instance_dict(entity)
        state_dict.update(values)
        for key in self._null_if_absent:
            state_dict.setdefault(key, None)
        make_transient_to_detached(entity)
        return entity

    def _reserve(self, connection: Connection, count: int) -> Sequence[int]:
        """Draw ``count`` values from the PostgreSQL sequence of the generated key."""
        column = self._generated
        assert column is not None
        next_value = (
            column.default.next_value()
            if isinstance(column.default, DatabaseSequence)
            else func.nextval(func.pg_get_serial_sequence(column.table.fullname, column.name))
        )
        return connection.scalars(
            select(next_value).select_from(func.generate_series(1, count))
        ).all()

    def _number(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Give ``rows``, just inserted into SQLite without keys, the rowids they got."""
        column, key = self._generated, self._generated_key
        assert column is not None and key is not None
        largest, last = connection.execute(select(func.max(column), func.last_insert_rowid())).one()
        if largest != last:
            raise RuntimeError(
                f"{column.table.name}: SQLite did not number the new rows consecutively"
            )
        first = last - len(rows) + 1
        for offset, row in enumerate(rows):
            row[key] = first + offset


@functools.cache
def _bulk_insert(mapper: Mapper[Any]) -> _BulkInsert:
    """Return the bulk insert of a mapped class, built once: it inspects every column."""
    return _BulkInsert(mapper)


def _default_factory(column: Column[Any]) -> Callable[[], Any] | None:
    """Return what gives the value of a column with a default, or None if only the database can.

    SQLAlchemy wraps a default that takes no argument in one that takes the execution
    context and keeps it as ``__wrapped__``; one that reads the context is left to Core.
    """
    default = column.default
    if isinstance(default, ColumnDefault) and default.is_scalar:
        value = default.arg
        return lambda: value
    if isinstance(default, ColumnDefault) and default.is_callable:
        return getattr(default.arg, "__wrapped__", None)
    return None
