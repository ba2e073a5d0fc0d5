"""Date arithmetic and medians that give the same numbers on PostgreSQL and SQLite.

Django's `F("day") + timedelta(...)` on a DateField comes back from SQLite as a datetime
string ("2025-03-01 00:00:00"), which compares wrongly against plain dates; these
functions keep dates as dates on both backends.
"""

from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import (
    Count,
    DateField,
    Expression,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, Least, NullIf, RowNumber

FAR_PAST = date(1900, 1, 1)
FAR_FUTURE = date(9999, 12, 31)


class AddDays(Func):
    """date + n days, as a date."""

    output_field = DateField()

    def __init__(self, expression: Any, days: int, **extra: Any) -> None:
        self.days = int(days)
        super().__init__(expression, **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:  # PostgreSQL
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql})::date + {self.days})", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, %s)", [*params, f"{self.days:+d} days"]


class DaysBetween(Func):
    """Whole days from `earlier` to `later` (negative if later is before earlier)."""

    output_field = IntegerField()

    def __init__(self, later: Any, earlier: Any, **extra: Any) -> None:
        super().__init__(later, earlier, **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return f"(({later})::date - ({earlier})::date)", [*later_params, *earlier_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return (f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)",
                [*later_params, *earlier_params])


def latest_of(*dates: Expression) -> NullIf:
    """The latest non-null date (NULL if all are NULL). PostgreSQL's GREATEST skips NULLs but
    SQLite's MAX() returns NULL if any argument is NULL, so both get a sentinel instead."""
    return NullIf(Greatest(*(Coalesce(d, Value(FAR_PAST), output_field=DateField()) for d in dates)),
                  Value(FAR_PAST), output_field=DateField())


def earliest_of(*dates: Expression) -> NullIf:
    return NullIf(Least(*(Coalesce(d, Value(FAR_FUTURE), output_field=DateField()) for d in dates)),
                  Value(FAR_FUTURE), output_field=DateField())


def medians_by_group(queryset: QuerySet, *, group: str, value: str) -> dict[Any, float | None]:
    """The median of annotation `value` per annotation `group`, computed in the database
    with window functions (ROW_NUMBER and COUNT over the group): only the one or two middle
    rows of each group come back, however many rows there are. One query."""
    ranked = (
        queryset.filter(**{f"{value}__isnull": False})
        .annotate(
            _rank=Window(RowNumber(), partition_by=[F(group)], order_by=[F(value).asc(), F("pk").asc()]),
            _size=Window(Count("pk"), partition_by=[F(group)]),
        )
        .filter(Q(_rank=(F("_size") + 1) / 2) | Q(_rank=(F("_size") + 2) / 2))
        .values_list(group, value)
    )
    middles: dict[Any, list[float]] = defaultdict(list)
    for key, number in ranked:
        middles[key].append(float(number))
    return {key: round(sum(values) / len(values), 1) for key, values in middles.items()}
