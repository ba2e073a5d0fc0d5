"""The shape every clinic report shares: parameters in, sections (a table, an optional chart)
out. Reports show aggregates and operational lists only: never session summaries, process
notes or any other free-text clinical note (issue 7).
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from django import forms
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from careplans.models import CareTeamMember, Patient
from careplans.selectors import patients_visible_to
from clinic.models import User

# What report runs and refusals are audited as (kept from when reports lived in outcomes).
REPORT_OBJECT_TYPE = "outcomes.report"

Progress = Callable[[int], None]


def no_progress(percent: int) -> None:
    """The default progress callback: a report run in a request has nobody polling it."""


@dataclass(frozen=True)
class ReportParams:
    """What the admin chose: a period, clinic-wide or one clinician, and who is asking."""

    user: User
    start: date
    end: date
    today: date
    clinician: User | None = None

    def as_json(self) -> dict[str, str]:
        """Dates and a staff id only: safe for audit rows and task parameters."""
        data = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.clinician is not None:
            data["clinician"] = str(self.clinician.public_id)
        return data


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # text, int, percent (0-100, one decimal), number (one decimal), date,
    # flags ([(key, label), ...]), patient (a name; row["patient_id"] links to the care-team page)
    kind: str = "text"
    css: str = ""  # an extra class for the column's cells, e.g. a small font for long text
    numeric: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "numeric", self.kind in {"int", "percent", "number"})
        if self.numeric:
            object.__setattr__(self, "css", f"num {self.css}".strip())


@dataclass
class Page:
    number: int
    count: int  # rows over all pages
    pages: int
    size: int


@dataclass
class Section:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: dict[str, Any] | None = None
    note: str = ""
    empty: str = "Nothing to show for this period."
    page: Page | None = None  # set when `rows` is one page of a longer list

    @property
    def total_rows(self) -> int:
        return self.page.count if self.page is not None else len(self.rows)

    @property
    def first_row(self) -> int:
        return 0 if self.page is None or not self.rows else (self.page.number - 1) * self.page.size + 1

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.rows) - 1 if self.rows else 0

    def table(self) -> list[list[dict[str, Any]]]:
        """The rows as display cells, for templates (they render, they don't compute)."""
        return [[cell_display(column, row) for column in self.columns] for row in self.rows]


def cell_display(column: Column, row: dict[str, Any]) -> dict[str, Any]:
    value = row.get(column.key)
    cell: dict[str, Any] = {
        "kind": column.kind,
        "numeric": column.numeric,
        "css": column.css,
        "text": "—" if value is None else "",
    }
    if value is None:
        return cell
    if column.kind == "percent":
        cell["text"] = f"{value:.1f} %"
    elif column.kind == "number":
        cell["text"] = f"{value:.1f}"
    elif column.kind == "flags":
        cell["flags"] = value
        cell["text"] = ", ".join(label for _, label in value) if value else ""
    elif column.kind == "patient":
        cell["text"] = value
        cell["patient_id"] = row.get("patient_id")
    elif isinstance(value, bool):
        cell["text"] = "yes" if value else "no"
    elif isinstance(value, date):
        cell["text"] = value.isoformat()
    else:
        cell["text"] = str(value)
    return cell


@dataclass
class ReportResult:
    report: "Report"
    params: ReportParams
    sections: list[Section] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return sum(section.total_rows for section in self.sections)


class Report:
    """One clinic report. Subclasses set the class attributes and implement `run`."""

    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    # False: a snapshot as of today (the period is ignored, the clinician filter is not).
    uses_period: ClassVar[bool] = True
    order: ClassVar[int] = 50

    def options_form(self, data: Mapping[str, Any] | None) -> forms.Form | None:
        """Sort/filter options (allow-listed choices), or None when the report has none."""
        return None

    def run(
        self,
        params: ReportParams,
        *,
        options: Mapping[str, Any] | None = None,
        paginate: bool = True,
        progress: Progress = no_progress,
    ) -> ReportResult:
        """Compute the report. `paginate=False` gives every row (CSV export)."""
        with _without_jit():
            return self.compute(params, options=options or {}, paginate=paginate, progress=progress)

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        raise NotImplementedError


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT compiler spends seconds on these wide, one-off report queries: on the
    registry at 1,000 patients it took 12.8 s of a 13.9 s query that runs in 0.6 s without it.
    Switched off for this connection while a report runs (a session setting, reset after)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


# --- Scope ---------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def patients_in_scope(
    params: ReportParams,
    *,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Patient]:
    """The patients a report counts: every patient the admin may see (careplans selectors),
    or, per clinician, those on whose care team the clinician was at some time in the period."""
    patients = patients_visible_to(params.user)
    if params.clinician is None:
        return patients
    start = start or params.start
    end = end or params.end
    membership = CareTeamMember.objects.filter(
        patient=OuterRef("pk"),
        user=params.clinician,
        started_at__lt=_day_start(end + timedelta(days=1)),
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gte=_day_start(start)))
    return patients.filter(Exists(membership))


def percent(part: int | None, whole: int | None) -> float | None:
    if not whole:
        return None
    return round((part or 0) * 100 / whole, 1)
