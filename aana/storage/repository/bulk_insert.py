"""The insert engine behind ``create_multiple`` and ``save_all``: rows in, entities out.

:meth:`BaseRepository.create_multiple <aana.storage.repository.BaseRepository.create_multiple>`
and the repositories' ``save_all`` insert thousands of rows at once and return them as
persistent entities with their generated keys. SQLAlchemy's own ways to do that are slower
where it matters: the unit of work (``session.add_all``) tracks and flushes each object and
reads generated keys back, and the ORM's bulk ``INSERT ... RETURNING`` in parameter order
sends one statement per row on SQLite when the database generates the key, and on
PostgreSQL multi-row statements with thousands of placeholders. :class:`BulkInsert` sends a
plain Core executemany per table instead, the statement of an insert that returns nothing,
and works out each row's key itself, so that the entities are built from the values sent
without reading anything back.

``benchmarks/cases/captions.py`` (``CaptionRepository.save_all``) and
``benchmarks/cases/videos.py`` (``VideoRepository.create_multiple``, two tables per row)
measure it against a Core ``insert()`` executemany, the same insert with ``RETURNING`` and,
for captions, the ORM's ``add_all``; ``benchmarks/RESULTS.md`` holds the latest figures.

Internal to the repositories: its rows are the attribute values of transient entities, which
:class:`~aana.storage.repository.BaseRepository` checks before they come here.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, bindparam, func, insert, select
from sqlalchemy import Sequence as DatabaseSequence
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.schema import ColumnDefault, sort_tables
from sqlalchemy.sql.elements import ColumnElement


class BulkInsert:
    """Inserts rows of one mapped class with Core executemany and builds their entities.

    Every value of a row is known before the INSERT, so nothing has to be read back: the
    given values, the Python-side column defaults (called once per row, as Core would call
    them), NULL where a column has no default at all, and the generated key, obtained
    without a race:

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
        """Read from the mapper, once, what every insert of its class needs.

        That is each table's columns in insertion order (parent tables first), the
        generated key, the Python-side defaults, the attributes left NULL when absent and
        the polymorphic discriminator.

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
def bulk_insert_of(mapper: Mapper[Any]) -> BulkInsert:
    """Return the bulk insert of a mapped class, built once: it inspects every column.

    Args:
        mapper (Mapper[Any]): The mapper of the entity class.

    Returns:
        BulkInsert: The class's bulk insert, shared by every repository and session.
    """
    return BulkInsert(mapper)


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
