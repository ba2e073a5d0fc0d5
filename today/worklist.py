"""The worklist: what needs the signed-in clinician today, across every app (issue 16 item 1).

A registry of item sources, one small function per kind. `today` reads every app, as `reports`
does; nothing imports `today`, so another app (or helper) adds a kind without touching the
others:

    from today.worklist import WorkItem, WorklistContext, WorklistSource, Severity, worklist_source_register

    def checkin_alerts(ctx: WorklistContext) -> Iterable[WorkItem]:
        rows = CheckIn.objects.filter(patient_id__in=ctx.patient_ids, alert_open=True).values_list(...)
        return [ctx.item(kind="checkin_alert", patient_id=pid, title=..., due_date=..., severity=Severity.HIGH,
                         url=reverse(...)) for pid, ... in rows]

    worklist_source_register(WorklistSource(kind="checkin_alert", label="Check-in alerts", items=checkin_alerts,
                                            order=25))   # in your AppConfig.ready() or today.sources

The interface:
- `WorklistContext` carries the caller (`user`), `today`, and the caller's patients as an
  unevaluated queryset (clinic.access.patients_in_scope); `ctx.scope` is its subquery of pks. A
  source reads only rows whose patient is in `ctx.scope`: that is how the worklist shows only the
  caller's patients.
- A bounded source (`page=`, issue 14) answers `page(ctx, limit)` with a SourcePage: how many
  items it has (exact) and its first `limit` items (all when `limit` is None) in the worklist's
  order, built with `ctx.item(..., patient=...)` from Patient rows its own query loaded
  (select_related). The worklist merges the first offset+page_size of each source, so a page costs
  a fixed number of indexed queries whatever the caseload (issue 14: flat from 1k to 1M patients).
- A plain source (`items=`, as above) returns every item; the worklist sorts and counts them in
  Python. It loads the whole scope (`ctx.patient_ids`, `ctx.patients`): fine for a small kind, not
  for one that grows with the clinic.
- Either must run a fixed number of queries however many patients and items there are
  (tests/today pin the total), and no clinical free text goes into titles beyond what the
  chart already shows the care team.
- `url` is the page where the item is handled (one click).
- Ordering is the worklist's, not the source's: severity (urgent, high, routine), then due date
  (oldest first, undated last), then the source's `order`, then the patient's name.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from heapq import merge
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from careplans.models import Patient
from careplans.selectors import patient_ids_on_care_team_of
from clinic.access import patients_in_scope
from clinic.models import User
from reports.facts import facts_refresh_dirty

PAGE_SIZE = 50  # the Today page and the API's default page


class Severity(IntEnum):
    """Most urgent first; the API speaks the names."""

    URGENT = 0  # safety: today, before anything else
    HIGH = 1  # overdue or missed: this week
    ROUTINE = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class WorkItem:
    kind: str
    patient: Patient
    title: str
    due_date: date | None
    severity: Severity
    url: str
    order: int = 50  # the source's order, filled in by the worklist


@dataclass(frozen=True)
class SourcePage:
    count: int  # every item the source has for the caller
    items: list[WorkItem]  # the first `limit` of them, in the worklist's order
    by_severity: dict[Severity, int]

    @classmethod
    def of(cls, count: int, items: list[WorkItem], severity: Severity) -> "SourcePage":
        """A bounded source's page: its severity is fixed, so every one of its items has it."""
        return cls(count, items, {severity: count})


@dataclass
class WorklistContext:
    user: User
    today: date
    in_scope: QuerySet[Patient]
    scope_ids: QuerySet[Any] | None = None  # the same patients' pks, as a faster subquery
    _patients: dict[int, Patient] | None = field(default=None, repr=False)

    @property
    def scope(self) -> QuerySet[Any]:
        """The caller's patients as a subquery of pks (`patient_id__in=ctx.scope`): never a list."""
        return self.scope_ids if self.scope_ids is not None else self.in_scope.order_by().values("pk")

    @property
    def patients(self) -> dict[int, Patient]:
        """Every patient in scope, loaded once (plain sources only: grows with the caseload)."""
        if self._patients is None:
            self._patients = {p.pk: p for p in self.in_scope.order_by()}
        return self._patients

    @property
    def patient_ids(self) -> list[int]:
        return list(self.patients)

    def item(
        self,
        *,
        kind: str,
        title: str,
        due_date: date | None,
        severity: Severity,
        url: str,
        patient: Patient | None = None,
        patient_id: int | None = None,
    ) -> WorkItem:
        if patient is None:
            assert patient_id is not None, "a work item names its patient"
            patient = self.patients[patient_id]
        return WorkItem(kind, patient, title, due_date, severity, url)


@dataclass(frozen=True)
class WorklistSource:
    kind: str
    label: str  # plural, for the page's filter chips: "Safety alerts"
    items: Callable[[WorklistContext], Iterable[WorkItem]] | None = None
    order: int = 50
    page: Callable[[WorklistContext, int | None], SourcePage] | None = None

    def page_of(self, ctx: WorklistContext, limit: int | None) -> SourcePage:
        if self.page is not None:
            return self.page(ctx, limit)
        assert self.items is not None, f"worklist source {self.kind} has neither page nor items"
        every = sorted(self.items(ctx), key=_sort_key)
        by_severity = dict(Counter(item.severity for item in every))
        return SourcePage(len(every), every if limit is None else every[:limit], by_severity)


_SOURCES: dict[str, WorklistSource] = {}


def worklist_source_register(source: WorklistSource) -> None:
    _SOURCES[source.kind] = source


def worklist_sources() -> list[WorklistSource]:
    return sorted(_SOURCES.values(), key=lambda s: s.order)


def worklist_context(user: User, *, today: date | None = None, patients: Any = None) -> WorklistContext:
    """The caller's patients, not yet read. `patients` narrows it (the API's ?patient=)."""
    if patients is not None:
        return WorklistContext(user=user, today=today or timezone.localdate(), in_scope=patients)
    return WorklistContext(
        user=user,
        today=today or timezone.localdate(),
        in_scope=patients_in_scope(user, scope="clinical"),
        # The clinical scope's rule as ids (careplans.selectors): 4x faster under every source's rows.
        scope_ids=patient_ids_on_care_team_of(user),
    )


def _sort_key(item: WorkItem) -> tuple:
    return (
        item.severity,
        item.due_date is None,
        item.due_date or date.max,
        item.order,
        item.patient.family_name,
        item.patient.given_name,
        item.patient.pk,
    )


def worklist_order(due: str, patient: str = "patient__") -> list[Any]:
    """A bounded source's ORDER BY (its severity is fixed): the worklist's order, due date (oldest
    first, undated last), then the patient's name. `patient` is the path to the patient ("" on Patient)."""
    pk = f"{patient}id" if patient else "pk"
    return [F(due).asc(nulls_last=True), f"{patient}family_name", f"{patient}given_name", pk]


@dataclass(frozen=True)
class WorklistPage:
    items: list[WorkItem]
    total: int  # every item of every kind, not just this page's
    by_severity: dict[Severity, int]
    by_kind: dict[str, int]
    offset: int
    limit: int | None

    @property
    def has_next(self) -> bool:
        return self.limit is not None and self.offset + self.limit < self.total


def worklist_page(
    user: User, *, offset: int = 0, limit: int | None = PAGE_SIZE, today: date | None = None, patients: Any = None
) -> WorklistPage:
    """Items offset..offset+limit of the caller's worklist, most urgent first, and the exact counts.
    Each source gives its first offset+limit items (one or two indexed queries each); merged, sliced."""
    ctx = worklist_context(user, today=today, patients=patients)
    # The facts not_improving, measurement_due and monitoring_overdue read: recompute the patients
    # changed since the last refresh (a handful of rows), so a PHQ-9 entered a minute ago counts.
    facts_refresh_dirty(today=ctx.today)
    wanted = None if limit is None else offset + limit
    pages: list[tuple[WorklistSource, SourcePage]] = [
        (source, source.page_of(ctx, wanted)) for source in worklist_sources()
    ]
    by_kind = {source.kind: page.count for source, page in pages}
    by_severity = dict.fromkeys(Severity, 0)
    ordered = []
    for source, page in pages:
        for severity, count in page.by_severity.items():
            by_severity[severity] += count
        ordered.append(
            [
                WorkItem(item.kind, item.patient, item.title, item.due_date, item.severity, item.url, source.order)
                for item in page.items
            ]
        )
    merged = list(merge(*ordered, key=_sort_key))
    shown = merged[offset:] if wanted is None else merged[offset:wanted]
    return WorklistPage(shown, sum(by_kind.values()), by_severity, by_kind, offset, limit)


def worklist_for(user: User, *, today: date | None = None, patients: Any = None) -> list[WorkItem]:
    """Every open item of the caller's patients, most urgent first (tests, small caseloads;
    pages read worklist_page)."""
    return worklist_page(user, limit=None, today=today, patients=patients).items
