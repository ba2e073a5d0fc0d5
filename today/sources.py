"""The item sources the worklist ships with, one small function per kind (today.worklist has the
interface). Each reads only the context's patients and runs a fixed number of queries.

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
from datetime import date

from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone

from careplans.models import Patient
from clinic.access import Action, user_can
from medications.models import CriticalResult, CriticalResultStatus, LabTest, Regimen, RegimenStatus
from medications.monitoring import ItemStatus
from medications.selectors import monitoring_for_regimens
from outcomes.instruments import BY_SLUG, InstrumentCode
from outcomes.models import SafetyAlert, SafetyAlertStatus
from outcomes.reminders import MEASUREMENT_INTERVAL, measurement_due_rows
from outcomes.selectors import NOT_IMPROVING_AFTER, annotate_outcomes
from patient_portal.worklist import WORKLIST_KIND as CHECK_IN_KIND
from patient_portal.worklist import check_in_worklist_items
from reminders.inbox import open_q
from reminders.models import Reminder, ReminderKind
from therapy.models import MISSED_ATTENDANCE, Attendance, TherapySession
from today.worklist import Severity, WorkItem, WorklistContext, WorklistSource, worklist_source_register

SLUG_OF: dict[str, str] = {instrument.code.value: slug for slug, instrument in BY_SLUG.items()}


def _chart(name: str, patient: Patient) -> str:
    return reverse(name, kwargs={"patient_id": patient.public_id})


def safety_alerts(ctx: WorklistContext) -> Iterable[WorkItem]:
    """One item per patient: one risk follow-up answers all of a patient's open alerts."""
    can_follow_up = user_can(ctx.user, Action.RECORD_SAFETY_FOLLOW_UP)
    by_patient: dict[int, list[SafetyAlert]] = {}
    for alert in SafetyAlert.objects.filter(patient_id__in=ctx.patient_ids, status=SafetyAlertStatus.OPEN).order_by(
        "source_date", "id"
    ):
        by_patient.setdefault(alert.patient_id, []).append(alert)
    for patient_id, alerts in by_patient.items():
        patient = ctx.patients[patient_id]
        what = "; ".join(dict.fromkeys(alert.what for alert in alerts))
        more = f" ({len(alerts)} open)" if len(alerts) > 1 else ""
        yield ctx.item(
            kind="safety_alert",
            patient_id=patient_id,
            title=f"Safety alert{more}: {what}. Record the risk follow-up.",
            due_date=alerts[0].source_date,
            severity=Severity.URGENT,
            url=_chart("outcomes:safety_follow_up" if can_follow_up else "outcomes:tab", patient),
        )


def critical_results(ctx: WorklistContext) -> Iterable[WorkItem]:
    can_act = user_can(ctx.user, Action.PRESCRIBE)
    rows = CriticalResult.objects.filter(patient_id__in=ctx.patient_ids, status=CriticalResultStatus.OPEN).values_list(
        "patient_id", "public_id", "message", "raised_at"
    )
    for patient_id, public_id, message, raised_at in rows:
        patient = ctx.patients[patient_id]
        url = (
            reverse("medications:critical_action", kwargs={"patient_id": patient.public_id, "critical_id": public_id})
            if can_act
            else _chart("medications:tab", patient)
        )
        yield ctx.item(
            kind="critical_result",
            patient_id=patient_id,
            title=f"Critical result: {message}",
            due_date=timezone.localdate(raised_at),
            severity=Severity.URGENT,
            url=url,
        )


def overdue_monitoring(ctx: WorklistContext) -> Iterable[WorkItem]:
    regimens = list(
        Regimen.objects.filter(patient_id__in=ctx.patient_ids, status=RegimenStatus.ACTIVE).select_related("medication")
    )
    by_pk = {r.pk: r for r in regimens}
    for regimen_pk, items in monitoring_for_regimens(regimens, today=ctx.today).items():
        overdue = sorted((item for item in items if item.status == ItemStatus.OVERDUE), key=lambda i: i.due_date)
        if not overdue:
            continue
        regimen = by_pk[regimen_pk]
        tests = ", ".join(dict.fromkeys(LabTest(item.test).label for item in overdue))
        # One item per medication: the tests are done from one blood draw.
        yield ctx.item(
            kind="monitoring_overdue",
            patient_id=regimen.patient_id,
            title=f"Monitoring overdue for {regimen.medication.name}: {tests}",
            due_date=overdue[0].due_date,
            severity=Severity.HIGH,
            url=_chart("medications:lab_create", ctx.patients[regimen.patient_id]),
        )


def _own_reminders(ctx: WorklistContext, kind: str) -> list[tuple[int, str, date]]:
    """(patient pk, subject id, due date) of the caller's own open reminders of `kind`."""
    rows = (
        Reminder.objects.filter(open_q(ctx.today), recipient=ctx.user, kind=kind, patient_id__in=ctx.patient_ids)
        .order_by("due_date", "id")
        .values_list("patient_id", "subject_id", "due_date")
    )
    return [(patient_id, subject_id, due) for patient_id, subject_id, due in rows if patient_id is not None]


def sessions_to_follow_up(ctx: WorklistContext) -> Iterable[WorkItem]:
    """The caller's open follow-ups of missed sessions (still missed: no session attended since)."""
    reminders = _own_reminders(ctx, ReminderKind.SESSION_FOLLOW_UP)
    missed = {
        str(public_id): (attendance, session_date)
        for public_id, attendance, session_date in TherapySession.objects.filter(
            public_id__in=[subject_id for _, subject_id, _ in reminders if len(subject_id) == 36],
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
    for patient_id, subject_id, due in reminders:
        if subject_id not in missed:
            continue
        attendance, session_date = missed.pop(subject_id)  # one item per session, not per reminder
        yield ctx.item(
            kind="session_follow_up",
            patient_id=patient_id,
            title=f"Follow up the {Attendance(attendance).label.lower()} on {session_date:%Y-%m-%d}",
            due_date=due,
            severity=Severity.HIGH,
            url=_chart("therapy:tab", ctx.patients[patient_id]),
        )


def not_improving(ctx: WorklistContext) -> Iterable[WorkItem]:
    rows = (
        annotate_outcomes(
            Patient.objects.filter(pk__in=ctx.patient_ids), today=ctx.today, instruments=(InstrumentCode.PHQ9,)
        )
        .annotate(twice_latest=F("phq9_latest") * 2)
        .filter(
            phq9_baseline_on__lte=ctx.today - NOT_IMPROVING_AFTER,
            phq9_latest__gte=5,  # not in remission (b3)
            twice_latest__gt=F("phq9_baseline"),  # less than 50 % below baseline (b3)
        )
        .values_list("pk", "phq9_baseline_on", "phq9_baseline", "phq9_latest")
    )
    for pk, baseline_on, baseline, latest in rows:
        assert baseline_on is not None  # the filter above needs a baseline date
        weeks = (ctx.today - baseline_on).days // 7
        yield ctx.item(
            kind="not_improving",
            patient_id=pk,
            title=f"Not improving at week {weeks}: PHQ-9 {baseline} → {latest}. Consider a case review.",
            due_date=baseline_on + NOT_IMPROVING_AFTER,
            severity=Severity.ROUTINE,
            url=_chart("outcomes:tab", ctx.patients[pk]),
        )


def measurements_due(ctx: WorklistContext) -> Iterable[WorkItem]:
    for pk, _public_id, anchor, instrument in measurement_due_rows(
        Patient.objects.filter(pk__in=ctx.patient_ids), ctx.today
    ):
        patient = ctx.patients[pk]
        yield ctx.item(
            kind="measurement_due",
            patient_id=pk,
            title=f"{instrument} due: none since {anchor:%Y-%m-%d}",
            due_date=anchor + MEASUREMENT_INTERVAL,
            severity=Severity.ROUTINE,
            url=reverse(
                "outcomes:assessment_create",
                kwargs={"patient_id": patient.public_id, "instrument": SLUG_OF[instrument]},
            ),
        )


def unread_team_messages(ctx: WorklistContext) -> Iterable[WorkItem]:
    for patient_id, subject_id, due in _own_reminders(ctx, ReminderKind.TEAM_MESSAGE):
        yield ctx.item(
            kind="team_message",
            patient_id=patient_id,
            title="Unread team message",
            due_date=due,
            severity=Severity.ROUTINE,
            url=_chart("reminders:team_thread", ctx.patients[patient_id]) + f"#message-{subject_id}",
        )


def check_in_concerns(ctx: WorklistContext) -> Iterable[WorkItem]:
    """Mood <= 2 at the latest check-in, or medication not taken three check-ins in a row (issue 17
    item 3). Both are this week's work (HIGH): a missed lithium or clozapine dose matters."""
    for row in check_in_worklist_items(ctx.user):
        if row["patient"].pk in ctx.patients:
            yield ctx.item(
                kind=CHECK_IN_KIND,
                patient_id=row["patient"].pk,
                title=row["title"],
                due_date=row["due_date"],
                severity=Severity.HIGH,
                url=row["url"],
            )


SHIPPED = (
    WorklistSource("safety_alert", "Safety alerts", safety_alerts, order=10),
    WorklistSource("critical_result", "Critical results", critical_results, order=20),
    WorklistSource("monitoring_overdue", "Overdue monitoring", overdue_monitoring, order=30),
    WorklistSource("session_follow_up", "Sessions to follow up", sessions_to_follow_up, order=40),
    WorklistSource("not_improving", "Not improving", not_improving, order=50),
    WorklistSource("measurement_due", "Measurements due", measurements_due, order=60),
    WorklistSource("team_message", "Unread team messages", unread_team_messages, order=70),
    WorklistSource(CHECK_IN_KIND, "Check-in concerns", check_in_concerns, order=45),
)


def register_shipped_sources() -> None:
    for source in SHIPPED:
        worklist_source_register(source)
