"""The shape every clinic report shares: parameters in, sections (a table, an optional chart)
out. Reports show aggregates and operational lists only: never session summaries, process
notes or any other free-text clinical note (issue 7).

Minimum necessary (issue 12 item 5; SECURITY.md AC-5; HIPAA 164.502(b), 164.514(d)): every
report has an audience.
- ADMIN reports (role action RUN_REPORTS) are aggregates only: counts, rates and medians, no
  names, MRNs or per-patient scores or flags. Small cells are suppressed (`suppress_small`).
- CARE_TEAM reports (VIEW_CLINICAL) are patient-level, and always scoped to the caller's own
  caseload (active care-team membership): `patients_in_scope` never widens them to the admin's
  all-patients demographics scope, whatever other roles the caller holds.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from careplans.models import CareTeamMember, Patient
from careplans.selectors import patient_ids_on_care_team_of, patients_on_care_team_of, patients_visible_to
from clinic.access import Action, require
from clinic.models import User
from reports.replica import reading_replica, report_connection

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
    # Set by Report.run from the report's audience, never by a caller: True limits every
    # patient the report reads to the caller's own caseload (care-team reports).
    caseload_only: bool = False

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
        """Rows over all pages (a page's "x-y of N")."""
        return sum(section.total_rows for section in self.sections)

    @property
    def rows_shown(self) -> int:
        """Rows this result carries: one page of a long list, every row of an export."""
        return sum(len(section.rows) for section in self.sections)


class Audience(StrEnum):
    ADMIN = "admin"  # aggregates for whoever runs the clinic (RUN_REPORTS)
    CARE_TEAM = "care_team"  # patient-level rows of the caller's own caseload (VIEW_CLINICAL)


AUDIENCE_ACTIONS = {Audience.ADMIN: Action.RUN_REPORTS, Audience.CARE_TEAM: Action.VIEW_CLINICAL}


class Report:
    """One clinic report. Subclasses set the class attributes and implement `run`."""

    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    # False: a snapshot as of today (the period is ignored, the clinician filter is not).
    uses_period: ClassVar[bool] = True
    order: ClassVar[int] = 50
    audience: ClassVar[Audience] = Audience.ADMIN

    @property
    def action(self) -> Action:
        """The role-matrix action that may run this report (clinic/access.py)."""
        return AUDIENCE_ACTIONS[self.audience]

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
        """Compute the report. `paginate=False` gives every row (CSV export).

        The role is checked here too (the last line when a new caller forgets; 403, audited),
        and the audience decides the patient scope. Admin reports' rows are suppressed
        for small cells before anyone (page, API, CSV) sees them."""
        require(params.user, self.action, object_type=REPORT_OBJECT_TYPE, object_id=self.key)
        params = replace(params, caseload_only=self.audience == Audience.CARE_TEAM)
        # Clinic-wide aggregates may read the replica; patient-level rows stay on the primary.
        source = reading_replica() if self.audience == Audience.ADMIN else nullcontext()
        with source, _without_jit():
            result = self.compute(params, options=options or {}, paginate=paginate, progress=progress)
        if self.audience == Audience.ADMIN:
            for section in result.sections:
                suppress_small(section)
        return result

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        raise NotImplementedError


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT compiler spends seconds on these wide, one-off report queries: on the
    registry at 1,000 patients it took 12.8 s of a 13.9 s query that runs in 0.6 s without it.
    Switched off for this connection while a report runs (a session setting, reset after)."""
    connection = report_connection()
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


# --- Small cells (admin reports) ---------------------------------------------------------
# A count of 1 to 4 patients (or of their records) in a clinic-wide table can point at one
# person, above all with a clinician or a short period chosen: "1 clozapine patient of
# Dr X", "2 no-shows". HHS de-identification guidance (expert determination) and CMS's cell
# size suppression policy both suppress small cells; CMS uses 1-10, this clinic's default is
# 1-4 ("<5"; our rule under SECURITY.md AC-5's minimum necessary; REPORT_SMALL_CELL). Zero stays zero (it names
# nobody). A rate or a median over fewer than that many patients is not shown either, since
# "100 %" of 2 patients is the same disclosure. Complementary suppression (working a hidden
# cell out of a total and its visible siblings) is not attempted: totals rows are the sums
# an admin would see anyway, and the threshold can be raised.


def small_cell_limit() -> int:
    return int(getattr(settings, "REPORT_SMALL_CELL", 5))


def count_cell(value: Any) -> Any:
    """A count as an admin report shows it: "<5" for 1-4, else the number."""
    limit = small_cell_limit()
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < limit:
        return f"<{limit}"
    return value


def enough(denominator: int | None) -> bool:
    """Whether a rate or median over `denominator` patients may be shown."""
    return bool(denominator) and (denominator or 0) >= small_cell_limit()


def share(part: int, whole: int | None) -> float | None:
    """A rate shown beside its count: None when the count itself is a small cell (1 of 40 as
    "2.5 %" would undo the "<5")."""
    return None if count_cell(part) != part else percent(part, whole)


def suppress_small(section: "Section") -> None:
    for row in section.rows:
        for column in section.columns:
            if column.kind == "int":
                row[column.key] = count_cell(row.get(column.key))


# --- Scope ---------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def patients_in_scope(
    params: ReportParams,
    *,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Patient]:
    """The patients a report counts: every patient the admin may see (careplans selectors) for
    an admin report, the caller's own caseload for a care-team report; per clinician, of those,
    the ones on whose care team the clinician was at some time in the period."""
    patients = patients_on_care_team_of(params.user) if params.caseload_only else patients_visible_to(params.user)
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


def patient_ids_in_scope(params: ReportParams, *, start: date | None = None, end: date | None = None) -> QuerySet[Any]:
    """`patients_in_scope` as a subquery of pks, for `patient_id__in=`. A care-team report of the
    caller's own caseload is then the membership union alone: through the Patient queryset,
    PostgreSQL hashed every active patient of the clinic to join it (the registry page for a
    5,000-patient caseload: 145-170 -> 116 ms at 100k; 1.28-1.38 -> 0.86-0.90 s at 1M).
    Only where measured better: under ORDER BY ... LIMIT (the overdue-monitoring list, the
    clinical lists) PostgreSQL estimates the bare union at 200 rows and may walk the ordering's
    index with a nested-loop filter against every member (monitoring_overdue at 1M: 0.46 s with
    the Patient queryset, 0.84 s with this)."""
    if params.caseload_only and params.clinician is None:
        return patient_ids_on_care_team_of(params.user)
    return patients_in_scope(params, start=start, end=end).order_by().values("pk")


def in_scope(params: ReportParams, path: str = "patient", *, start: date | None = None, end: date | None = None) -> Q:
    """A filter on `path` (a lookup to Patient) for the patients in scope. An admin's clinic-wide
    scope is every patient: no filter then, as `patient_id IN (SELECT id FROM patient)` holds
    for every row anyway and costs a semi-join over the whole clinic (issue 14)."""
    patients = patients_in_scope(params, start=start, end=end)
    if not patients.query.has_filters():
        return Q()
    return Q(**{f"{path}__in": patients})


def percent(part: int | None, whole: int | None) -> float | None:
    """A rate in %, or None when the denominator is a small cell (see `enough`)."""
    if not enough(whole):
        return None
    assert whole is not None
    return round((part or 0) * 100 / whole, 1)
