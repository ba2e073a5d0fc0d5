"""The one door into the reminder outbox (DESIGN.md: reminders.Reminder).

Each app's `reminders.py` turns its clinical rules into ReminderDrafts and either
- writes them inside the transaction of the clinical change that causes them
  (`reminders_write`, e.g. a PHQ-9 item-9 safety alert or a no-show), or
- registers a daily rule (`reminder_rule_register`) that the periodic scan runs.
`reminders` never imports the apps that feed it (medications, therapy, outcomes): they
register in AppConfig.ready(). careplans, below reminders, registers nothing: its rules are
in reminders/care_plans.py.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from reminders.models import URGENT_REMINDER_KINDS, Reminder, ReminderStatus


@dataclass(frozen=True)
class ReminderDraft:
    recipient_id: int
    patient_id: int | None
    kind: str
    subject_type: str  # model label, e.g. "careplans.careplan"
    subject_id: str  # the subject's public id
    due_date: date
    detail: str = ""  # shown in the inbox behind login; never e-mailed


# The columns a DraftQuery's queryset selects, in this order (values_list of these aliases).
DRAFT_COLUMNS = ("recipient_id", "patient_id", "kind", "subject_type", "subject_id", "due_date", "detail")


@dataclass(frozen=True)
class DraftQuery:
    """A rule's drafts as ONE query, so the scan writes them set-based (issue 14): on
    PostgreSQL `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, no row ever becoming a Python
    object. `queryset` is a values_list of DRAFT_COLUMNS as SQL expressions; `drafts` builds
    the same rows in Python, for other databases (SQLite: a UUID casts to text without its
    hyphens there, and dates format differently) and for tests that compare the two."""

    queryset: QuerySet[Any] | None
    drafts: Callable[[], Iterable[ReminderDraft]]
    urgent: bool = False  # every row is of an urgent kind (all or none: one kind per query)
    # Instead of `queryset`, PostgreSQL SQL selecting DRAFT_COLUMNS, and its params: for a rule
    # the ORM cannot say without a per-row subplan per use of each value (LATERAL joins).
    select: tuple[str, tuple[Any, ...]] | None = None

    def select_sql(self) -> tuple[str, tuple[Any, ...]]:
        if self.select is not None:
            return self.select
        assert self.queryset is not None, "a DraftQuery has a queryset or a select"
        sql, params = self.queryset.query.sql_with_params()
        return sql, tuple(params)

    def rows(self) -> set[tuple[Any, ...]]:
        """The selected rows as DRAFT_COLUMNS tuples (PostgreSQL; tests compare them to `drafts`)."""
        sql, params = self.select_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {tuple(row) for row in cursor.fetchall()}


# A daily rule: given today's date, the reminders due (drafts, or one DraftQuery). Must be
# set-based (no per-patient loop). An incremental rule also takes `patients=<a Patient
# queryset>` and then returns only those patients' reminders (the same-day rescan, issue 14).
ReminderRule = Callable[..., "Iterable[ReminderDraft] | DraftQuery"]
_RULES: dict[str, ReminderRule] = {}
_INCREMENTAL: set[str] = set()
_ON_URGENT: list[Callable[[], None]] = []


def reminder_rule_register(name: str, rule: ReminderRule, *, incremental: bool = False) -> None:
    """`incremental`: the rule takes `patients=` and reads, per patient, only tables whose
    changes mark the patient (reminders.scan_marks). Other rules run in full on every scan."""
    _RULES[name] = rule
    if incremental:
        _INCREMENTAL.add(name)
    else:
        _INCREMENTAL.discard(name)


def reminder_rules() -> dict[str, ReminderRule]:
    return dict(_RULES)


def rule_is_incremental(name: str) -> bool:
    return name in _INCREMENTAL


def urgent_dispatcher_register(dispatch: Callable[[], None]) -> None:
    """What to run after a transaction that wrote urgent reminders commits (the delivery task)."""
    if dispatch not in _ON_URGENT:
        _ON_URGENT.append(dispatch)


def reminders_write(drafts: Iterable[ReminderDraft], *, batch_size: int = 2000) -> int:
    """Insert drafts in the caller's transaction; an existing (kind, subject, due, recipient)
    is skipped by the database. Returns how many drafts were offered."""
    rows = [
        Reminder(
            recipient_id=d.recipient_id,
            patient_id=d.patient_id,
            kind=d.kind,
            subject_type=d.subject_type,
            subject_id=d.subject_id,
            due_date=d.due_date,
            detail=d.detail[:300],
            urgent=d.kind in URGENT_REMINDER_KINDS,
            status=ReminderStatus.PENDING,
        )
        for d in drafts
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=batch_size)
    if any(row.urgent for row in rows):
        for dispatch in _ON_URGENT:
            transaction.on_commit(dispatch)
    return len(rows)


# Columns of a new row the INSERT ... SELECT fills itself (the ORM's defaults, in SQL).
_NEW_ROW_SQL = {
    "public_id": "gen_random_uuid()",
    "status": f"'{ReminderStatus.PENDING.value}'",
    "attempts": "0",
    "created_at": "statement_timestamp()",
    "updated_at": "statement_timestamp()",
}


# One statement (set_config(..., true) is SET LOCAL): the scan's query count stays pinned.
INSERT_SELECT_SETTINGS = (
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true), "
    "set_config('enable_mergejoin', 'off', true)",
)


def reminders_insert_select(query: DraftQuery) -> int:
    """Write a DraftQuery's rows in the caller's transaction; returns how many were new
    (PostgreSQL) or offered (elsewhere).

    PostgreSQL: one statement. Rows already in the outbox are skipped by an anti-join (the
    hourly steady state inserts nothing, creates no dead tuples) and, for a concurrent scan
    that inserted the same row a moment earlier, by the unique constraint: exactly once
    either way. Elsewhere: the drafts in Python through reminders_write (conflicts ignored).
    """
    if connection.vendor != "postgresql":
        return reminders_write(query.drafts())  # offered, as before: existing rows skipped by the insert
    sql, params = insert_select_sql(query)
    with connection.cursor() as cursor:
        # For the rest of the caller's transaction (a rule's, in the scan): the correlated
        # subqueries' cost estimates are huge, so PostgreSQL JIT-compiled each statement:
        # 1-4 s of a 4 s statement at 50k patients (EXPLAIN ANALYZE, issue 14). And sorts of
        # the whole clinic's rows fit in memory instead of spilling to disk. No merge joins: for
        # the anti-join against the outbox PostgreSQL sorted the whole outbox (228k rows, 1.1 s
        # of a 2.7 s statement at 100k patients, once per rule); a hash or an index probe instead.
        for setting in INSERT_SELECT_SETTINGS:
            cursor.execute(setting)
        cursor.execute(sql, params)
        inserted = cursor.rowcount
    if query.urgent and inserted:
        for dispatch in _ON_URGENT:
            transaction.on_commit(dispatch)
    return inserted


def insert_select_sql(query: DraftQuery) -> tuple[str, tuple[Any, ...]]:
    """The PostgreSQL statement reminders_insert_select runs (also what benchmarks EXPLAIN)."""
    select_sql, params = query.select_sql()
    return _insert_from(select_sql, "true" if query.urgent else "false"), params


def _insert_from(select_sql: str, urgent_sql: str) -> str:
    """INSERT the rows of `select_sql` (DRAFT_COLUMNS, in order) that are not in the outbox yet."""
    table = Reminder._meta.db_table
    quote = connection.ops.quote_name
    draft_cols = ", ".join(f"q.{quote(column)}" for column in DRAFT_COLUMNS)
    new_cols = list(_NEW_ROW_SQL) + ["urgent"]
    new_values = [*_NEW_ROW_SQL.values(), urgent_sql]
    key = ("kind", "subject_type", "subject_id", "due_date", "recipient_id")
    already = " AND ".join(f"r.{quote(c)} = q.{quote(c)}" for c in key)
    aliases = ", ".join(quote(column) for column in DRAFT_COLUMNS)
    # Only quoted identifiers and our own constants are formatted in; values travel as params.
    insert_cols = ", ".join(quote(c) for c in (*DRAFT_COLUMNS, *new_cols))
    return (
        f"INSERT INTO {quote(table)} ({insert_cols}) "  # noqa: S608
        f"SELECT {draft_cols}, {', '.join(new_values)} FROM ({select_sql}) AS q ({aliases}) "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(table)} r WHERE {already}) "
        "ON CONFLICT DO NOTHING"
    )


# The drafts of a Python rule as arrays, one per DRAFT_COLUMNS column (PostgreSQL unnest).
_UNNEST_SQL = (
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[])"
)


def reminders_insert_drafts(drafts: Iterable[ReminderDraft]) -> int:
    """Write a Python rule's drafts in the caller's transaction; returns how many were new
    (PostgreSQL) or offered (elsewhere, through reminders_write).

    PostgreSQL: one INSERT ... SELECT FROM unnest(<7 arrays>) with the same anti-join as a
    DraftQuery: 7 parameters whatever the count, and rows already written are skipped before
    insertion (bulk_create's ON CONFLICT inserted and killed a tuple for each of them: 20k
    monitoring drafts took 8 s at 50k patients, and as long again on every rescan; issue 14).
    """
    rows = list(drafts)
    if connection.vendor != "postgresql":
        return reminders_write(rows)
    if not rows:
        return 0
    columns: list[list[Any]] = [[] for _ in DRAFT_COLUMNS]
    for d in rows:
        for column, value in zip(
            columns,
            (d.recipient_id, d.patient_id, d.kind, d.subject_type, d.subject_id, d.due_date, d.detail[:300]),
            strict=True,
        ):
            column.append(value)
    urgent_kinds = sorted(str(kind) for kind in URGENT_REMINDER_KINDS)
    sql = _insert_from(_UNNEST_SQL, f"q.{connection.ops.quote_name('kind')} = ANY(%s)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [urgent_kinds, *columns])
        inserted = cursor.rowcount
    if inserted and any(d.kind in URGENT_REMINDER_KINDS for d in rows):
        for dispatch in _ON_URGENT:
            transaction.on_commit(dispatch)
    return inserted
