"""Incremental per-patient report facts (issue 14): reports.models.PatientReportFacts.

The registry used to recompute every active patient's scores, team, last contact and
monitoring schedule on each page (14.6 s at 100k patients). Now:

- a change to a patient's clinical record marks the patient dirty in the same transaction
  (`mark_dirty`, from the post_save handlers `connect_signals` installs: one small INSERT);
- `facts_refresh(patient_ids)` recomputes the facts of those patients set-based: one
  INSERT ... SELECT ... ON CONFLICT DO UPDATE on PostgreSQL (delete + INSERT ... SELECT on
  SQLite, the portable fallback), then the monitoring due dates (the monitoring rule is Python,
  medications.monitoring: a fixed number of queries per batch): per patient in one bulk UPDATE,
  per regimen (RegimenReportFacts, for the monitoring compliance report) upserted, each pending
  test (MonitoringItemFacts, for the care teams' overdue list) replaced; and the
  contacts per 4-month period (ContactPeriodFacts, for the process measures) replaced;
- `facts_refresh_dirty()` does that for the marked patients; the registry calls it before it
  reads (a handful of rows, a constant number of queries), Celery beat every few minutes;
- `facts_refresh_all()` rebuilds everyone in batches, nightly (beat) and from
  `manage.py refresh_report_facts`: it catches what no write marks (a staff member renamed,
  bulk loads, deletions).

Definitions are the registry's (reports/caseload.py docstring; CLINICAL.md §1 and b3).
"""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    F,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.db.models.signals import post_save
from django.utils import timezone

from careplans.models import CarePlan, CarePlanStatus, CareTeamMember, CaseReview, Goal, Patient, TeamRole
from medications.models import AdherenceCheck, DoseChange, LabResult, MonitoringException, Regimen, RegimenStatus
from medications.monitoring import ItemStatus
from medications.selectors import monitoring_for_regimens
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment, SafetyAlert, SafetyFollowUp
from outcomes.selectors import annotate_outcomes
from reports.contacts import contact_periods, followed_up, has_depression, intake
from reports.models import (
    ContactPeriodFacts,
    MonitoringItemFacts,
    PatientReportFacts,
    RegimenReportFacts,
    ReportFactsDirty,
)
from reports.replica import reading_primary
from reports.sql import latest_of
from therapy.models import Attendance, TherapyCourse, TherapySession

BATCH = 20_000  # patients per statement in a full rebuild: short transactions, bounded memory
DIRTY_BATCH = 5_000

# The columns a refresh writes, in order; every one but patient_id is updated on conflict.
COLUMNS = [
    "patient_id",
    "computed_on",
    "registered_on",
    "phq9_baseline",
    "phq9_baseline_on",
    "phq9_latest",
    "gad7_baseline",
    "gad7_baseline_on",
    "gad7_latest",
    "safety_alert_open",
    "case_review_open",
    "prescriber_name",
    "therapist_name",
    "care_manager_name",
    "care_manager_id",
    "last_contact",
    "measurement_anchor",
    "intake_on",
    "intake_followed_up",
    "has_depression",
]


# --- The facts, as one ORM query (compiled to the INSERT's SELECT) -----------------------


def _team_members(role: str) -> QuerySet[CareTeamMember]:
    return CareTeamMember.objects.filter(patient=OuterRef("pk"), role=role, ended_at__isnull=True).order_by(
        "started_at", "id"
    )


def _team_member_name(role: str) -> Coalesce:
    members = _team_members(role).annotate(
        name=Concat("user__first_name", Value(" "), "user__last_name", output_field=CharField())
    )
    return Coalesce(Subquery(members.values("name")[:1], output_field=CharField()), Value(""))


def _last(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1], output_field=DateField())


def _last_contact(today: date) -> Any:
    return latest_of(
        _last(
            TherapySession.objects.filter(
                course__patient=OuterRef("pk"),
                course__entered_in_error_at__isnull=True,
                attendance=Attendance.ATTENDED,
                session_date__lte=today,
            ),
            "session_date",
        ),
        _last(Assessment.objects.filter(patient=OuterRef("pk"), administered_on__lte=today), "administered_on"),
        _last(SafetyFollowUp.objects.filter(patient=OuterRef("pk"), assessed_on__lte=today), "assessed_on"),
        _last(AdherenceCheck.objects.filter(patient=OuterRef("pk"), checked_on__lte=today), "checked_on"),
    )


def _measurement_anchor(today: date) -> Coalesce:
    """The last PHQ-9 (GAD-7 when the plan's goals name only the GAD-7), else registration
    (outcomes.reminders.measurement_due's rule)."""

    def names(instrument: str) -> Exists:
        return Exists(
            Goal.objects.filter(
                care_plan__patient=OuterRef("pk"),
                target__icontains=instrument,
                care_plan__status__in=[CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD],
            )
        )

    def last_score(instrument: str) -> Subquery:
        return _last(
            Assessment.objects.filter(patient=OuterRef("pk"), instrument=instrument, administered_on__lte=today),
            "administered_on",
        )

    uses_gad7 = names(InstrumentCode.GAD7) & ~names(InstrumentCode.PHQ9)
    return Coalesce(
        Case(
            When(uses_gad7, then=last_score(InstrumentCode.GAD7)),
            default=last_score(InstrumentCode.PHQ9),
            output_field=DateField(),
        ),
        TruncDate("created_at"),
        output_field=DateField(),
    )


def facts_query(patients: QuerySet[Patient], *, today: date) -> QuerySet:
    """`values()` in COLUMNS order: the facts of `patients` as of `today`."""
    annotated = (
        annotate_outcomes(patients, today=today)
        .annotate(
            f_computed_on=Value(today, output_field=DateField()),
            f_registered_on=TruncDate("created_at"),
            f_prescriber=_team_member_name(TeamRole.PRESCRIBER),
            f_therapist=_team_member_name(TeamRole.THERAPIST),
            f_care_manager=_team_member_name(TeamRole.CARE_MANAGER),
            f_care_manager_id=Subquery(_team_members(TeamRole.CARE_MANAGER).values("user_id")[:1]),
            f_last_contact=_last_contact(today),
            f_anchor=_measurement_anchor(today),
            f_intake=intake(),
            f_depression=has_depression(),
        )
        .annotate(f_followed_up=followed_up("f_intake"))
    )
    return annotated.order_by().values_list(
        "pk",
        "f_computed_on",
        "f_registered_on",
        "phq9_baseline",
        "phq9_baseline_on",
        "phq9_latest",
        "gad7_baseline",
        "gad7_baseline_on",
        "gad7_latest",
        "safety_alert_open",
        "case_review_open",
        "f_prescriber",
        "f_therapist",
        "f_care_manager",
        "f_care_manager_id",
        "f_last_contact",
        "f_anchor",
        "f_intake",
        "f_followed_up",
        "f_depression",
    )


def with_phq9_baseline(patients: QuerySet[Patient]) -> Any:  # annotated names the stubs cannot follow
    """`phq9_baseline` and `phq9_baseline_on` from the stored facts (the episode's first PHQ-9,
    outcomes.selectors.annotate_outcomes), so a cohort is chosen from the facts table instead of
    computing every patient's baseline per request. Refresh the dirty patients first."""
    return patients.annotate(
        phq9_baseline=F("report_facts__phq9_baseline"), phq9_baseline_on=F("report_facts__phq9_baseline_on")
    )


# --- Refresh -------------------------------------------------------------------------------


def _upsert(patient_ids: Sequence[int], today: date) -> None:
    connection = connections[DEFAULT_DB_ALIAS]  # a write: always the primary
    select_sql, params = facts_query(
        Patient.objects.filter(pk__in=list(patient_ids)), today=today
    ).query.sql_with_params()
    table = PatientReportFacts._meta.db_table
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in COLUMNS[1:])
            cursor.execute(
                f"INSERT INTO {table} ({columns}) {select_sql} ON CONFLICT (patient_id) DO UPDATE SET {updates}",  # noqa: S608
                params,
            )
        else:  # the portable fallback: replace the rows (inside the caller's transaction)
            placeholders = ", ".join(["%s"] * len(patient_ids))
            cursor.execute(f"DELETE FROM {table} WHERE patient_id IN ({placeholders})", list(patient_ids))  # noqa: S608
            cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql}", params)  # noqa: S608


def _monitoring_due(
    patient_ids: Sequence[int], today: date
) -> tuple[list[RegimenReportFacts], list[MonitoringItemFacts]]:
    """Per active regimen on a protocol: the earliest due date of a monitoring test not done
    (medications.monitoring), None when nothing is pending; and each pending item itself."""
    regimens = list(
        Regimen.objects.filter(
            patient_id__in=list(patient_ids),
            status=RegimenStatus.ACTIVE,
            medication__monitoring_protocol__isnull=False,
        )
        .select_related("medication__monitoring_protocol")
        .order_by("id")
    )
    schedules = monitoring_for_regimens(regimens, today=today)
    facts, items = [], []
    for regimen in regimens:
        pending = [
            (position, item)
            for position, item in enumerate(schedules.get(regimen.pk, []))
            if item.status in (ItemStatus.DUE, ItemStatus.OVERDUE)
        ]
        facts.append(
            RegimenReportFacts(
                regimen=regimen,
                patient_id=regimen.patient_id,
                monitoring_due_on=min((item.due_date for _, item in pending), default=None),
            )
        )
        items += [
            MonitoringItemFacts(
                regimen=regimen,
                patient_id=regimen.patient_id,
                position=position,
                test=item.test,
                label=item.label,
                due_date=item.due_date,
                last_done_on=item.last_done_on,
            )
            for position, item in pending
        ]
    return facts, items


def _write_monitoring(
    patient_ids: Sequence[int], regimens: list[RegimenReportFacts], items: list[MonitoringItemFacts]
) -> None:
    """Per patient the earliest due date (the registry's flag), per regimen its own (upserted: a
    row of a regimen stopped or moved off its protocol stays behind, and the report, which reads
    only active regimens on a protocol, never reads it), and the pending items (replaced). A
    refreshed patient with nothing pending is cleared first: PostgreSQL's upsert of the other
    facts keeps this column as it was."""
    PatientReportFacts.objects.filter(patient_id__in=list(patient_ids), monitoring_due_on__isnull=False).update(
        monitoring_due_on=None
    )
    by_patient: dict[int, date] = {}
    for fact in regimens:
        if fact.monitoring_due_on is not None:
            day = fact.monitoring_due_on
            by_patient[fact.patient_id] = min(by_patient.get(fact.patient_id, day), day)
    if by_patient:
        PatientReportFacts.objects.bulk_update(
            [PatientReportFacts(patient_id=pk, monitoring_due_on=day) for pk, day in by_patient.items()],
            ["monitoring_due_on"],
            batch_size=5_000,
        )
    RegimenReportFacts.objects.bulk_create(
        regimens,
        batch_size=5_000,
        update_conflicts=True,
        unique_fields=["regimen"],
        update_fields=["patient", "monitoring_due_on"],
    )
    MonitoringItemFacts.objects.filter(patient_id__in=list(patient_ids)).delete()
    MonitoringItemFacts.objects.bulk_create(items, batch_size=5_000)


def _write_contact_periods(patient_ids: Sequence[int]) -> None:
    """The patients' contacts per 4-month period (ContactPeriodFacts), replaced."""
    ids = list(patient_ids)
    ContactPeriodFacts.objects.filter(patient_id__in=ids).delete()
    select_sql, params = contact_periods(ids)
    table = ContactPeriodFacts._meta.db_table
    columns = "patient_id, period, first_contact_on, last_contact_on, first_phq9_on, last_phq9_on"
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql}", params)  # noqa: S608


def facts_refresh(patient_ids: Iterable[int], *, today: date | None = None) -> int:
    """Recompute the facts of these patients; returns how many."""
    ids = sorted(set(patient_ids))
    if not ids:
        return 0
    today = today or timezone.localdate()
    with reading_primary(), transaction.atomic(using=DEFAULT_DB_ALIAS):
        _upsert(ids, today)
        _write_monitoring(ids, *_monitoring_due(ids, today))
        _write_contact_periods(ids)
    return len(ids)


def _take_dirty(limit: int) -> list[int]:
    """Remove up to `limit` dirty marks and return their patients (inside the caller's
    transaction: a mark made by a write that commits later survives for the next refresh)."""
    table = ReportFactsDirty._meta.db_table
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE patient_id IN (SELECT patient_id FROM {table} LIMIT %s) RETURNING patient_id",  # noqa: S608
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


def facts_refresh_dirty(*, today: date | None = None) -> int:
    """Recompute the marked patients' facts (all of them, a batch at a time)."""
    done = 0
    while True:
        with reading_primary(), transaction.atomic(using=DEFAULT_DB_ALIAS):
            ids = _take_dirty(DIRTY_BATCH)
            done += facts_refresh(ids, today=today)
        if len(ids) < DIRTY_BATCH:
            return done


def facts_refresh_all(*, today: date | None = None) -> int:
    """Rebuild every patient's facts, BATCH patients per transaction; drops facts of patients
    that no longer exist (cascade) and clears the dirty marks it covered."""
    done, after = 0, 0
    while True:
        with reading_primary():
            ids = list(Patient.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return done
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            ReportFactsDirty.objects.filter(patient_id__in=ids).delete()
            done += facts_refresh(ids, today=today)
        after = ids[-1]


# --- Dirty marks -----------------------------------------------------------------------


def mark_dirty(patient_id: int | None) -> None:
    """Mark one patient's facts stale (INSERT ... ON CONFLICT DO NOTHING: one statement)."""
    if patient_id is not None:
        ReportFactsDirty.objects.bulk_create([ReportFactsDirty(patient_id=patient_id)], ignore_conflicts=True)


# model -> how its instance names its patient (related objects are usually cached by the service).
PATIENT_OF: dict[type[Model], Any] = {
    Patient: lambda obj: obj.pk,
    CareTeamMember: lambda obj: obj.patient_id,
    CarePlan: lambda obj: obj.patient_id,
    Goal: lambda obj: obj.care_plan.patient_id,
    CaseReview: lambda obj: obj.patient_id,
    Assessment: lambda obj: obj.patient_id,
    SafetyAlert: lambda obj: obj.patient_id,
    SafetyFollowUp: lambda obj: obj.patient_id,
    AdherenceCheck: lambda obj: obj.patient_id,
    Regimen: lambda obj: obj.patient_id,
    DoseChange: lambda obj: obj.regimen.patient_id,
    LabResult: lambda obj: obj.patient_id,
    MonitoringException: lambda obj: obj.patient_id,
    TherapyCourse: lambda obj: obj.patient_id,
    TherapySession: lambda obj: obj.course.patient_id,
}


def _on_save(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata: the nightly rebuild (or refresh_report_facts) covers fixtures
        return
    mark_dirty(PATIENT_OF[sender](instance))


def connect_signals() -> None:
    """Called from ReportsConfig.ready(). Deletions are not marked: clinical rows are never
    deleted (entered-in-error is an update), and the nightly rebuild covers the rest."""
    for model in PATIENT_OF:
        post_save.connect(_on_save, sender=model, dispatch_uid=f"report-facts-{model._meta.label_lower}")
