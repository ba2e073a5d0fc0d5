"""Reads other apps rely on: the timeline's session events and the patients in therapy."""

from datetime import timedelta

from django.utils import timezone

from careplans.models import Patient
from therapy import services
from therapy.models import Attendance, CourseStatus
from therapy.selectors import SessionEvent, goal_progress_panel, patients_in_therapy_ids, timeline_session_events


def test_timeline_events_in_date_order_in_one_query(course, therapist, patient, django_assert_num_queries):
    today = timezone.localdate()
    services.session_log(
        course=course, actor=therapist, session_date=today, attendance=Attendance.NO_SHOW, private_note="private"
    )
    services.session_log(course=course, actor=therapist, session_date=today - timedelta(days=7))
    with django_assert_num_queries(1):
        events = timeline_session_events(patient=patient)
    assert events == [SessionEvent(today - timedelta(days=7), "CBT", "attended"), SessionEvent(today, "CBT", "no_show")]
    assert "private" not in str(events)


def test_timeline_leaves_out_sessions_entered_in_error(course, therapist, patient):
    session = services.session_log(course=course, actor=therapist, session_date=timezone.localdate())
    services.session_enter_in_error(session=session, actor=therapist, reason="Duplicate")
    assert timeline_session_events(patient=patient) == []


def test_patients_in_therapy_are_those_with_an_active_course(course, therapist, patient):
    assert list(Patient.objects.filter(pk__in=patients_in_therapy_ids())) == [patient]
    services.course_update(course=course, actor=therapist, status=CourseStatus.COMPLETED)
    assert list(patients_in_therapy_ids()) == []


def test_goal_panel_shows_latest_progress_per_linked_goal(course, therapist, goals, patient, care_plan):
    today = timezone.localdate()
    services.session_log(
        course=course, actor=therapist, session_date=today - timedelta(days=7), goal_progress={goals[0]: "in_progress"}
    )
    services.session_log(course=course, actor=therapist, session_date=today, goal_progress={goals[0]: "achieved"})
    panel = goal_progress_panel(user=therapist, patient=patient, plan=care_plan)
    rows = {row["goal"]: row for row in panel["rows"]}
    assert rows[goals[0]]["latest"].progress == "achieved"
    assert [step.progress for step in rows[goals[0]]["trail"]] == ["in_progress", "achieved"]
    assert rows[goals[1]]["latest"] is None
