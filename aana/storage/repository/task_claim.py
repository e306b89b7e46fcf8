"""The SQL of the task queue's claim (:meth:`TaskRepository.fetch_unprocessed_tasks`).

A claim is one ``UPDATE ... RETURNING`` whose candidates are read in index order, never
sorted from the whole table, so that its cost follows the tasks it takes, not the history:

- queued tasks through ``ix_tasks_claimable``, failed ones to retry through
  ``ix_tasks_retryable`` (a column the database generates holds their error name);
- with the API service's per-user limits, each subscribed user's next tasks through
  ``ix_tasks_user_claimable`` (user, then claim order) and the user's active tasks counted
  through ``ix_tasks_user_active``: a claim reads about ``users x limit`` index entries,
  however many tasks each user has waiting.

The statements are built once per shape and reused with the values as bound parameters:
building one, and its cache key, cost more Python time than running it. Partial indexes
serve a query only when it carries their condition as written (SQLite) or provably
(PostgreSQL, which cannot prove it from a bound parameter in a generic plan), so the status
conditions are rendered into the SQL text (:func:`literal_statuses`).
"""

import functools
import typing
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.selectable import CTE, ExecutableReturnsRows, TableValuedAlias

from aana.storage.models.task import QUEUED_STATUSES, Status, TaskEntity

ACTIVE_STATUSES = (Status.ASSIGNED, Status.RUNNING)

USER_LOCK_NAMESPACE = 0x61617573  # "aaus": per-user claim locks (advisory, per transaction)
"""First key of the PostgreSQL advisory locks a per-user claim takes on the users it serves;
the second is the user id's ``hashtext``. Not the migrations' lock (``0x61616E61``)."""

_TASKS = typing.cast(Table, TaskEntity.__table__)  # Typed as any FromClause; it is a table.


def literal_statuses(statuses: Sequence[Status], table: Any = _TASKS) -> ColumnElement[bool]:
    """Return ``status IN (...)``, or ``=`` for one, with the values written out.

    A partial index serves a query only when the query carries the index's condition: SQLite
    compares the terms as written (``IN`` with one value is not ``=``), and PostgreSQL cannot
    prove the condition from bound parameters in a prepared statement's generic plan. The
    values are rendered into the SQL text when the statement runs, never sent as parameters.

    Args:
        statuses (Sequence[Status]): The statuses.
        table (Any): The tasks table, or an alias of it.

    Returns:
        ColumnElement[bool]: The condition.
    """
    column: ColumnElement[Any] = table.c.status
    values = [literal(status.value, String(), literal_execute=True) for status in statuses]
    return column == values[0] if len(values) == 1 else column.in_(values)


ACTIVE = literal_statuses(ACTIVE_STATUSES)
"""Tasks ``assigned`` or ``running``, as ``ix_tasks_active`` and ``ix_tasks_user_active``
state it."""

_ORDER = (_TASKS.c.priority.desc(), _TASKS.c.created_at, _TASKS.c.id)


def run_once(locking: Select[Any]) -> Select[Any]:
    """Return the ids a locking SELECT finds, evaluated exactly once (see :func:`once`)."""
    return select(once(locking).c.id)


def once(locking: Select[Any], name: str | None = None) -> CTE:
    """Return a locking SELECT as a CTE that the database evaluates exactly once.

    PostgreSQL may otherwise inline the SELECT into the UPDATE and run it again for a rescan;
    with ``SKIP LOCKED`` or ``LIMIT`` a second run can pick other rows than the first. SQLite
    runs it once anyway, under the write lock the transaction already holds (and has no row
    locks: ``FOR UPDATE`` is left out there); a materialized CTE would only add work, a third
    of a one-task claim's statement time.
    """
    return locking.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")


@functools.cache
def claim_statement(limited: bool, retrying: bool) -> ExecutableReturnsRows:
    """Return the claim of every queued task, whoever it belongs to.

    Each kind of candidate (queued; failed with a retryable error) is locked and limited on
    its own, in index order, and the two short lists are merged: an ``OR`` of the two
    conditions would have the database read and sort every row of both instead.

    Args:
        limited (bool): Claim at most ``limit`` tasks (a bound parameter).
        retrying (bool): Also claim failed tasks whose error is retryable (parameters
            ``retryable``, expanding, and ``max_retries``).

    Returns:
        ExecutableReturnsRows: The statement, for ``Session.scalars`` with ``now`` and the
        parameters above.
    """
    if retrying:
        kinds = [
            _locked(_queued(), limited, "queued"),
            _locked(_retry(), limited, "retry"),
        ]
        chosen = _first(union_all(*(_key(kind) for kind in kinds)), limited)
    else:
        chosen = select(_locked(_queued(), limited, "queued").c.id)
    return _assign(chosen)


@functools.cache
def lock_users_statement() -> Select[Any]:
    """Return the statement that locks, among ``users``, those no other claim is serving.

    PostgreSQL only: ``pg_try_advisory_xact_lock`` per user, held to the end of the claim's
    transaction; a user whose lock another claim holds is left out, as ``SKIP LOCKED``
    leaves out a locked row. The claim then counts each user's active tasks in a statement
    of its own, whose snapshot sees every claim for that user that committed before: so
    two workers cannot both fill the same user's last free place.
    """
    users = _users("postgresql")
    key = func.hashtext(users.c.user_id)
    return select(users.c.user_id).where(func.pg_try_advisory_xact_lock(USER_LOCK_NAMESPACE, key))


@functools.cache
def per_user_claim_statement(dialect: str, limited: bool, retrying: bool) -> ExecutableReturnsRows:
    """Return the claim with the API service's limits: per user, up to a number of active tasks.

    Candidates are the tasks of the ``users`` (subscribed, and on PostgreSQL locked by
    :func:`lock_users_statement`), each user's first ``cap`` minus its active tasks in claim
    order, and every task without a user. Per user the database reads the user's active
    tasks and next tasks through their partial indexes (on PostgreSQL with a ``LATERAL``
    join, on SQLite with a correlated ``IN``), so the cost follows the number of users and
    the limit, not how many tasks wait. Tasks without a user are read as in
    :func:`claim_statement`; retryable failed tasks come from ``ix_tasks_retryable``, once.

    Args:
        dialect (str): ``"postgresql"`` or ``"sqlite"``.
        limited (bool): Claim at most ``limit`` tasks.
        retrying (bool): Also claim failed tasks whose error is retryable.

    Returns:
        ExecutableReturnsRows: The statement, for ``Session.scalars`` with ``now``,
        ``users`` (a list on PostgreSQL, a JSON array on SQLite), ``cap`` and the parameters
        of :func:`claim_statement`.
    """
    tasks = _TASKS.c
    users = _users(dialect)
    active = (
        select(func.count())
        .select_from(_TASKS)
        .where(tasks.user_id == users.c.user_id, ACTIVE)
        .scalar_subquery()
    )
    cap = bindparam("cap", type_=Integer)
    budgets = _materialized(
        select(users.c.user_id.label("user_id"), (cap - active).label("budget")).cte("budgets")
    )
    # A user's read stops at the user's free places, and at the claim's limit.
    limit = bindparam("limit", type_=Integer)
    if dialect == "postgresql":
        places = func.greatest(budgets.c.budget, 0)
        next_tasks = (
            _queued()
            .add_columns(tasks.user_id)
            .where(tasks.user_id == budgets.c.user_id)
            .order_by(*_ORDER)
            .limit(func.least(places, limit) if limited else places)
            .lateral("next_tasks")
        )
        users_next = select(*next_tasks.c, budgets.c.budget).select_from(
            budgets.join(next_tasks, true())
        )
    else:
        # SQLite has no LATERAL and no LIMIT naming an outer column: each user's first
        # ``cap`` tasks (``limit`` if fewer), through a correlated IN run once per user.
        queued = _TASKS.alias("queued")
        firsts = (
            select(queued.c.id)
            .where(queued.c.user_id == budgets.c.user_id, literal_statuses(QUEUED_STATUSES, queued))
            .order_by(queued.c.priority.desc(), queued.c.created_at, queued.c.id)
            .limit(func.min(cap, limit) if limited else cap)
            .correlate(budgets)
        )
        users_next = select(
            tasks.id, tasks.priority, tasks.created_at, tasks.user_id, budgets.c.budget
        ).select_from(budgets.join(_TASKS, tasks.id.in_(firsts)))
    candidates = [users_next]
    if retrying:
        candidates.append(
            select(tasks.id, tasks.priority, tasks.created_at, tasks.user_id, budgets.c.budget)
            .select_from(_TASKS.join(budgets, budgets.c.user_id == tasks.user_id))
            .where(_retryable_condition())
        )
    mine = union_all(*candidates).subquery("users_candidates")
    ranked = select(
        *mine.c,
        func.row_number()
        .over(
            partition_by=mine.c.user_id,
            order_by=(mine.c.priority.desc(), mine.c.created_at, mine.c.id),
        )
        .label("rank"),
    ).subquery("ranked")
    # Each candidate carries its user's budget: no join back to the users, which SQLite ran
    # as a loop over every candidate for every user.
    within_limits = select(ranked.c.id, ranked.c.priority, ranked.c.created_at).where(
        ranked.c.rank <= ranked.c.budget
    )
    # Ordered by user_id (all NULL) first: the order of ix_tasks_user_claimable, which
    # PostgreSQL then reads from its NULL end. Without it, when the tasks without a user come
    # late in the claim order, the planner walked ix_tasks_claimable past every user's task.
    no_user_order = (tasks.user_id, *_ORDER)
    kinds = [_locked(_queued().where(tasks.user_id.is_(None)), limited, "no_user", no_user_order)]
    if retrying:
        kinds.append(_locked(_retry().where(tasks.user_id.is_(None)), limited, "no_user_retry"))
    chosen = _first(union_all(within_limits, *(_key(kind) for kind in kinds)), limited)
    if dialect == "postgresql":
        # The users' tasks were read unlocked (their users' locks keep other per-user claims
        # off them): lock the few chosen, skipping any that something else holds, and check
        # again that each is still claimable.
        claimable = literal_statuses(QUEUED_STATUSES)
        if retrying:
            claimable = or_(claimable, _retryable_condition())
        chosen = select(
            once(
                select(tasks.id)
                .where(tasks.id.in_(_materialized(chosen.cte("chosen")).select()), claimable)
                .with_for_update(skip_locked=True),
                "locked",
            ).c.id
        )
    return _assign(chosen)


def _users(dialect: str) -> TableValuedAlias:
    """Return the ``users`` parameter as a table of one column, ``user_id``."""
    if dialect == "postgresql":
        unnested = func.unnest(bindparam("users", type_=ARRAY(String)))
        return unnested.table_valued("user_id").render_derived(name="users")
    # SQLite: the ids as a JSON array, one row per element.
    elements = func.json_each(bindparam("users", type_=String)).table_valued("value")
    return select(elements.c.value.label("user_id")).subquery("users")  # type: ignore[return-value]


def _queued() -> Select[Any]:
    tasks = _TASKS.c
    return select(tasks.id, tasks.priority, tasks.created_at).where(
        literal_statuses(QUEUED_STATUSES)
    )


def _retryable_condition() -> ColumnElement[bool]:
    # error_name is only set on failed rows; the status condition matches the index's.
    tasks = _TASKS.c
    return and_(
        literal_statuses([Status.FAILED]),
        tasks.error_name.in_(bindparam("retryable", expanding=True)),
        tasks.num_retries < bindparam("max_retries", type_=Integer),
    )


def _retry() -> Select[Any]:
    tasks = _TASKS.c
    return select(tasks.id, tasks.priority, tasks.created_at).where(_retryable_condition())


def _locked(
    candidates: Select[Any], limited: bool, name: str, order: Sequence[Any] = _ORDER
) -> CTE:
    """Return the candidates in claim order, locked, limited, evaluated once."""
    locking = candidates.order_by(*order).with_for_update(skip_locked=True)
    if limited:
        locking = locking.limit(bindparam("limit", type_=Integer))
    return once(locking, name)


def _key(kind: CTE) -> Select[Any]:
    return select(kind.c.id, kind.c.priority, kind.c.created_at)


def _first(merged: Any, limited: bool) -> Select[Any]:
    """Return the ids of the merged candidates, the first ``limit`` in claim order if limited."""
    both = merged.subquery("candidates")
    chosen = select(both.c.id)
    if limited:
        chosen = chosen.order_by(both.c.priority.desc(), both.c.created_at, both.c.id).limit(
            bindparam("limit", type_=Integer)
        )
    return chosen


def _materialized(cte: CTE) -> CTE:
    return cte.prefix_with("MATERIALIZED", dialect="postgresql")


def _assign(chosen: Select[Any]) -> ExecutableReturnsRows:
    """Return the UPDATE that assigns the chosen tasks, loading them as entities.

    A Core ``UPDATE ... RETURNING`` on the table, loaded through ``from_statement``: that
    skips the ORM's bulk-update machinery, which costs more per call, while the entities
    still enter the session's identity map.
    """
    tasks = _TASKS.c
    now = bindparam("now", type_=tasks.updated_at.type)
    claim = (
        update(_TASKS)
        .where(tasks.id.in_(chosen))
        .values(
            status=Status.ASSIGNED,
            assigned_at=now,
            num_retries=tasks.num_retries + 1,
            attempt=tasks.attempt + 1,
            updated_at=now,
        )
        .returning(*(column for column in _TASKS.c if column.key != "error_name"))
    )
    return select(TaskEntity).from_statement(claim)
