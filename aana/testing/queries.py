"""Counting the SQL statements a block of code runs, as ``django_assert_num_queries`` does.

The statements are counted on the running test's connection: the one ``db_session`` holds
its transaction on, or the engine of ``transactional_db_engine``. Transaction control
(BEGIN, COMMIT, ROLLBACK, SAVEPOINT) is not counted: whether it reaches the cursor differs
between the backends, and under ``db_session`` every ``commit()`` becomes a SAVEPOINT.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event

from aana.storage.session import get_engine
from aana.testing import isolation

_TRANSACTION_CONTROL = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@dataclass
class CapturedQueries:
    """The statements run within a :func:`count_queries` block.

    Attributes:
        statements (list[str]): The SQL of each statement, in order.
    """

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        """The number of statements."""
        return len(self.statements)

    def listing(self) -> str:
        """Return the statements, numbered, one a line."""
        return "\n".join(f"{n}. {sql}" for n, sql in enumerate(self.statements, start=1))


def _test_bind() -> Connection | Engine:
    """The running test's connection (``db_session``) or engine (``transactional_db_engine``)."""
    if isolation.has_current_session():
        bind = isolation.current_session().get_bind()
        assert isinstance(bind, Connection | Engine)
        return bind
    return get_engine()


@contextmanager
def count_queries(bind: Connection | Engine | None = None) -> Iterator[CapturedQueries]:
    """Record the statements run on the test's connection within the block.

    Args:
        bind (Connection | Engine | None): Where to listen; the running test's connection
            or engine when not given.

    Yields:
        CapturedQueries: Filled in as the block runs.
    """
    target = bind if bind is not None else _test_bind()
    captured = CapturedQueries()

    def record(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        sql = " ".join(statement.split())
        if not _TRANSACTION_CONTROL.match(sql):
            captured.statements.append(sql)

    event.listen(target, "before_cursor_execute", record)
    try:
        yield captured
    finally:
        event.remove(target, "before_cursor_execute", record)


@contextmanager
def assert_max_queries(
    limit: int, bind: Connection | Engine | None = None
) -> Iterator[CapturedQueries]:
    """Fail if the block runs more than ``limit`` statements, listing them.

    Args:
        limit (int): The most statements the block may run.
        bind (Connection | Engine | None): Where to listen; the running test's connection
            or engine when not given.

    Yields:
        CapturedQueries: Filled in as the block runs.

    Raises:
        AssertionError: If more than ``limit`` statements ran; the message lists them.
    """
    with count_queries(bind) as captured:
        yield captured
    if len(captured) > limit:
        raise AssertionError(
            f"expected at most {limit} queries, {len(captured)} ran:\n{captured.listing()}"
        )
