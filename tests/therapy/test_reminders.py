"""The daily rule: an active course with no attended session for longer than its planned interval."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from careplans import services as careplans_services
from careplans.models import CareTeamMember
from reminders.models import Reminder, ReminderKind
from reminders.outbox import reminder_rules, reminders_write
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory
from therapy import services
from therapy.models import Attendance, CourseStatus, Frequency
from therapy.reminders import overdue_courses, overdue_courses_query


@pytest.fixture
def started(course):  # type: ignore[no-untyped-def]
    return course.started_on


def test_rule_is_registered_with_the_outbox():
    # Registered set-based (issue 14): one INSERT ... SELECT of the rows overdue_courses builds.
    assert reminder_rules()["therapy.course_overdue"] is overdue_courses_query


def test_course_with_a_recent_session_is_not_overdue(course, therapist):
    services.session_log(course=course, actor=therapist, session_date=timezone.localdate() - timedelta(days=7))
    assert overdue_courses(timezone.localdate()) == []


def test_weekly_course_overdue_after_eight_days_reminds_the_therapist(course, therapist):
    last = timezone.localdate() - timedelta(days=8)
    services.session_log(course=course, actor=therapist, session_date=last)
    drafts = overdue_courses(timezone.localdate())
    assert len(drafts) == 1
    draft = drafts[0]
    assert (draft.recipient_id, draft.kind, draft.subject_id) == (
        therapist.pk,
        ReminderKind.SESSION_FOLLOW_UP,
        str(course.public_id),
    )
    assert draft.due_date == last + timedelta(days=7)


def test_no_shows_do_not_count_as_sessions(course, therapist):
    today = timezone.localdate()
    services.session_log(course=course, actor=therapist, session_date=today - timedelta(days=20))
    services.session_log(
        course=course, actor=therapist, session_date=today - timedelta(days=2), attendance=Attendance.NO_SHOW
    )
    assert [d.due_date for d in overdue_courses(today)] == [today - timedelta(days=13)]


def test_course_with_no_session_counts_from_its_start(patient, therapist, cbt):
    start = timezone.localdate() - timedelta(days=15)
    course = services.course_open(
        patient=patient, actor=therapist, modality=cbt, planned_frequency=Frequency.EVERY_2_WEEKS, started_on=start
    )
    drafts = overdue_courses(timezone.localdate())
    assert [(d.subject_id, d.due_date) for d in drafts] == [(str(course.public_id), start + timedelta(days=14))]


def test_every_two_weeks_is_not_overdue_at_ten_days(patient, therapist, cbt):
    services.course_open(
        patient=patient,
        actor=therapist,
        modality=cbt,
        planned_frequency=Frequency.EVERY_2_WEEKS,
        started_on=timezone.localdate() - timedelta(days=10),
    )
    assert overdue_courses(timezone.localdate()) == []


def test_closed_or_paused_courses_are_not_chased(course, therapist):
    services.course_update(course=course, actor=therapist, status=CourseStatus.ON_HOLD)
    assert overdue_courses(timezone.localdate()) == []


def test_therapist_who_left_the_team_is_not_reminded(course, therapist):
    member = CareTeamMember.objects.get(patient=course.patient, user=therapist)
    careplans_services.care_team_member_end(member=member, actor=therapist)
    assert overdue_courses(timezone.localdate()) == []


def test_scan_rerun_on_later_days_is_a_no_op(course, therapist):
    services.session_log(course=course, actor=therapist, session_date=timezone.localdate() - timedelta(days=10))
    reminders_write(overdue_courses(timezone.localdate()))
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        reminders_write(overdue_courses(timezone.localdate()))
    assert Reminder.objects.filter(subject_id=str(course.public_id)).count() == 1


def test_rule_runs_in_one_query_however_many_courses(cbt, django_assert_num_queries):
    therapist = UserFactory(is_therapist=True)
    start = timezone.localdate() - timedelta(days=40)
    for _ in range(12):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=therapist, role="therapist")
        course = services.course_open(patient=patient, actor=therapist, modality=cbt, started_on=start)
        services.session_log(course=course, actor=therapist, session_date=start + timedelta(days=3))
    with django_assert_num_queries(1):
        drafts = overdue_courses(timezone.localdate())
    assert len(drafts) == 12


@pytest.mark.parametrize("frequency", list(Frequency))
@pytest.mark.parametrize("late", [False, True])
def test_each_frequency_is_overdue_the_day_after_its_interval(patient, therapist, cbt, frequency, late):
    """The per-course cut-off (one CASE, issue 14) at its boundary, for every frequency, in the
    Python drafts and in the INSERT ... SELECT's rows alike."""
    from therapy.models import FREQUENCY_INTERVAL_DAYS

    today = timezone.localdate()
    days = FREQUENCY_INTERVAL_DAYS[frequency]
    start = today - timedelta(days=days + (1 if late else 0))
    services.course_open(patient=patient, actor=therapist, modality=cbt, planned_frequency=frequency, started_on=start)
    expected = [start + timedelta(days=days)] if late else []
    assert [d.due_date for d in overdue_courses(today)] == expected
    # Raw rows: SQLite (make test without DATABASE_URL) gives the date as text, PostgreSQL as a date.
    assert [date.fromisoformat(str(row[5])) for row in overdue_courses_query(today).rows()] == expected
