"""Every non-trivial read in psychotherapy, with visibility and eager loading built in.

Visibility: the care team of the patient, through careplans.selectors (anyone else: 404).
Private process notes: only ever read with the requesting user as the author filter
(`_with_own_note`, `process_note_of`), so a colleague's note cannot be selected at all.
"""

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict
from uuid import UUID

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from careplans.models import CarePlan, Goal, Patient
from careplans.selectors import on_care_team_of, patient_ids_on_care_team_of, patients_on_care_team_of
from clinic.access import visible_or_404
from clinic.models import User
from therapy.models import (
    OPEN_COURSE_STATUSES,
    Attendance,
    CourseStatus,
    Homework,
    HomeworkCompletion,
    Modality,
    ProcessNote,
    SessionGoalProgress,
    TherapyCourse,
    TherapySession,
)

if TYPE_CHECKING:  # django-stubs' helper; not needed at run time
    from django_stubs_ext import WithAnnotations


class CourseStats(TypedDict):
    """What `_course_stats` adds to a course."""

    sessions_logged: int
    sessions_attended: int
    sessions_missed: int
    last_attended: date | None


class OwnNote(TypedDict):
    """What `_with_own_note` adds to a session: the requesting user's own process note."""

    own_note: str | None
    has_own_note: bool


class SessionEvent(NamedTuple):
    session_date: date
    modality_code: str
    attendance: str  # attended / cancelled / late_cancel / no_show


def timeline_session_events(*, patient: Patient) -> list[SessionEvent]:
    """The patient's sessions for the integrated timeline: one query, by date, never notes."""
    rows = (
        TherapySession.objects.filter(course__patient=patient, course__entered_in_error_at__isnull=True)
        .order_by("session_date", "id")
        .values_list("session_date", "course__modality__code", "attendance")
    )
    return [SessionEvent(*row) for row in rows]


def patients_in_therapy_ids() -> QuerySet:
    """Ids (pks) of patients with an active course, for reports: `Patient.objects.filter(pk__in=...)`."""
    return (
        TherapyCourse.objects.filter(status=CourseStatus.ACTIVE)
        .values_list("patient_id", flat=True)
        .distinct()
        .order_by()
    )


def modalities() -> QuerySet[Modality]:
    return Modality.objects.filter(is_active=True).order_by("name")


def modality_by_code(code: str) -> Modality | None:
    return Modality.objects.filter(code=code, is_active=True).first()


# --- Courses ------------------------------------------------------------------------


def _session_count(sessions: QuerySet[TherapySession]) -> Coalesce:
    counted = sessions.order_by().values("course").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _course_stats(courses: QuerySet[TherapyCourse]) -> "QuerySet[WithAnnotations[TherapyCourse, CourseStats]]":
    # Correlated subqueries, not a JOIN + GROUP BY: a page of 50 courses computes 50 courses'
    # counts (PostgreSQL evaluates them after the LIMIT), where the grouped join counted every
    # session of the caseload first (2.2 s at 100k patients, issue 14).
    current = TherapySession.all_records.filter(course=OuterRef("pk"), entered_in_error_at__isnull=True)
    attended = current.filter(attendance=Attendance.ATTENDED)
    return courses.annotate(
        sessions_logged=_session_count(current),
        sessions_attended=_session_count(attended),
        sessions_missed=_session_count(current.filter(attendance__in=[Attendance.NO_SHOW, Attendance.LATE_CANCEL])),
        last_attended=Subquery(attended.order_by("-session_date").values("session_date")[:1]),
    )


def courses_visible_to(user: User, *, per_row: bool = True) -> QuerySet[TherapyCourse]:
    """A per-row check by default, so the API's newest-first page walks therapy_course_newest
    (issue 14); `per_row=False`: the same rows joined by the caller's patient ids, for a count
    (outcomes.selectors.assessments_visible_to)."""
    if not per_row:
        return TherapyCourse.objects.filter(patient_id__in=patient_ids_on_care_team_of(user))
    courses = TherapyCourse.objects.filter(on_care_team_of(user))
    return (
        _course_stats(courses)
        .select_related("patient", "therapist", "modality")
        .prefetch_related(Prefetch("goals", queryset=Goal.objects.order_by("id")))
    )


def course_for(*, user: User, public_id: UUID | str) -> TherapyCourse:
    return visible_or_404(courses_visible_to(user), user=user, public_id=public_id)


def courses_of(patient: Patient) -> "list[WithAnnotations[TherapyCourse, CourseStats]]":
    """A patient's courses, open ones first, with attendance counts and linked goals."""
    courses = (
        _course_stats(TherapyCourse.objects.filter(patient=patient))
        .select_related("therapist", "modality")
        .prefetch_related(Prefetch("goals", queryset=Goal.objects.order_by("id")))
        .order_by("-started_on", "-id")
    )
    return sorted(courses, key=lambda course: course.status not in OPEN_COURSE_STATUSES)


def open_course_of(*, patient: Patient, public_id: UUID | str) -> TherapyCourse:
    course = (
        TherapyCourse.objects.filter(patient=patient, public_id=public_id)
        .select_related("modality", "therapist")
        .first()
    )
    if course is None:
        raise Http404
    return course


def linkable_goals(patient: Patient) -> QuerySet[Goal]:
    """Goals of the patient's care plans that a course may address."""
    return Goal.objects.filter(care_plan__patient=patient).select_related("care_plan").order_by("due_date", "id")


# --- Sessions -----------------------------------------------------------------------


def _with_own_note(
    sessions: QuerySet[TherapySession], user: User
) -> "QuerySet[WithAnnotations[TherapySession, OwnNote]]":
    """Annotate the *requesting user's own* process note, if any: `own_note`, `has_own_note`."""
    notes = ProcessNote.objects.filter(session=OuterRef("pk"), author=user)
    return sessions.annotate(own_note=Subquery(notes.values("text")[:1]), has_own_note=Exists(notes))


def _session_rows(
    sessions: QuerySet[TherapySession], user: User
) -> "QuerySet[WithAnnotations[TherapySession, OwnNote]]":
    return (
        _with_own_note(sessions, user)
        .select_related("course__patient", "course__modality", "course__therapist", "logged_by")
        .prefetch_related(
            Prefetch("goal_progress", queryset=SessionGoalProgress.objects.select_related("goal").order_by("goal_id")),
            Prefetch("homework_assigned", queryset=Homework.objects.order_by("id")),
            Prefetch("homework_reviewed", queryset=Homework.objects.order_by("id")),
        )
    )


def sessions_visible_to(user: User) -> "QuerySet[WithAnnotations[TherapySession, OwnNote]]":
    sessions = TherapySession.objects.filter(course__patient__in=patients_on_care_team_of(user))
    return _session_rows(sessions, user).order_by("-session_date", "-id")


def session_for(*, user: User, public_id: UUID | str) -> "WithAnnotations[TherapySession, OwnNote]":
    return visible_or_404(sessions_visible_to(user), user=user, public_id=public_id)


def sessions_of(*, patient: Patient, user: User, limit: int = 100) -> "list[WithAnnotations[TherapySession, OwnNote]]":
    """The patient's latest sessions (visibility already checked by the chart)."""
    sessions = TherapySession.objects.filter(course__patient=patient).order_by("-session_date", "-id")
    return list(_session_rows(sessions, user)[:limit])


def process_note_of(*, session: TherapySession, author: User) -> ProcessNote | None:
    return ProcessNote.objects.filter(session=session, author=author).first()


def attendance_by_course(patient: Patient) -> dict[int, list[tuple[date, str]]]:
    """Course pk -> [(date, attendance), ...] oldest first, for the attendance strip: one query."""
    rows = (
        TherapySession.objects.filter(course__patient=patient)
        .order_by("session_date", "id")
        .values_list("course_id", "session_date", "attendance")
    )
    by_course: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for course_id, day, attendance in rows:
        by_course[course_id].append((day, attendance))
    return dict(by_course)


def homework_of(patient: Patient, *, limit: int = 20) -> list[Homework]:
    """Latest homework, open first, with the session that set and reviewed it: one query."""
    rows = (
        Homework.objects.filter(assigned_in__course__patient=patient, assigned_in__entered_in_error_at__isnull=True)
        .select_related("assigned_in__course__modality", "reviewed_in")
        .order_by("-assigned_in__session_date", "-id")[:limit]
    )
    return sorted(rows, key=lambda hw: hw.completion != HomeworkCompletion.ASSIGNED)


def open_homework_of(course: TherapyCourse) -> Homework | None:
    return (
        Homework.objects.filter(
            assigned_in__course=course,
            completion=HomeworkCompletion.ASSIGNED,
            assigned_in__entered_in_error_at__isnull=True,
        )
        .select_related("assigned_in")
        .order_by("-assigned_in__session_date", "-id")
        .first()
    )


def same_day_sessions(*, patient: Patient, day: date) -> list[TherapySession]:
    """The patient's sessions already logged on `day`, in any course: a second one is probably a
    double entry (issue 16 item 9); the form warns and lets the therapist confirm."""
    return list(
        TherapySession.objects.filter(course__patient=patient, session_date=day)
        .select_related("course__modality")
        .order_by("id")
    )


def last_session_of(course: TherapyCourse) -> TherapySession | None:
    return TherapySession.objects.filter(course=course).order_by("-session_date", "-id").first()


# --- The care-plan panel --------------------------------------------------------------


def goal_progress_panel(*, user: User, patient: Patient, plan: CarePlan) -> dict[str, Any]:
    """Context of the care-plan tab's "progress from therapy" panel: for each goal a course
    addresses, the latest progress judged in a session and the recent trail. Two queries."""
    goals = list(
        Goal.objects.filter(
            care_plan=plan, therapy_courses__isnull=False, therapy_courses__entered_in_error_at__isnull=True
        )
        .distinct()
        .order_by("due_date", "id")
    )
    progress = (
        SessionGoalProgress.objects.filter(goal__in=goals, session__entered_in_error_at__isnull=True)
        .select_related("session__course__modality")
        .order_by("goal_id", "-session__session_date", "-id")
    )
    by_goal: dict[int, list[SessionGoalProgress]] = defaultdict(list)
    for row in progress:
        by_goal[row.goal_id].append(row)
    rows = []
    for goal in goals:
        trail = by_goal.get(goal.pk, [])
        rows.append({"goal": goal, "latest": trail[0] if trail else None, "trail": list(reversed(trail[:8]))})
    return {"patient": patient, "rows": rows}
