"""The chart's therapy tab, the open-course form and the session log form."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reminders.models import Reminder, ReminderKind
from therapy import services
from therapy.models import Attendance, Homework, ProcessNote, TherapyCourse, TherapySession


def tab_url(patient):  # type: ignore[no-untyped-def]
    return reverse("therapy:tab", kwargs={"patient_id": patient.public_id})


def log_url(course):  # type: ignore[no-untyped-def]
    return reverse(
        "therapy:session_log", kwargs={"patient_id": course.patient.public_id, "course_id": course.public_id}
    )


def open_url(patient):  # type: ignore[no-untyped-def]
    return reverse("therapy:course_open", kwargs={"patient_id": patient.public_id})


def edit_course_url(course):  # type: ignore[no-untyped-def]
    return reverse(
        "therapy:course_edit", kwargs={"patient_id": course.patient.public_id, "course_id": course.public_id}
    )


def edit_session_url(session):  # type: ignore[no-untyped-def]
    return reverse(
        "therapy:session_edit", kwargs={"patient_id": session.course.patient.public_id, "session_id": session.public_id}
    )


@pytest.fixture
def session(course, therapist):  # type: ignore[no-untyped-def]
    return services.session_log(
        course=course,
        actor=therapist,
        session_date=timezone.localdate(),
        summary="Worked on behavioural activation.",
        homework="Walk daily",
    )


def _post_session(client, course, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "session_date": str(timezone.localdate()),
        "attendance": "attended",
        "format": "in_person",
        "duration_minutes": "50",
        "summary": "Shared bit",
        "homework": "",
        "risk_level": "none",
        "risk_note": "",
        "private_note": "",
        **overrides,
    }
    return client.post(log_url(course), data)


# --- Role matrix -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["therapist", "prescriber", "care_manager"])
def test_care_team_sees_course_attendance_and_shared_summaries(request, browser_client, session, who):
    response = browser_client(request.getfixturevalue(who)).get(tab_url(session.course.patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cognitive behavioural therapy" in body
    assert "Worked on behavioural activation." in body
    assert 'class="attendance-strip"' in body
    assert "Walk daily" in body


def test_only_therapists_see_log_and_open_buttons(browser_client, session, therapist, prescriber):
    therapist_page = browser_client(therapist).get(tab_url(session.course.patient)).content.decode()
    assert "Log session" in therapist_page and "Open a course" in therapist_page
    prescriber_page = browser_client(prescriber).get(tab_url(session.course.patient)).content.decode()
    assert "Log session" not in prescriber_page and "Open a course" not in prescriber_page
    assert "Edit course" not in prescriber_page


@pytest.mark.parametrize("who", ["prescriber", "care_manager"])
def test_other_roles_on_the_team_get_403_on_the_forms(request, browser_client, session, who):
    client = browser_client(request.getfixturevalue(who))
    course = session.course
    for url in [log_url(course), open_url(course.patient), edit_course_url(course), edit_session_url(session)]:
        assert client.get(url).status_code == 403
    assert _post_session(client, course).status_code == 403
    assert TherapySession.objects.count() == 1


@pytest.mark.parametrize("who", ["outsider", "clinic_admin", "superuser"])
def test_anyone_off_the_team_gets_404_on_every_page(request, browser_client, session, who):
    client = browser_client(request.getfixturevalue(who))
    course = session.course
    for url in [
        tab_url(course.patient),
        log_url(course),
        open_url(course.patient),
        edit_course_url(course),
        edit_session_url(session),
    ]:
        assert client.get(url).status_code == 404, url
    assert _post_session(client, course).status_code == 404
    assert TherapySession.objects.count() == 1


def test_anonymous_is_sent_to_login(client, session):
    response = client.get(tab_url(session.course.patient))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Session log form ---------------------------------------------------------------------------


def test_session_form_comes_prefilled_for_speed(browser_client, therapist, course):
    course.usual_duration_minutes = 45
    course.usual_format = "telehealth"
    course.save()
    form = browser_client(therapist).get(log_url(course)).context["form"]
    assert form["session_date"].value() == timezone.localdate()
    assert form["duration_minutes"].value() == 45
    assert form["format"].value() == "telehealth"
    assert form["attendance"].value() == "attended"
    assert form["risk_level"].value() == "none"


def test_private_note_field_is_clearly_labelled_private(browser_client, therapist, course):
    body = browser_client(therapist).get(log_url(course)).content.decode()
    assert "Private process note — only you can ever see this" in body
    assert "private-note-box" in body


def test_therapist_logs_a_session_from_the_form(browser_client, therapist, course, goals):
    client = browser_client(therapist)
    response = _post_session(
        client,
        course,
        private_note="private thought",
        **{f"goal-{goals[0].public_id}": "in_progress"},
        homework="Thought record",
    )
    assert response.status_code == 302
    session = TherapySession.objects.get()
    assert session.summary == "Shared bit"
    assert session.goal_progress.get().progress == "in_progress"
    assert Homework.objects.get().description == "Thought record"
    assert ProcessNote.objects.get().text == "private thought"
    page = client.get(tab_url(course.patient)).content.decode()
    assert "private thought" in page  # its author sees it


def test_next_session_reviews_the_last_homework(browser_client, therapist, course, session):
    client = browser_client(therapist)
    form = client.get(log_url(course)).context["form"]
    assert "last_homework" in form.fields
    # A second session on the same day: confirmed past the possible-duplicate warning (issue 16 item 9).
    _post_session(client, course, last_homework="partly", confirm_duplicate="1")
    homework = Homework.objects.get()
    assert homework.completion == "partly"
    assert homework.reviewed_in == TherapySession.objects.latest("id")


def test_no_show_logged_from_form_takes_no_time_and_reminds(browser_client, therapist, care_manager, course):
    response = _post_session(browser_client(therapist), course, attendance="no_show", summary="")
    assert response.status_code == 302
    session = TherapySession.objects.get()
    assert session.duration_minutes == 0
    recipients = set(Reminder.objects.filter(kind=ReminderKind.SESSION_FOLLOW_UP).values_list("recipient", flat=True))
    assert recipients == {therapist.pk, care_manager.pk}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_minutes", "-5"),
        ("attendance", "vanished"),
        ("session_date", "2999-01-01"),
        ("risk_level", "raised"),  # without a note: the error is on risk_note
    ],
)
def test_bad_input_shows_a_field_error_and_keeps_what_was_typed(browser_client, therapist, course, field, value):
    response = _post_session(
        browser_client(therapist), course, summary="Typed summary", private_note="typed private", **{field: value}
    )
    assert response.status_code == 200
    form = response.context["form"]
    error_field = "risk_note" if field == "risk_level" else field
    assert form.errors[error_field]
    body = response.content.decode()
    assert "Typed summary" in body
    assert "typed private" in body  # back to its author, who typed it
    assert 'class="field-error"' in body
    assert not TherapySession.objects.exists()


def test_session_edit_corrects_the_record(browser_client, therapist, session):
    client = browser_client(therapist)
    response = client.post(
        edit_session_url(session),
        {
            "session_date": str(session.session_date),
            "attendance": "attended",
            "format": "phone",
            "duration_minutes": "30",
            "summary": "Corrected",
            "homework": "Walk daily",
            "risk_level": "low",
            "risk_note": "",
            "private_note": "added later",
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.summary, session.format, session.duration_minutes, session.risk_level) == (
        "Corrected",
        "phone",
        30,
        "low",
    )
    assert ProcessNote.objects.get().text == "added later"


# --- Courses ----------------------------------------------------------------------------------


def test_therapist_opens_a_course_with_goals(browser_client, therapist, patient, goals, cbt):
    response = browser_client(therapist).post(
        open_url(patient),
        {
            "modality": "DBT",
            "planned_frequency": "twice_weekly",
            "planned_sessions": "24",
            "usual_duration_minutes": "",
            "usual_format": "in_person",
            "goals": [str(goals[1].public_id)],
            "started_on": str(timezone.localdate()),
        },
    )
    assert response.status_code == 302
    course = TherapyCourse.objects.get()
    assert course.modality.code == "DBT"
    assert course.usual_duration_minutes == 60  # the modality's default
    assert list(course.goals.all()) == [goals[1]]


def test_open_course_form_errors_next_to_fields(browser_client, therapist, patient, cbt):
    response = browser_client(therapist).post(
        open_url(patient),
        {
            "modality": "",
            "planned_frequency": "weekly",
            "planned_sessions": "0",
            "usual_format": "in_person",
            "started_on": str(timezone.localdate()),
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"modality", "planned_sessions"}
    assert not TherapyCourse.objects.exists()


def test_course_can_be_completed_from_the_edit_form(browser_client, therapist, course, goals):
    response = browser_client(therapist).post(
        edit_course_url(course),
        {
            "status": "completed",
            "planned_frequency": "weekly",
            "planned_sessions": "12",
            "usual_duration_minutes": "50",
            "usual_format": "in_person",
            "goals": [str(goals[0].public_id)],
        },
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == "completed"
    assert course.ended_on == timezone.localdate()


def test_empty_tab_explains_what_to_do(browser_client, therapist, prescriber, patient):
    assert "Open a course to start logging sessions" in browser_client(therapist).get(tab_url(patient)).content.decode()


# --- Care-plan panel ----------------------------------------------------------------------------


def test_care_plan_tab_shows_goal_progress_from_therapy(browser_client, prescriber, course, therapist, goals):
    services.session_log(
        course=course, actor=therapist, session_date=timezone.localdate(), goal_progress={goals[0]: "achieved"}
    )
    response = browser_client(prescriber).get(
        reverse("careplans:chart", kwargs={"patient_id": course.patient.public_id})
    )
    body = response.content.decode()
    assert "Goal progress from therapy" in body
    assert "Achieved" in body


# --- Query counts -------------------------------------------------------------------------------


def _log_many(course, therapist, goals, n, start):  # type: ignore[no-untyped-def]
    for i in range(n):
        services.session_log(
            course=course,
            actor=therapist,
            session_date=start + timedelta(days=i),
            attendance=Attendance.NO_SHOW if i % 5 == 4 else Attendance.ATTENDED,
            summary=f"summary {i}",
            homework=f"homework {i}",
            goal_progress={goals[0]: "in_progress"},
            private_note=f"note {i}",
        )


def test_therapy_tab_query_count_does_not_grow_with_sessions(
    browser_client, therapist, course, goals, django_assert_max_num_queries
):
    client = browser_client(therapist)
    start = timezone.localdate() - timedelta(days=100)
    _log_many(course, therapist, goals, 5, start)
    with CaptureQueriesContext(connection) as few:
        client.get(tab_url(course.patient))
    _log_many(course, therapist, goals, 55, start + timedelta(days=5))
    with django_assert_max_num_queries(24):
        response = client.get(tab_url(course.patient))
    assert response.status_code == 200
    assert len(response.context["sessions"]) == 60
    with CaptureQueriesContext(connection) as many:
        client.get(tab_url(course.patient))
    assert len(many) == len(few)


def test_care_plan_panel_query_count_does_not_grow(browser_client, prescriber, therapist, course, goals):
    client = browser_client(prescriber)
    url = reverse("careplans:chart", kwargs={"patient_id": course.patient.public_id})
    start = timezone.localdate() - timedelta(days=100)
    _log_many(course, therapist, goals, 3, start)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _log_many(course, therapist, goals, 30, start + timedelta(days=3))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_session_entered_in_error_from_the_edit_page_leaves_the_tab(browser_client, therapist, session):
    client = browser_client(therapist)
    url = reverse(
        "therapy:session_enter_in_error",
        kwargs={"patient_id": session.course.patient.public_id, "session_id": session.public_id},
    )
    client.post(url, {"reason": ""})
    assert TherapySession.objects.filter(pk=session.pk).exists()
    response = client.post(url, {"reason": "Duplicate entry"})
    assert response.status_code == 302
    assert not TherapySession.objects.filter(pk=session.pk).exists()
    assert "Worked on behavioural activation." not in client.get(tab_url(session.course.patient)).content.decode()


@pytest.mark.parametrize(("who", "status"), [("prescriber", 403), ("outsider", 404), ("clinic_admin", 404)])
def test_enter_in_error_page_action_role_matrix(request, browser_client, session, who, status):
    url = reverse(
        "therapy:session_enter_in_error",
        kwargs={"patient_id": session.course.patient.public_id, "session_id": session.public_id},
    )
    assert browser_client(request.getfixturevalue(who)).post(url, {"reason": "x"}).status_code == status
    assert TherapySession.objects.filter(pk=session.pk).exists()
