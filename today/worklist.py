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
- `WorklistContext` carries the caller (`user`), `today`, and the caller's patients, resolved once
  through clinic.access.patients_in_scope (`patient_ids`, `patients` by pk). A source reads only
  rows of `ctx.patient_ids`: that is how the worklist shows only the caller's patients.
- A source returns WorkItems built with `ctx.item(...)` (the patient comes from the context, no
  query). It must run a fixed number of queries however many patients and items there are
  (tests/today pin the total), and no clinical free text goes into titles beyond what the
  chart already shows the care team.
- `url` is the page where the item is handled (one click).
- Ordering is the worklist's, not the source's: severity (urgent, high, routine), then due date
  (oldest first, undated last), then the source's `order`, then the patient's name.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from typing import Any

from django.utils import timezone

from careplans.models import Patient
from clinic.access import patients_in_scope
from clinic.models import User


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


@dataclass
class WorklistContext:
    user: User
    today: date
    patients: dict[int, Patient] = field(default_factory=dict)

    @property
    def patient_ids(self) -> list[int]:
        return list(self.patients)

    def item(
        self, *, kind: str, patient_id: int, title: str, due_date: date | None, severity: Severity, url: str
    ) -> WorkItem:
        return WorkItem(kind, self.patients[patient_id], title, due_date, severity, url)


@dataclass(frozen=True)
class WorklistSource:
    kind: str
    label: str  # plural, for the page's filter chips: "Safety alerts"
    items: Callable[[WorklistContext], Iterable[WorkItem]]
    order: int = 50


_SOURCES: dict[str, WorklistSource] = {}


def worklist_source_register(source: WorklistSource) -> None:
    _SOURCES[source.kind] = source


def worklist_sources() -> list[WorklistSource]:
    return sorted(_SOURCES.values(), key=lambda s: s.order)


def worklist_context(user: User, *, today: date | None = None, patients: Any = None) -> WorklistContext:
    """The caller's patients (one query). `patients` narrows it (the API's ?patient=)."""
    scoped = patients if patients is not None else patients_in_scope(user, scope="clinical")
    return WorklistContext(
        user=user, today=today or timezone.localdate(), patients={p.pk: p for p in scoped.order_by()}
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


def worklist_for(user: User, *, today: date | None = None, patients: Any = None) -> list[WorkItem]:
    """Every open item of the caller's patients, most urgent first."""
    ctx = worklist_context(user, today=today, patients=patients)
    if not ctx.patients:
        return []
    items = [
        WorkItem(item.kind, item.patient, item.title, item.due_date, item.severity, item.url, source.order)
        for source in worklist_sources()
        for item in source.items(ctx)
    ]
    return sorted(items, key=_sort_key)
