"""Date arithmetic and medians that give the same numbers on PostgreSQL and SQLite.

Django's `F("day") + timedelta(...)` on a DateField comes back from SQLite as a datetime
string ("2025-03-01 00:00:00"), which compares wrongly against plain dates; these
functions keep dates as dates on both backends.
"""

from datetime import date
from typing import Any

from django.db.models import (
    DateField,
    Func,
    QuerySet,
    Value,
)
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce, Greatest, Least, NullIf

from reports.replica import report_connection

FAR_PAST = date(1900, 1, 1)
FAR_FUTURE = date(9999, 12, 31)


class AddDays(Func):
    """date + n days, as a date."""

    output_field = DateField()

    def __init__(self, expression: Any, days: int, **extra: Any) -> None:
        self.days = int(days)
        super().__init__(expression, **extra)

    # PostgreSQL. Compiles its own SQL: Func's function/template/arg_joiner arguments do not apply.
    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # type: ignore[override]
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql})::date + {self.days})", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, %s)", [*params, f"{self.days:+d} days"]


def latest_of(*dates: BaseExpression) -> NullIf:
    """The latest non-null date (NULL if all are NULL). PostgreSQL's GREATEST skips NULLs but
    SQLite's MAX() returns NULL if any argument is NULL, so both get a sentinel instead."""
    return NullIf(
        Greatest(*(Coalesce(d, Value(FAR_PAST), output_field=DateField()) for d in dates)),
        Value(FAR_PAST),
        output_field=DateField(),
    )


def earliest_of(*dates: BaseExpression) -> NullIf:
    return NullIf(
        Least(*(Coalesce(d, Value(FAR_FUTURE), output_field=DateField()) for d in dates)),
        Value(FAR_FUTURE),
        output_field=DateField(),
    )


def facts_cte(
    queryset: QuerySet,
    fields: list[str],
    *,
    names: list[str] | None = None,
    name: str = "facts",
    materialized: bool = False,
) -> tuple[str, list[Any]]:
    """`WITH <name> (<fields>) AS (<the queryset's SQL>)`: per-patient facts computed once.

    The ORM repeats an annotation's whole subquery wherever another expression refers to it,
    so flags built on the first and latest scores would evaluate those subqueries again and
    again. Selected once here, the report's own SQL reads plain columns of `facts`. The inner
    SQL and its parameters are the ORM's own (parameterized, SECURITY.md IV-4). `names`: the
    CTE's column names when they differ from the queryset's fields (positional). `materialized`:
    PostgreSQL computes the CTE once before the outer query instead of inlining it; for a
    caseload's registry this keeps the planner from sorting the whole clinic's facts and only
    then checking each row against the caseload (issue 14: 0.42 s -> 0.20 s at 100k)."""
    sql, params = queryset.order_by().values(*fields).query.sql_with_params()
    columns = ", ".join(report_connection().ops.quote_name(name) for name in (names or fields))
    # MATERIALIZED (PostgreSQL): the rows first, then what the outer query does with them.
    keyword = "AS MATERIALIZED" if materialized and report_connection().vendor == "postgresql" else "AS"
    return f"WITH {name} ({columns}) {keyword} ({sql})", list(params)


def days_since_sql(day_column: str) -> str:
    """SQL for whole days from `day_column` to the date parameter that precedes it in params."""
    if report_connection().vendor == "postgresql":
        return f"(%s::date - {day_column})"
    return f"CAST(julianday(%s) - julianday({day_column}) AS INTEGER)"


def fetch_dicts(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with report_connection().cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def as_date(value: Any) -> date | None:
    """A date from a raw row: SQLite returns ISO text, PostgreSQL a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- Counts per group with the total, and medians, in one statement ----------------------
# Several reports show a table per group (care manager, treatment, drug class) with an "all"
# row. One pass over the rows gives both: GROUPING SETS on PostgreSQL, a UNION ALL of the
# grouped and the ungrouped SELECT on SQLite (no GROUPING SETS there). Medians are
# percentile_cont(0.5) on PostgreSQL, the mean of the middle one or two values, and on SQLite
# the `median` aggregate registered below with the same definition.


def median_sql(expression: str) -> str:
    """SQL for the median of `expression` (NULLs ignored; NULL when there is none)."""
    if report_connection().vendor == "postgresql":
        return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {expression})"
    return f"median({expression})"


def by_group_and_total(source: str, group: str, aggregates: str) -> str:
    """`SELECT is_total, grp, <aggregates> FROM <source>`: one row per value of `group` (is_total
    0) and one over all rows (is_total 1, grp NULL; also when `source` is empty). `source`,
    `group` and `aggregates` are the caller's SQL, never values."""
    # Only the callers' SQL is interpolated (S608).
    if report_connection().vendor == "postgresql":
        grouped = f"SELECT GROUPING({group}) AS is_total, {group} AS grp, {aggregates} FROM {source}"  # noqa: S608
        return f"{grouped} GROUP BY GROUPING SETS (({group}), ())"
    grouped = f"SELECT 0 AS is_total, {group} AS grp, {aggregates} FROM {source} GROUP BY {group}"  # noqa: S608
    total = f"SELECT 1 AS is_total, NULL AS grp, {aggregates} FROM {source}"  # noqa: S608
    return f"{grouped} UNION ALL {total}"


class Median:
    """SQLite's `median` aggregate (median_sql): the mean of the middle one or two values."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def register_sqlite_median(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created receiver (reports.apps): SQLite has no median of its own."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("median", 1, Median)
