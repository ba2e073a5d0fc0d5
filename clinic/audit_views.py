"""The clinic admin's audit log page (issue 16 item 8): filter, names instead of ids, CSV.

Audit rows keep ids only (SECURITY.md AL-1); names of staff and patients are looked up when the
page is drawn, through the one access path (demographics scope: every patient for an admin).
No clinical text: of `changes` the page shows which fields changed, and the values only of an
allow-list of structured fields (roles, team role, status, dates); anything else, as "changed".
"""

import contextlib
import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.access import Action, AuthenticatedRequest, clinical_page, patients_in_scope
from clinic.audit import audit_record
from clinic.models import AuditAction, AuditEvent, User
from clinic.selectors import audit_events_visible_to, staff_visible_to

PAGE_SIZE = 50
CSV_MAX_ROWS = 50_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Fields whose before -> after values are structured (flags, codes, ids, dates): safe to show.
STRUCTURED_FIELDS = frozenset(
    {
        "is_prescriber",
        "is_therapist",
        "is_care_manager",
        "is_clinic_admin",
        "is_superuser",
        "is_staff",
        "is_active",
        "role",
        "user",
        "status",
        "expires_at",
        "ended_at",
        "due_date",
        "review_date",
    }
)

# Categories next to the raw actions, so access changes and break-glass are one click away.
ACCESS_CHANGE = "access_change"
BREAK_GLASS = "break_glass"
ROLE_FIELDS = ["is_prescriber", "is_therapist", "is_care_manager", "is_clinic_admin", "is_superuser", "is_staff"]
WRITES = [AuditAction.CREATE, AuditAction.UPDATE]
CATEGORY_FILTERS = {
    # Care-team additions and ends, role grants, and refused attempts at either on oneself.
    ACCESS_CHANGE: Q(object_type="careplans.careteammember", action__in=WRITES)
    | Q(object_type="clinic.user", action__in=WRITES, changes__has_any_keys=ROLE_FIELDS)
    | Q(object_type__in=["clinic.user", "careplans.careteammember"], action=AuditAction.ACCESS_DENIED),
    BREAK_GLASS: Q(object_type="careplans.breakglassgrant"),
}
CATEGORY_CHOICES = [
    (ACCESS_CHANGE, "Access changes (roles, care teams)"),
    (BREAK_GLASS, "Emergency access (break-glass)"),
]


class AuditFilterForm(forms.Form):
    patient = forms.CharField(required=False, max_length=64, help_text="MRN or patient id")
    user = forms.ChoiceField(required=False, label="Staff member")
    action = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    event = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, staff: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["user"]).choices = [("", "Anyone")] + [
            (str(u.public_id), str(u)) for u in staff
        ]
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", "Any action"),
            *CATEGORY_CHOICES,
            *AuditAction.choices,
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


@dataclass
class AuditRow:
    """One event as the page shows it: names looked up, values only for structured fields."""

    event: AuditEvent
    actor_name: str
    patient_name: str
    patient_mrn: str
    changes: list[tuple[str, str]]  # (field, "before → after" or "changed")
    record_name: str = ""  # the staff member a clinic.user row is about

    @property
    def changed_fields(self) -> str:
        return "; ".join(f"{name}: {shown}" for name, shown in self.changes)


def _value(name: str, value: Any, users: dict[str, str]) -> str:
    if value is None or value == "":
        return "–"
    if name == "user":
        return users.get(str(value), "unknown user")
    return str(value)


def changes_shown(changes: Any, users: dict[str, str]) -> list[tuple[str, str]]:
    if not isinstance(changes, dict):
        return []
    shown = []
    for name in sorted(changes):
        pair = changes[name]
        if name in STRUCTURED_FIELDS and isinstance(pair, list) and len(pair) == 2:
            shown.append((name, f"{_value(name, pair[0], users)} → {_value(name, pair[1], users)}"))
        elif name in STRUCTURED_FIELDS and isinstance(pair, int | bool | str):
            shown.append((name, _value(name, pair, users)))
        else:
            shown.append((name, "changed"))  # free text or unknown: never its value
    return shown


def _user_uuids(events: list[AuditEvent]) -> set[str]:
    found = {event.object_id for event in events if event.object_type == "clinic.user" and event.object_id}
    for event in events:
        pair = event.changes.get("user") if isinstance(event.changes, dict) else None
        for value in pair if isinstance(pair, list) else []:
            if value:
                found.add(str(value))
    return found


def audit_rows(viewer: User, events: list[AuditEvent]) -> list[AuditRow]:
    """Names for a page of events: two queries whatever the page size."""
    patient_ids = {event.patient_id for event in events if event.patient_id}
    patients = {
        p.public_id: p for p in patients_in_scope(viewer, scope="demographics").filter(public_id__in=patient_ids)
    }
    user_ids = _user_uuids(events)
    users = {}
    if user_ids:
        valid = set()
        for value in user_ids:
            with contextlib.suppress(ValueError):
                valid.add(uuid.UUID(value))
        users = {str(u.public_id): str(u) for u in User.objects.filter(public_id__in=valid)}
    rows = []
    for event in events:
        patient = patients.get(event.patient_id) if event.patient_id else None
        rows.append(
            AuditRow(
                event=event,
                actor_name=str(event.actor) if event.actor else "system",
                patient_name=getattr(patient, "display_name", "") if patient else "",
                patient_mrn=getattr(patient, "mrn", "") if patient else "",
                changes=changes_shown(event.changes, users),
                record_name=users.get(event.object_id, "") if event.object_type == "clinic.user" else "",
            )
        )
    return rows


def filtered_events(viewer: User, data: dict[str, Any]) -> QuerySet[AuditEvent] | None:
    """The filtered events, or None when the patient asked for is not one the viewer may name."""
    events = audit_events_visible_to(viewer)
    if data.get("event"):
        events = events.filter(pk=data["event"])
    if data.get("patient"):
        value = data["patient"].strip()
        match = Q(mrn=value)
        with contextlib.suppress(ValueError):
            match |= Q(public_id=uuid.UUID(value))
        patient = patients_in_scope(viewer, scope="demographics").filter(match).first()
        if patient is None:
            return None
        events = events.filter(patient_id=patient.public_id)
    if data.get("user"):
        events = events.filter(actor__public_id=data["user"])
    action = data.get("action")
    if action in CATEGORY_FILTERS:
        events = events.filter(CATEGORY_FILTERS[action])
    elif action:
        events = events.filter(action=action)
    zone = timezone.get_current_timezone()
    if data.get("date_from"):
        events = events.filter(occurred_at__gte=datetime.combine(data["date_from"], time.min, zone))
    if data.get("date_to"):
        events = events.filter(occurred_at__lte=datetime.combine(data["date_to"], time.max, zone))
    return events


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CSV_HEADER = [
    "event",
    "occurred_at",
    "actor_id",
    "actor",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "patient_id",
    "patient",
    "mrn",
    "changed_fields",
    "source_ip",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(viewer: User, events: QuerySet[AuditEvent]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    batch: list[AuditEvent] = []
    for event in events[:CSV_MAX_ROWS].iterator(chunk_size=1000):
        batch.append(event)
        if len(batch) == 1000:
            yield from _csv_batch(writer, viewer, batch)
            batch = []
    yield from _csv_batch(writer, viewer, batch)


def _csv_batch(writer: Any, viewer: User, batch: list[AuditEvent]) -> Iterable[str]:
    for row in audit_rows(viewer, batch):
        event = row.event
        yield writer.writerow(
            [
                _cell(value)
                for value in (
                    event.pk,
                    event.occurred_at.isoformat(),
                    event.actor.public_id if event.actor else "",
                    row.actor_name,
                    event.action,
                    event.outcome,
                    event.object_type,
                    event.object_id,
                    event.patient_id or "",
                    row.patient_name,
                    row.patient_mrn,
                    row.changed_fields,
                    event.source_ip or "",
                )
            ]
        )


@clinical_page(action=Action.VIEW_AUDIT)
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    staff = list(staff_visible_to(request.user))
    form = AuditFilterForm(request.GET or None, staff=staff)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = filtered_events(request.user, data) if not form.errors else None
    patient_unknown = bool(data.get("patient")) and events is None
    if events is None:
        events = AuditEvent.objects.none()
    if request.GET.get("format") == "csv" and not form.errors:
        # The export is itself audited: who took which filter (ids and the filter, no names).
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORT,
            object_type="clinic.auditevent",
            object_id="csv",
            changes={k: str(v) for k, v in data.items() if v not in (None, "")},
        )
        # Built whole (at most CSV_MAX_ROWS rows): names are looked up a thousand events at a time.
        response = HttpResponse("".join(_csv_lines(request.user, events)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{date.today().isoformat()}.csv"'
        return response
    page = Paginator(events.select_related("actor"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "clinic/audit_log.html",
        {
            "form": form,
            "page": page,
            "rows": audit_rows(request.user, list(page.object_list)),
            "page_query": query.urlencode(),
            "patient_unknown": patient_unknown,
        },
    )
