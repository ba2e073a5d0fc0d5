"""What psychotherapy has due: reminders fed into the one outbox (reminders.outbox).

Written inside the clinical transaction that causes them:
- a no-show or late cancel -> `session_follow_up` for the therapist and the care manager;
- a raised risk check -> a safety alert (reminders.safety_signals; outcomes writes its urgent
  `safety_alert` reminders to the recipients the clinic chose).
Found by the daily scan (`overdue_courses`, registered in TherapyConfig.ready()):
- an open course with no attended session for longer than its planned interval ->
  `session_follow_up` for the therapist.

Reminder `detail` stays behind login; it never carries the summary, risk note or process note.
"""

from datetime import date, timedelta
from typing import Any

from django.db.models import Case, CharField, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from careplans.models import Patient, PatientStatus, TeamRole
from careplans.selectors import active_team_members
from reminders.models import ReminderKind
from reminders.outbox import DraftQuery, ReminderDraft
from therapy.models import (
    FREQUENCY_INTERVAL_DAYS,
    MISSED_ATTENDANCE,
    Attendance,
    CourseStatus,
    RiskLevel,
    TherapyCourse,
    TherapySession,
)

SESSION_SUBJECT = "therapy.therapysession"
COURSE_SUBJECT = "therapy.therapycourse"


def _session_recipients(session: TherapySession) -> list[int]:
    """The course's therapist while on the team (else the team's therapists), and the care managers."""
    course = session.course
    team = list(active_team_members().filter(patient_id=course.patient_id).values_list("role", "user_id"))
    if any(user_id == course.therapist_id for _, user_id in team):
        therapists = [course.therapist_id]
    else:
        therapists = [user_id for role, user_id in team if role == TeamRole.THERAPIST]
    care_managers = [user_id for role, user_id in team if role == TeamRole.CARE_MANAGER]
    return list(dict.fromkeys(therapists + care_managers))


def missed_session_drafts(session: TherapySession) -> list[ReminderDraft]:
    """A no-show or late cancel: the therapist (and the care manager, if any) follow it up."""
    if session.attendance not in MISSED_ATTENDANCE or session.entered_in_error_at is not None:
        return []
    label = Attendance(session.attendance).label.lower()
    recipients = _session_recipients(session)
    return [
        ReminderDraft(
            recipient_id=user_id,
            patient_id=session.course.patient_id,
            kind=ReminderKind.SESSION_FOLLOW_UP,
            subject_type=SESSION_SUBJECT,
            subject_id=str(session.public_id),
            due_date=session.session_date,
            detail=f"Therapy session on {session.session_date:%Y-%m-%d}: {label}. Follow up with the patient.",
        )
        for user_id in recipients
    ]


def risk_raised(session: TherapySession) -> bool:
    """A raised risk check is a safety signal (issue 16 item 3): the caller opens a safety alert
    through reminders.safety_signals; outcomes alerts the clinic's chosen recipients."""
    return session.risk_level == RiskLevel.RAISED and session.entered_in_error_at is None


def _overdue_course_rows(today: date, patients: QuerySet[Patient] | None = None) -> QuerySet[Any]:  # `anchor`
    """Active courses of active patients, therapist still on the team, annotated with
    `anchor` (last attended session, or the start) older than the planned interval."""
    # One probe per course of therapy_session_attended_idx, not an aggregate over every session.
    last_attended = Subquery(
        TherapySession.all_records.filter(
            course_id=OuterRef("pk"), attendance=Attendance.ATTENDED, entered_in_error_at__isnull=True
        )
        .order_by("-session_date")
        .values("session_date")[:1],
        output_field=DateField(),
    )
    # One comparison with the course's own cut-off, not one OR branch a frequency: each branch
    # named `anchor`, and PostgreSQL ran the last-attended subquery again for each (5 index
    # probes a course, issue 14). A frequency without an interval: NULL, never overdue, as before.
    cutoff = Case(
        *[
            When(planned_frequency=frequency, then=Value(today - timedelta(days=days)))
            for frequency, days in FREQUENCY_INTERVAL_DAYS.items()
        ],
        output_field=DateField(),
    )
    overdue = Q(anchor__lt=cutoff)
    therapist_on_team = Exists(
        active_team_members().filter(patient_id=OuterRef("patient_id"), user_id=OuterRef("therapist_id"))
    )
    courses = TherapyCourse.objects.filter(status=CourseStatus.ACTIVE, patient__status=PatientStatus.ACTIVE)
    if patients is not None:
        courses = courses.filter(patient__in=patients)
    return courses.filter(therapist_on_team).annotate(anchor=Coalesce(last_attended, F("started_on"))).filter(overdue)


def overdue_courses(today: date, patients: QuerySet[Patient] | None = None) -> list[ReminderDraft]:
    """Daily rule: active courses whose last attended session (or start, if none) is older
    than the planned interval. One query; due date = the day the next session was expected,
    so re-running the scan on later days is a no-op until a session is logged."""
    rows = _overdue_course_rows(today, patients).values_list(
        "public_id", "patient_id", "therapist_id", "planned_frequency", "anchor"
    )
    return [
        ReminderDraft(
            recipient_id=therapist_id,
            patient_id=patient_id,
            kind=ReminderKind.SESSION_FOLLOW_UP,
            subject_type=COURSE_SUBJECT,
            subject_id=str(public_id),
            due_date=anchor + timedelta(days=FREQUENCY_INTERVAL_DAYS[frequency]),
            detail=f"No therapy session since {anchor:%Y-%m-%d}: the course's planned interval has passed.",
        )
        for public_id, patient_id, therapist_id, frequency, anchor in rows
    ]


def overdue_courses_query(today: date, patients: QuerySet[Patient] | None = None) -> DraftQuery:
    """overdue_courses as one INSERT ... SELECT on PostgreSQL (issue 14); the same rows.
    `patients`: only theirs (the incremental rescan)."""
    due = Case(
        *[
            # date + interval is a timestamp on PostgreSQL: cast back to the day.
            When(planned_frequency=frequency, then=Cast(F("anchor") + timedelta(days=days), DateField()))
            for frequency, days in FREQUENCY_INTERVAL_DAYS.items()
        ],
        output_field=DateField(),
    )
    rows = (
        _overdue_course_rows(today, patients)
        .annotate(
            r_kind=Value(ReminderKind.SESSION_FOLLOW_UP.value),
            r_subject_type=Value(COURSE_SUBJECT),
            r_subject_id=Cast("public_id", output_field=CharField()),
            r_due=due,
            r_detail=Concat(
                Value("No therapy session since "),
                Cast("anchor", output_field=CharField()),
                Value(": the course's planned interval has passed."),
            ),
        )
        .values_list("therapist_id", "patient_id", "r_kind", "r_subject_type", "r_subject_id", "r_due", "r_detail")
        .order_by()
    )
    return DraftQuery(queryset=rows, drafts=lambda: overdue_courses(today, patients))
