"""The ``CREATE TYPE`` and ``DROP TYPE`` of enums that autogenerate leaves out."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy import Enum as SqlEnum


class CreateEnumTypeOp(ops.MigrateOperation):
    """Create a named enum type before a column that uses it is added.

    On PostgreSQL an enum column needs its type. ``create_table`` creates it, but
    ``add_column`` does not, and fails with "type ... does not exist"; autogenerate writes no
    create for it, so this operation is put before the ``add_column``. It renders as
    ``sa.Enum(...).create(op.get_bind(), checkfirst=True)``, which emits ``CREATE TYPE`` on
    PostgreSQL unless the type exists, and nothing on SQLite, where an enum is a string.

    Attributes:
        name (str): The enum type's name.
        values (tuple[str, ...]): Its values.
    """

    def __init__(self, name: str, values: tuple[str, ...]) -> None:
        """Describe the enum type to create: its name and its values, in order.

        Args:
            name (str): The enum type's name.
            values (tuple[str, ...]): Its values.
        """
        self.name = name
        self.values = values

    def to_diff_tuple(self) -> tuple[str, str]:
        """Describe the operation the way autogenerate's diffs do."""
        return ("create_enum_type", self.name)


class DropEnumTypeOp(ops.MigrateOperation):
    """Drop a named enum type once no column uses it.

    On PostgreSQL the type of an enum column outlives ``drop_table`` and ``drop_column``, so
    a downgrade followed by an upgrade fails with "type ... already exists"; autogenerate
    writes no drop for it, so this operation is put after the drops that free the type. It
    renders as ``sa.Enum(name=...).drop(op.get_bind(), checkfirst=True)``: ``DROP TYPE`` on
    PostgreSQL, nothing on SQLite.

    Attributes:
        name (str): The enum type's name.
    """

    def __init__(self, name: str) -> None:
        """Describe the enum type to drop, by its name.

        Args:
            name (str): The enum type's name.
        """
        self.name = name

    def to_diff_tuple(self) -> tuple[str, str]:
        """Describe the operation the way autogenerate's diffs do."""
        return ("drop_enum_type", self.name)


@renderers.dispatch_for(CreateEnumTypeOp)
def _render_create_enum_type(autogen_context: AutogenContext, op: CreateEnumTypeOp) -> str:
    values = ", ".join(repr(value) for value in op.values)
    return f"sa.Enum({values}, name={op.name!r}).create(op.get_bind(), checkfirst=True)"


@renderers.dispatch_for(DropEnumTypeOp)
def _render_drop_enum_type(autogen_context: AutogenContext, op: DropEnumTypeOp) -> str:
    return f"sa.Enum(name={op.name!r}).drop(op.get_bind(), checkfirst=True)"


def manage_enum_types(
    context: MigrationContext, revision: Any, directives: list[ops.MigrationScript]
) -> None:
    """Add the enum type creates and drops that autogenerate leaves out.

    A :class:`CreateEnumTypeOp` goes before the first ``add_column`` of a column with a
    named native enum. A :class:`DropEnumTypeOp` goes after the drops that free a type: when
    every column of the models using it is dropped by the same upgrade or downgrade (a
    column of the models that survives keeps it).
    """
    metadata = context.opts["target_metadata"]
    users: dict[str, set[tuple[str, str]]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            enum = _enum_type(column)
            if enum:
                users.setdefault(enum.name, set()).add((table.name, column.name))
    for script in directives:
        for container in [*script.upgrade_ops_list, *script.downgrade_ops_list]:
            _add_enum_type_ops(container, users)


def _add_enum_type_ops(container: ops.OpContainer, users: dict[str, set[tuple[str, str]]]) -> None:
    dropped: dict[str, set[tuple[str, str]]] = {}
    last_drop: dict[str, int] = {}
    for index, op in enumerate(container.ops):
        for table_name, column in _dropped_columns(op):
            enum = _enum_type(column)
            if enum:
                dropped.setdefault(enum.name, set()).add((table_name, column.name))
                last_drop[enum.name] = index
    freed = {name for name in dropped if not users.get(name, set()) - dropped[name]}
    created: set[str] = set()
    result: list[ops.MigrateOperation] = []
    for index, op in enumerate(container.ops):
        for column in _added_columns(op):
            enum = _enum_type(column)
            if enum and enum.name not in created:
                created.add(enum.name)
                result.append(CreateEnumTypeOp(enum.name, enum.values))
        result.append(op)
        result.extend(DropEnumTypeOp(name) for name in sorted(freed) if last_drop[name] == index)
    container.ops = result


def _dropped_columns(op: ops.MigrateOperation) -> Iterator[tuple[str, Column[Any]]]:
    if isinstance(op, ops.DropTableOp):
        table = op.to_table()
        yield from ((table.name, column) for column in table.columns)
    elif isinstance(op, ops.ModifyTableOps):
        for inner in op.ops:
            if isinstance(inner, ops.DropColumnOp):
                yield inner.table_name, inner.to_column()


def _added_columns(op: ops.MigrateOperation) -> Iterator[Column[Any]]:
    """The columns ``add_column`` adds; ``create_table`` creates its enum types itself."""
    if isinstance(op, ops.ModifyTableOps):
        for inner in op.ops:
            if isinstance(inner, ops.AddColumnOp):
                yield inner.column


@dataclass(frozen=True)
class _EnumType:
    name: str
    values: tuple[str, ...]


def _enum_type(column: Column[Any]) -> _EnumType | None:
    """Return the database type a column's native enum owns, if it has one."""
    type_ = column.type
    if isinstance(type_, SqlEnum) and type_.native_enum and type_.name:
        return _EnumType(type_.name, tuple(type_.enums))
    return None
