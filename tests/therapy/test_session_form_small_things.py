"""The session form's small things (issue 16 item 9): a second session on the same day is flagged
(warned, confirmable, never blocked); a missed session ignores what only an attended one has."""

import pytest
from django.urls import reverse
from django.utils import timezone

from therapy import services
from therapy.models import Homework, SessionGoalProgress, TherapySession


def _url(course):  # type: ignore[no-untyped-def]
    return reverse(
        "therapy:session_log", kwargs={"patient_id": course.patient.public_id, "course_id": course.public_id}
    )


def _form(**extra):  # type: ignore[no-untyped-def]
    return {
        "session_date": str(timezone.localdate()),
        "attendance": "attended",
        "format": "in_person",
        "duration_minutes": "50",
        "risk_level": "none",
        **extra,
    }


def test_second_session_on_the_same_day_warns_and_saves_nothing(browser_client, therapist, course):
    services.session_log(course=course, actor=therapist, session_date=timezone.localdate())
    response = browser_client(therapist).post(_url(course), _form(summary="Second one"))
    body = response.content.decode()
    assert response.status_code == 200 and "Possible duplicate" in body and "Log it anyway" in body
    assert "Second one" in body  # nothing typed is lost
    assert TherapySession.objects.filter(course=course).count() == 1


def test_confirming_the_duplicate_logs_it(browser_client, therapist, course):
    services.session_log(course=course, actor=therapist, session_date=timezone.localdate())
    response = browser_client(therapist).post(_url(course), _form(confirm_duplicate="1"))
    assert response.status_code == 302
    assert TherapySession.objects.filter(course=course).count() == 2


def test_a_session_on_another_day_is_not_flagged(browser_client, therapist, course):
    services.session_log(course=course, actor=therapist, session_date=timezone.localdate() - timezone.timedelta(days=7))
    assert browser_client(therapist).post(_url(course), _form()).status_code == 302


def test_entered_in_error_sessions_do_not_count_as_duplicates(browser_client, therapist, course):
    first = services.session_log(course=course, actor=therapist, session_date=timezone.localdate())
    services.session_enter_in_error(session=first, actor=therapist, reason="Wrong patient")
    assert browser_client(therapist).post(_url(course), _form()).status_code == 302


@pytest.mark.parametrize("attendance", ["no_show", "late_cancel", "cancelled"])
def test_a_missed_session_ignores_goal_progress_and_homework(browser_client, therapist, course, goals, attendance):
    goal = course.goals.first()
    response = browser_client(therapist).post(
        _url(course),
        _form(attendance=attendance, homework="Thought record", **{f"goal-{goal.public_id}": "in_progress"}),
    )
    assert response.status_code == 302, response.content.decode()[:500]
    session = TherapySession.objects.get(course=course)
    assert session.duration_minutes == 0
    assert not Homework.objects.filter(assigned_in=session).exists()
    assert not SessionGoalProgress.objects.filter(session=session).exists()


def test_the_form_marks_what_only_an_attended_session_needs(browser_client, therapist, course):
    body = browser_client(therapist).get(_url(course)).content.decode()
    assert body.count("data-attended-only") >= 3 and "data-missed-only" in body
