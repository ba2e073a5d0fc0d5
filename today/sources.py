"""The item sources the worklist ships with, one small function per kind (today.worklist has the
interface). Each reads only the context's patients (`ctx.scope`, a subquery) and runs a fixed
number of queries. All but check-in concerns are bounded (issue 14): ordered and limited in SQL,
counted in the same query (COUNT(*) OVER ()), so a page of the worklist costs the same at 1k and
100k patients. Not improving and measurements due read the per-patient facts, overdue monitoring
the per-regimen ones (reports.facts, refreshed for the changed patients before every worklist read;
the monitoring rule runs only for the page) with the same thresholds
(outcomes.selectors.NOT_IMPROVING_AFTER, outcomes.reminders.MEASUREMENT_INTERVAL).

Clinical rules and their sources:
- safety alerts: any open alert, whatever raised it (CLINICAL.md b4, b5) -> urgent;
- critical results: an open critical lab value (medications.critical) -> urgent;
- overdue monitoring: a monitoring test past its due date (medications.monitoring; b6-b9) -> high;
- sessions to follow up: the caller's open no-show / late-cancel follow-ups (therapy) -> high;
- not improving at week 8 or later: PHQ-9 less than 50 % below baseline and not in remission
  8 weeks or more after the baseline (CLINICAL.md §1 "Key process tasks", Bao et al. 2015:
  psychiatric consultation between weeks 8 and 12 for patients not responding by week 8;
  response = >= 50 % reduction, remission = PHQ-9 < 5, b3) -> routine;
- measurements due: no PHQ-9 (or GAD-7) for 4 weeks (outcomes.reminders) -> routine;
- unread team messages: the caller's open team-message reminders -> routine.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, F, Min, OuterRef, QuerySet, Window
from django.db.models.functions import TruncDate
from django.urls import reverse

from careplans.models import Patient, PatientStatus
from clinic.access import Action, user_can
from medications.models import CriticalResult, CriticalResultStatus, LabTest, Regimen, RegimenStatus
from medications.monitoring import ItemStatus, MonitoringItem
from medications.selectors import monitoring_for_regimens
from outcomes.instruments import BY_SLUG
from outcomes.models import SafetyAlert, SafetyAlertStatus
from outcomes.reminders import MEASUREMENT_INTERVAL, measurement_due_rows
from outcomes.selectors import NOT_IMPROVING_AFTER
from patient_portal.worklist import WORKLIST_KIND as CHECK_IN_KIND
from patient_portal.worklist import check_in_worklist_items
from reminders.inbox import open_q
from reminders.models import Reminder, ReminderKind
from reports.facts import facts_refresh
from therapy.models import MISSED_ATTENDANCE, Attendance, TherapySession
from today.worklist import (
    Severity,
    SourcePage,
    WorkItem,
    WorklistContext,
    WorklistSource,
    worklist_order,
    worklist_source_register,
)

SLUG_OF: dict[str, str] = {instrument.code.value: slug for slug, instrument in BY_SLUG.items()}


def _chart(name: str, patient: Patient) -> str:
    return reverse(name, kwargs={"patient_id": patient.public_id})


def _first(queryset: QuerySet[Any], limit: int | None) -> tuple[int, list[Any]]:
    """(how many rows, the first `limit` of them): one query, the count a window over the same rows."""
    rows = list(queryset.annotate(worklist_total=Window(Count("*")))[:limit])  # [:None]: every row
    return (rows[0].worklist_total if rows else 0), rows


def safety_alerts(ctx: WorklistContext, limit: int | None) -> SourcePage:
    """One item per patient: one risk follow-up answers all of a patient's open alerts."""
    can_follow_up = user_can(ctx.user, Action.RECORD_SAFETY_FOLLOW_UP)
    per_patient = (
        SafetyAlert.objects.filter(patient_id__in=ctx.scope, status=SafetyAlertStatus.OPEN)
        .values("patient_id", "patient__family_name", "patient__given_name")
        .annotate(first_on=Min("source_date"))
        .order_by(*worklist_order("first_on"))
        .annotate(worklist_total=Window(Count("*")))  # over the grouped rows: patients with an alert
    )
    rows = list(per_patient[:limit])
    total = rows[0]["worklist_total"] if rows else 0
    shown = [row["patient_id"] for row in rows]
    by_patient: dict[int, list[SafetyAlert]] = {pk: [] for pk in shown}
    for alert in (
        SafetyAlert.objects.filter(patient_id__in=shown, status=SafetyAlertStatus.OPEN)
        .select_related("patient")
        .order_by("source_date", "id")
    ):
        by_patient[alert.patient_id].append(alert)
    items = []
    for alerts in by_patient.values():
        patient = alerts[0].patient
        what = "; ".join(dict.fromkeys(alert.what for alert in alerts))
        more = f" ({len(alerts)} open)" if len(alerts) > 1 else ""
        items.append(
            ctx.item(
                kind="safety_alert",
                patient=patient,
                title=f"Safety alert{more}: {what}. Record the risk follow-up.",
                due_date=alerts[0].source_date,
                severity=Severity.URGENT,
                url=_chart("outcomes:safety_follow_up" if can_follow_up else "outcomes:tab", patient),
            )
        )
    return SourcePage.of(total, items, Severity.URGENT)


def critical_results(ctx: WorklistContext, limit: int | None) -> SourcePage:
    can_act = user_can(ctx.user, Action.PRESCRIBE)
    total, rows = _first(
        CriticalResult.objects.filter(patient_id__in=ctx.scope, status=CriticalResultStatus.OPEN)
        .select_related("patient")
        .annotate(raised_on=TruncDate("raised_at"))
        .order_by(*worklist_order("raised_on")),
        limit,
    )
    items = []
    for result in rows:
        patient = result.patient
        url = (
            reverse(
                "medications:critical_action", kwargs={"patient_id": patient.public_id, "critical_id": result.public_id}
            )
            if can_act
            else _chart("medications:tab", patient)
        )
        items.append(
            ctx.item(
                kind="critical_result",
                patient=patient,
                title=f"Critical result: {result.message}",
                due_date=result.raised_on,
                severity=Severity.URGENT,
                url=url,
            )
        )
    return SourcePage.of(total, items, Severity.URGENT)


def _overdue_regimens(ctx: WorklistContext, limit: int | None) -> tuple[int, list[Any]]:  # Regimen + overdue_on
    """The regimens with an overdue test by their stored facts (reports.models.RegimenReportFacts:
    the earliest due date of a test not done or waived, computed by the same rule), counted and
    ordered in SQL. A stopped regimen or one taken off its protocol keeps its facts row: the
    regimen's own status and protocol decide, as the rule's do (monitoring_for_regimens)."""
    return _first(
        Regimen.objects.filter(
            patient_id__in=ctx.scope,
            status=RegimenStatus.ACTIVE,
            medication__monitoring_protocol__isnull=False,
            report_facts__monitoring_due_on__lt=ctx.today,
        )
        .select_related("medication", "patient")
        .annotate(overdue_on=F("report_facts__monitoring_due_on"))
        .order_by(*worklist_order("overdue_on"), "id"),
        limit,
    )


def _overdue_of(monitoring: list[MonitoringItem]) -> list[MonitoringItem]:
    return sorted((i for i in monitoring if i.status == ItemStatus.OVERDUE), key=lambda i: i.due_date)


def overdue_monitoring(ctx: WorklistContext, limit: int | None) -> SourcePage:
    """Counted and paged from the stored facts (issue 14); the monitoring rule (medications.monitoring,
    Python) runs only for the regimens shown, for their tests. The facts are the rule's own answer
    (reports.facts runs it), refreshed for the changed patients before every read (worklist_page)
    and nightly; what can still move them is only the date (a future-dated result, the 65th
    birthday on lithium: medications.monitoring_next_due). If the rule disagrees with the facts of
    a regimen shown (its earliest overdue test and date), those patients' facts are recomputed and
    the page read again, so the page never shows an item the rule does not, and the count agrees."""
    total, regimens = _overdue_regimens(ctx, limit)
    schedules = monitoring_for_regimens(regimens, today=ctx.today)
    stale = {
        r.patient_id
        for r in regimens
        if [i.due_date for i in _overdue_of(schedules.get(r.pk, []))][:1] != [r.overdue_on]
    }
    if stale:
        facts_refresh(stale, today=ctx.today)
        total, regimens = _overdue_regimens(ctx, limit)
        schedules = monitoring_for_regimens(regimens, today=ctx.today)
    items = []
    for regimen in regimens:
        overdue = _overdue_of(schedules.get(regimen.pk, []))
        if not overdue:  # changed between the refresh and this read: the next read counts it
            total -= 1
            continue
        tests = ", ".join(dict.fromkeys(LabTest(item.test).label for item in overdue))
        # One item per medication: the tests are done from one blood draw.
        items.append(
            ctx.item(
                kind="monitoring_overdue",
                patient=regimen.patient,
                title=f"Monitoring overdue for {regimen.medication.name}: {tests}",
                due_date=overdue[0].due_date,
                severity=Severity.HIGH,
                url=_chart("medications:lab_create", regimen.patient),
            )
        )
    return SourcePage.of(total, items, Severity.HIGH)


def _own_reminders(ctx: WorklistContext, kind: str) -> QuerySet[Reminder]:
    """The caller's own open reminders of `kind`, in the worklist's order."""
    return (
        Reminder.objects.filter(
            open_q(ctx.today), recipient=ctx.user, kind=kind, patient_id__in=ctx.scope, patient__isnull=False
        )
        .select_related("patient")
        .order_by(*worklist_order("due_date"), "id")
    )


def sessions_to_follow_up(ctx: WorklistContext, limit: int | None) -> SourcePage:
    """The caller's open follow-ups of missed sessions (still missed: no session attended since).
    Bounded by the caller's own open reminders of this kind, not by the caseload."""
    reminders = list(_own_reminders(ctx, ReminderKind.SESSION_FOLLOW_UP))
    missed = {
        str(public_id): (attendance, session_date)
        for public_id, attendance, session_date in TherapySession.objects.filter(
            public_id__in=[r.subject_id for r in reminders if len(r.subject_id) == 36],
            attendance__in=MISSED_ATTENDANCE,
        )
        .exclude(
            Exists(
                TherapySession.objects.filter(
                    course_id=OuterRef("course_id"),
                    attendance=Attendance.ATTENDED,
                    session_date__gt=OuterRef("session_date"),
                )
            )
        )
        .values_list("public_id", "attendance", "session_date")
    }
    items = []
    for reminder in reminders:
        if reminder.subject_id not in missed:
            continue
        attendance, session_date = missed.pop(reminder.subject_id)  # one item per session, not per reminder
        assert reminder.patient is not None  # _own_reminders: patient__isnull=False
        items.append(
            ctx.item(
                kind="session_follow_up",
                patient=reminder.patient,
                title=f"Follow up the {Attendance(attendance).label.lower()} on {session_date:%Y-%m-%d}",
                due_date=reminder.due_date,
                severity=Severity.HIGH,
                url=_chart("therapy:tab", reminder.patient),
            )
        )
    return SourcePage.of(len(items), items[:limit], Severity.HIGH)


def not_improving(ctx: WorklistContext, limit: int | None) -> SourcePage:
    """From the stored PHQ-9 baseline and latest score of the episode (reports.facts: the same
    outcomes.selectors.annotate_outcomes definitions), not recomputed for the caseload per page."""
    total, rows = _first(
        Patient.objects.filter(pk__in=ctx.scope)
        .annotate(
            phq9_baseline=F("report_facts__phq9_baseline"),
            phq9_baseline_on=F("report_facts__phq9_baseline_on"),
            phq9_latest=F("report_facts__phq9_latest"),
            twice_latest=F("report_facts__phq9_latest") * 2,
        )
        .filter(
            phq9_baseline_on__lte=ctx.today - NOT_IMPROVING_AFTER,
            phq9_latest__gte=5,  # not in remission (b3)
            twice_latest__gt=F("phq9_baseline"),  # less than 50 % below baseline (b3)
        )
        .order_by(*worklist_order("phq9_baseline_on", patient="")),
        limit,
    )
    items = []
    for patient in rows:
        weeks = (ctx.today - patient.phq9_baseline_on).days // 7
        items.append(
            ctx.item(
                kind="not_improving",
                patient=patient,
                title=f"Not improving at week {weeks}: PHQ-9 {patient.phq9_baseline} → {patient.phq9_latest}. "
                "Consider a case review.",
                due_date=patient.phq9_baseline_on + NOT_IMPROVING_AFTER,
                severity=Severity.ROUTINE,
                url=_chart("outcomes:tab", patient),
            )
        )
    return SourcePage.of(total, items, Severity.ROUTINE)


def measurements_due(ctx: WorklistContext, limit: int | None) -> SourcePage:
    """Chosen and ordered by the stored anchor (reports.facts measurement_anchor: the last PHQ-9, or
    GAD-7 when the plan names only it, else registration); which instrument, for the page only."""
    total, rows = _first(
        Patient.objects.filter(
            pk__in=ctx.scope,
            status=PatientStatus.ACTIVE,
            report_facts__measurement_anchor__lte=ctx.today - MEASUREMENT_INTERVAL,
        )
        .annotate(anchor=F("report_facts__measurement_anchor"))
        .order_by(*worklist_order("anchor", patient="")),
        limit,
    )
    instruments = {
        pk: instrument
        for pk, _public_id, _anchor, instrument in measurement_due_rows(
            Patient.objects.filter(pk__in=[p.pk for p in rows]), ctx.today
        )
    }
    items = []
    for patient in rows:
        instrument = instruments.get(patient.pk, "PHQ-9")
        items.append(
            ctx.item(
                kind="measurement_due",
                patient=patient,
                title=f"{instrument} due: none since {patient.anchor:%Y-%m-%d}",
                due_date=patient.anchor + MEASUREMENT_INTERVAL,
                severity=Severity.ROUTINE,
                url=reverse(
                    "outcomes:assessment_create",
                    kwargs={"patient_id": patient.public_id, "instrument": SLUG_OF[instrument]},
                ),
            )
        )
    return SourcePage.of(total, items, Severity.ROUTINE)


def unread_team_messages(ctx: WorklistContext, limit: int | None) -> SourcePage:
    total, rows = _first(_own_reminders(ctx, ReminderKind.TEAM_MESSAGE), limit)
    items = [
        ctx.item(
            kind="team_message",
            patient=reminder.patient,
            title="Unread team message",
            due_date=reminder.due_date,
            severity=Severity.ROUTINE,
            url=_chart("reminders:team_thread", reminder.patient) + f"#message-{reminder.subject_id}",
        )
        for reminder in rows
    ]
    return SourcePage.of(total, items, Severity.ROUTINE)


def check_in_concerns(ctx: WorklistContext) -> Iterable[WorkItem]:
    """Mood <= 2 at the latest check-in, or medication not taken three check-ins in a row (issue 17
    item 3). Both are this week's work (HIGH): a missed lithium or clozapine dose matters.
    Bounded by the last 14 days' check-ins (patient_portal.worklist), not by the caseload."""
    rows = check_in_worklist_items(ctx.user)
    if not rows:
        return []
    in_scope = set(ctx.in_scope.filter(pk__in=[row["patient"].pk for row in rows]).values_list("pk", flat=True))
    return [
        ctx.item(
            kind=CHECK_IN_KIND,
            patient=row["patient"],
            title=row["title"],
            due_date=row["due_date"],
            severity=Severity.HIGH,
            url=row["url"],
        )
        for row in rows
        if row["patient"].pk in in_scope
    ]


SHIPPED = (
    WorklistSource("safety_alert", "Safety alerts", page=safety_alerts, order=10),
    WorklistSource("critical_result", "Critical results", page=critical_results, order=20),
    WorklistSource("monitoring_overdue", "Overdue monitoring", page=overdue_monitoring, order=30),
    WorklistSource("session_follow_up", "Sessions to follow up", page=sessions_to_follow_up, order=40),
    WorklistSource("not_improving", "Not improving", page=not_improving, order=50),
    WorklistSource("measurement_due", "Measurements due", page=measurements_due, order=60),
    WorklistSource("team_message", "Unread team messages", page=unread_team_messages, order=70),
    WorklistSource(CHECK_IN_KIND, "Check-in concerns", check_in_concerns, order=45),
)


def register_shipped_sources() -> None:
    for source in SHIPPED:
        worklist_source_register(source)
