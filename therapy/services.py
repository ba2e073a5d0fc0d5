"""Every write in psychotherapy: courses, sessions, goal progress, homework, process notes.

Each function runs in one transaction, validates with full_clean(), writes its audit
event in that transaction and, where the session calls for it, the reminders too
(SECURITY.md AL-3, CE-1). The text of a private process note never reaches the audit
trail: the trail says only `"process_note": "changed"` (DESIGN.md, SECURITY.md PN-1).
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careplans.models import Goal, Patient
from careplans.selectors import active_team_members
from clinic.access import Action, require
from clinic.audit import REDACTED, audit_record, diff, snapshot
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditAction, User
from reminders.outbox import reminders_write
from reminders.safety_signals import SafetySignal, SafetySource, safety_signal_raise
from therapy import reminders
from therapy.models import (
    OPEN_COURSE_STATUSES,
    Attendance,
    CourseStatus,
    Frequency,
    Homework,
    HomeworkCompletion,
    Modality,
    ProcessNote,
    RiskLevel,
    SessionFormat,
    SessionGoalProgress,
    TherapyCourse,
    TherapySession,
)

COURSE_FIELDS = (
    "therapist",
    "modality",
    "planned_frequency",
    "planned_sessions",
    "usual_duration_minutes",
    "usual_format",
    "status",
    "started_on",
    "ended_on",
)
SESSION_FIELDS = (
    "course",
    "session_date",
    "duration_minutes",
    "format",
    "attendance",
    "participants",
    "summary",
    "risk_level",
    "risk_note",
)
SESSION_EDITABLE = frozenset(SESSION_FIELDS) - {"course"}
COURSE_EDITABLE = frozenset(
    {"planned_frequency", "planned_sessions", "usual_duration_minutes", "usual_format", "status", "goals"}
)

# How far ahead a session date may be: a day, for time zones; anything later is a typo.
MAX_DAYS_AHEAD = 1

# STYLE.md rule 7: course status moves only along these edges.
COURSE_TRANSITIONS: dict[str, frozenset[str]] = {
    CourseStatus.ACTIVE: frozenset({CourseStatus.ON_HOLD, CourseStatus.COMPLETED, CourseStatus.DISCONTINUED}),
    CourseStatus.ON_HOLD: frozenset({CourseStatus.ACTIVE, CourseStatus.COMPLETED, CourseStatus.DISCONTINUED}),
    CourseStatus.COMPLETED: frozenset({CourseStatus.ACTIVE}),
    CourseStatus.DISCONTINUED: frozenset({CourseStatus.ACTIVE}),
}


THERAPISTS_ONLY = "Only therapists log therapy sessions."


# full_clean() without the per-row queries: the foreign keys are set by this module from rows
# already fetched through the selectors, and uniqueness is the database's own constraint.
_CLEAN = {"validate_unique": False, "validate_constraints": False}


def _on_team(*, patient: Patient, user: User) -> bool:
    return active_team_members().filter(patient=patient, user=user).exists()


def _goals_of_patient(patient: Patient, goals: Iterable[Goal]) -> list[Goal]:
    goals = list(goals)
    if any(goal.care_plan.patient_id != patient.pk for goal in goals):
        raise ValidationError({"goals": "Choose goals from this patient's care plan."})
    return goals


def _audit_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, note_changed: bool, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    changes: dict[str, Any] = diff(before, after)
    changes.update(extra or {})
    if note_changed:
        changes["process_note"] = REDACTED
    return changes


# --- Courses ------------------------------------------------------------------------


@transaction.atomic
def course_open(
    *,
    patient: Patient,
    actor: User,
    modality: Modality,
    planned_frequency: str = Frequency.WEEKLY,
    planned_sessions: int = 12,
    usual_duration_minutes: int | None = None,
    usual_format: str = SessionFormat.IN_PERSON,
    goals: Iterable[Goal] = (),
    started_on: date | None = None,
) -> TherapyCourse:
    """Open a course with the acting therapist as its therapist."""
    require(actor, Action.LOG_THERAPY_SESSION, THERAPISTS_ONLY)
    if not _on_team(patient=patient, user=actor):
        raise ValidationError({"therapist": "Join this patient's care team to open a course."})
    if not modality.is_active:
        raise ValidationError({"modality": "This modality is no longer offered."})
    goals = _goals_of_patient(patient, goals)
    course = TherapyCourse(
        patient=patient,
        therapist=actor,
        modality=modality,
        planned_frequency=planned_frequency,
        planned_sessions=planned_sessions,
        usual_format=usual_format,
        created_by=actor,
        usual_duration_minutes=usual_duration_minutes or modality.default_duration_minutes,
        started_on=started_on or timezone.localdate(),
    )
    if course.started_on > timezone.localdate() + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({"started_on": "A course cannot start more than a day from now."})
    course.full_clean(exclude=["patient", "therapist", "modality", "created_by"], **_CLEAN)
    try:
        with transaction.atomic():
            course.save()
    except IntegrityError:
        raise ValidationError(
            {"modality": "You already have an open course of this modality with this patient."}
        ) from None
    course.goals.set(goals)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=course,
        patient_id=patient.public_id,
        changes=_audit_changes(
            {},
            snapshot(course, COURSE_FIELDS),
            note_changed=False,
            extra={"goals": [None, [str(g.public_id) for g in goals]]},
        ),
    )
    return course


def course_for_session(
    *, patient: Patient, actor: User, modality: Modality, session_date: date, format: str = SessionFormat.IN_PERSON
) -> TherapyCourse:
    """The acting therapist's open course of `modality` with the patient, opened if there is
    none (DESIGN.md API: `course` is optional on a session)."""
    course = TherapyCourse.objects.filter(
        patient=patient, therapist=actor, modality=modality, status__in=OPEN_COURSE_STATUSES
    ).first()
    if course is not None:
        return course
    return course_open(
        patient=patient,
        actor=actor,
        modality=modality,
        usual_format=format,
        started_on=min(session_date, timezone.localdate()),
    )


@transaction.atomic
def course_update(*, course: TherapyCourse, actor: User, **changes: Any) -> TherapyCourse:
    require(actor, Action.LOG_THERAPY_SESSION, THERAPISTS_ONLY)
    course = TherapyCourse.objects.select_for_update().get(pk=course.pk)
    before = snapshot(course, COURSE_FIELDS)
    goals_before = sorted(str(g.public_id) for g in course.goals.all())
    new_goals = changes.pop("goals", None)
    for name in changes:
        if name not in COURSE_EDITABLE:
            raise ValueError(f"{name} is not an editable course field")
    new_status = changes.pop("status", course.status)
    if new_status != course.status:
        if new_status not in COURSE_TRANSITIONS[course.status]:
            raise ValidationError({"status": f"Cannot change a {course.status} course to {new_status}."})
        course.ended_on = None if new_status in OPEN_COURSE_STATUSES else timezone.localdate()
        if course.ended_on is not None and course.ended_on < course.started_on:
            course.ended_on = course.started_on
        course.status = new_status
    for name, value in changes.items():
        setattr(course, name, value)
    course.full_clean(exclude=["patient", "therapist", "modality", "created_by"], **_CLEAN)
    try:
        with transaction.atomic():
            course.save()
    except IntegrityError:
        raise ValidationError(
            {"status": "There is already an open course of this modality with this therapist."}
        ) from None
    extra: dict[str, Any] = {}
    if new_goals is not None:
        new_goals = _goals_of_patient(course.patient, new_goals)
        course.goals.set(new_goals)
        goals_after = sorted(str(g.public_id) for g in new_goals)
        if goals_after != goals_before:
            extra["goals"] = [goals_before, goals_after]
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=course,
        patient_id=course.patient.public_id,
        changes=_audit_changes(before, snapshot(course, COURSE_FIELDS), note_changed=False, extra=extra),
    )
    return course


# --- Sessions -----------------------------------------------------------------------


def _check_session_date(session: TherapySession) -> None:
    latest = timezone.localdate() + timedelta(days=MAX_DAYS_AHEAD)
    if session.session_date > latest:
        raise ValidationError({"session_date": "A session cannot be logged more than a day ahead."})
    if session.session_date < session.course.started_on:
        raise ValidationError({"session_date": f"This course started on {session.course.started_on:%Y-%m-%d}."})


def _goal_progress_write(session: TherapySession, progress: Mapping[Goal, str]) -> dict[str, str]:
    """Save progress per goal; return {goal id: progress} of what changed, for the audit."""
    if not progress:
        return {}
    linked = set(session.course.goals.values_list("pk", flat=True))
    if any(goal.pk not in linked for goal in progress):
        raise ValidationError({"goal_progress": "Record progress only on the goals this course addresses."})
    changed: dict[str, str] = {}
    existing = {row.goal_id: row for row in SessionGoalProgress.objects.filter(session=session)}
    for goal, value in progress.items():
        row = existing.get(goal.pk) or SessionGoalProgress(session=session, goal=goal)
        if row.pk is not None and row.progress == value:
            continue
        row.progress = value
        row.full_clean(exclude=["session", "goal"], **_CLEAN)
        row.save()
        changed[str(goal.public_id)] = value
    return changed


def _homework_write(
    session: TherapySession, *, homework: str | None, last_homework: str | None, new: bool = False
) -> dict[str, Any]:
    """Record whether the last homework was done, and the homework set in this session."""
    changes: dict[str, Any] = {}
    if new and not (homework or "").strip():
        homework = None  # a new session has no homework yet to look up
    if last_homework:
        if last_homework not in HomeworkCompletion.values or last_homework == HomeworkCompletion.ASSIGNED:
            raise ValidationError({"last_homework": "Say whether it was done, partly done or not done."})
        # Correcting a session re-reviews what it reviewed; a new one reviews the latest open homework.
        pending = Homework.objects.filter(reviewed_in=session).first() or (
            Homework.objects.filter(
                assigned_in__course=session.course,
                completion=HomeworkCompletion.ASSIGNED,
                assigned_in__session_date__lte=session.session_date,
            )
            .exclude(assigned_in=session)
            .order_by("-assigned_in__session_date", "-id")
            .first()
        )
        if pending is None:
            raise ValidationError({"last_homework": "There is no homework from an earlier session to review."})
        if pending.completion != last_homework:
            changes["last_homework"] = [pending.completion, last_homework]
            pending.completion = last_homework
            pending.reviewed_in = session
            pending.full_clean(exclude=["assigned_in", "reviewed_in"], **_CLEAN)
            pending.save()
    if homework is not None:
        current = Homework.objects.filter(assigned_in=session).first()
        text = homework.strip()
        if current is None and text:
            current = Homework(assigned_in=session, description=text)
            current.full_clean(exclude=["assigned_in", "reviewed_in"], **_CLEAN)
            current.save()
            changes["homework"] = [None, text]
        elif current is not None and text and current.description != text:
            changes["homework"] = [current.description, text]
            current.description = text
            current.full_clean(exclude=["assigned_in", "reviewed_in"], **_CLEAN)
            current.save()
        elif current is not None and not text:
            raise ValidationError({"homework": "Homework already set cannot be blanked; correct its text."})
    return changes


def _process_note_write(session: TherapySession, *, author: User, text: str | None, new: bool = False) -> bool:
    """Create or change the author's own note on the session. Returns whether it changed."""
    if text is None or (new and not text.strip()):
        return False
    note = ProcessNote.objects.filter(session=session, author=author).first()
    if note is None:
        if not text.strip():
            return False
        note = ProcessNote(session=session, author=author, text=text)
    elif note.text == text:
        return False
    else:
        note.text = text
    note.full_clean(exclude=["session", "author"], **_CLEAN)
    note.save()
    return True


def _session_reminders(session: TherapySession, *, actor: User, before: Mapping[str, Any] | None) -> None:
    """Missed sessions write their reminders, a raised risk opens a safety alert, in the session's
    transaction."""
    drafts = []
    if before is None or before.get("attendance") != session.attendance:
        drafts += reminders.missed_session_drafts(session)
    if drafts:
        reminders_write(drafts)
    if (before is None or before.get("risk_level") != session.risk_level) and reminders.risk_raised(session):
        # One safety signal (issue 16 item 3): the same alert, banner, flags and follow-up as a
        # positive PHQ-9 item 9; outcomes opens it and alerts the clinic's chosen recipients.
        safety_signal_raise(
            SafetySignal(
                patient=session.course.patient,
                actor=actor,
                source=SafetySource.SESSION_RISK,
                source_date=session.session_date,
                session_public_id=session.public_id,
            )
        )


@transaction.atomic
def session_log(
    *,
    course: TherapyCourse,
    actor: User,
    session_date: date,
    attendance: str = Attendance.ATTENDED,
    duration_minutes: int | None = None,
    format: str | None = None,
    participants: str = "",
    summary: str = "",
    risk_level: str = RiskLevel.NONE,
    risk_note: str = "",
    goal_progress: Mapping[Goal, str] | None = None,
    homework: str = "",
    last_homework: str = "",
    private_note: str = "",
) -> TherapySession:
    """Log one session; duration and format default to the course's usual ones."""
    require(actor, Action.LOG_THERAPY_SESSION, THERAPISTS_ONLY)
    if not course.is_open:
        raise ValidationError({"course": "This course is closed; reopen it or open a new course."})
    if duration_minutes is None:
        duration_minutes = course.usual_duration_minutes if attendance == Attendance.ATTENDED else 0
    session = TherapySession(
        course=course,
        session_date=session_date,
        duration_minutes=duration_minutes,
        format=format or course.usual_format,
        attendance=attendance,
        participants=participants.strip(),
        summary=summary.strip(),
        risk_level=risk_level,
        risk_note=risk_note.strip(),
        logged_by=actor,
    )
    _session_clean(session)
    session.save()
    extra: dict[str, Any] = {}
    progress = _goal_progress_write(session, goal_progress or {})
    if progress:
        extra["goal_progress"] = [None, progress]
    extra |= _homework_write(session, homework=homework, last_homework=last_homework, new=True)
    note_changed = _process_note_write(session, author=actor, text=private_note, new=True)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=session,
        patient_id=course.patient.public_id,
        changes=_audit_changes({}, snapshot(session, SESSION_FIELDS), note_changed=note_changed, extra=extra),
    )
    _session_reminders(session, actor=actor, before=None)
    return session


def _session_clean(session: TherapySession) -> None:
    errors: dict[str, list[str]] = {}
    try:
        session.full_clean(exclude=["course", "logged_by"], **_CLEAN)
    except ValidationError as error:
        errors = dict(error.message_dict)
    if session.attendance == Attendance.ATTENDED and session.duration_minutes == 0:
        errors.setdefault("duration_minutes", []).append("An attended session lasted at least a minute.")
    if session.risk_level == RiskLevel.RAISED and not session.risk_note:
        errors.setdefault("risk_note", []).append("Say what the concern is: the prescriber is told at once.")
    if errors:
        raise ValidationError(errors)
    _check_session_date(session)


@transaction.atomic
def session_update(
    *,
    session: TherapySession,
    actor: User,
    goal_progress: Mapping[Goal, str] | None = None,
    homework: str | None = None,
    last_homework: str | None = None,
    private_note: str | None = None,
    **changes: Any,
) -> TherapySession:
    """Correct a logged session. `private_note` changes the actor's own note only."""
    require(actor, Action.LOG_THERAPY_SESSION, THERAPISTS_ONLY)
    session = TherapySession.objects.select_for_update().select_related("course__patient").get(pk=session.pk)
    before = snapshot(session, SESSION_FIELDS)
    for name, value in changes.items():
        if name not in SESSION_EDITABLE:
            raise ValueError(f"{name} is not an editable session field")
        setattr(session, name, value.strip() if isinstance(value, str) else value)
    _session_clean(session)
    session.save()
    extra: dict[str, Any] = {}
    progress = _goal_progress_write(session, goal_progress or {})
    if progress:
        extra["goal_progress"] = [None, progress]
    extra |= _homework_write(session, homework=homework, last_homework=last_homework)
    note_changed = _process_note_write(session, author=actor, text=private_note)
    changes_out = _audit_changes(before, snapshot(session, SESSION_FIELDS), note_changed=note_changed, extra=extra)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=session,
        patient_id=session.course.patient.public_id,
        changes=changes_out,
    )
    _session_reminders(session, actor=actor, before=before)
    return session


@transaction.atomic
def session_enter_in_error(*, session: TherapySession, actor: User, reason: str) -> TherapySession:
    require(actor, Action.LOG_THERAPY_SESSION, THERAPISTS_ONLY)
    return entered_in_error_mark(
        record=session, actor=actor, reason=reason, patient_id=session.course.patient.public_id, what="session"
    )


@transaction.atomic
def session_log_for_patient(
    *,
    patient: Patient,
    actor: User,
    modality: Modality | None = None,
    course: TherapyCourse | None = None,
    session_date: date,
    **fields: Any,
) -> TherapySession:
    """Log a session on `course`, or on the actor's open course of `modality` with the
    patient, opening one if needed (DESIGN.md API). One transaction: if the session is
    refused, no course is left behind."""
    require(actor, Action.LOG_THERAPY_SESSION, THERAPISTS_ONLY)
    if course is None:
        if modality is None:
            raise ValidationError({"modality": "Choose a modality (or name the course)."})
        course = course_for_session(
            patient=patient,
            actor=actor,
            modality=modality,
            session_date=session_date,
            format=fields.get("format") or SessionFormat.IN_PERSON,
        )
    elif course.patient_id != patient.pk:
        raise ValidationError({"course": "This course belongs to another patient."})
    elif modality is not None and course.modality_id != modality.pk:
        raise ValidationError({"modality": "This is not the course's modality."})
    return session_log(course=course, actor=actor, session_date=session_date, **fields)
