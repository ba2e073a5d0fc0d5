"""/api/v1/therapy-sessions/ and /api/v1/therapy-courses/ (DESIGN.md API contract v1)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import AuditEvent
from reminders.models import Reminder, ReminderKind
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory
from therapy import services
from therapy.models import Attendance, ProcessNote, TherapyCourse, TherapySession

SESSIONS = "/api/v1/therapy-sessions/"
COURSES = "/api/v1/therapy-courses/"


def _body(patient, **extra):  # type: ignore[no-untyped-def]
    return {
        "patient": str(patient.public_id),
        "modality": "CBT",
        "session_date": str(timezone.localdate()),
        "duration_minutes": 50,
        "format": "telehealth",
        "attendance": "attended",
        "summary": "Practised thought records.",
        **extra,
    }


@pytest.fixture
def session(course, therapist):  # type: ignore[no-untyped-def]
    return services.session_log(
        course=course,
        actor=therapist,
        session_date=timezone.localdate(),
        summary="Shared summary",
        private_note="my own reflections",
    )


# --- Role matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["therapist", "prescriber", "care_manager"])
def test_care_team_reads_sessions_and_courses(request, api, session, who):
    client = api(request.getfixturevalue(who))
    assert client.get(SESSIONS).json()["count"] == 1
    assert client.get(f"{SESSIONS}{session.public_id}/").status_code == 200
    assert client.get(COURSES).json()["count"] == 1
    assert client.get(f"{COURSES}{session.course.public_id}/").status_code == 200


@pytest.mark.parametrize("who", ["outsider", "clinic_admin", "superuser"])
def test_anyone_off_the_care_team_gets_404_and_empty_lists(request, api, session, who):
    client = api(request.getfixturevalue(who))
    assert client.get(SESSIONS).json()["count"] == 0
    assert client.get(COURSES).json()["count"] == 0
    assert client.get(f"{SESSIONS}{session.public_id}/").status_code == 404
    assert client.get(f"{COURSES}{session.course.public_id}/").status_code == 404
    assert client.patch(f"{SESSIONS}{session.public_id}/", {"summary": "x"}, format="json").status_code == 404
    assert (
        client.patch(f"{COURSES}{session.course.public_id}/", {"planned_sessions": 3}, format="json").status_code == 404
    )
    session.refresh_from_db()
    assert session.summary == "Shared summary"
    assert TherapyCourse.objects.get().planned_sessions == 12


def test_outsider_therapist_cannot_log_a_session_for_a_patient_not_theirs(api, outsider, patient, cbt):
    response = api(outsider).post(SESSIONS, _body(patient), format="json")
    assert response.status_code == 404
    assert not TherapySession.objects.exists()
    assert not TherapyCourse.objects.exists()


def test_outsider_gets_404_on_patch(api, outsider, session):
    response = api(outsider).patch(f"{SESSIONS}{session.public_id}/", {"summary": "x"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["prescriber", "care_manager"])
def test_prescriber_and_care_manager_cannot_log_or_change_sessions(request, api, patient, session, who):
    client = api(request.getfixturevalue(who))
    assert client.post(SESSIONS, _body(patient), format="json").status_code == 403
    assert client.patch(f"{SESSIONS}{session.public_id}/", {"summary": "x"}, format="json").status_code == 403
    assert (
        client.post(COURSES, {"patient": str(patient.public_id), "modality": "DBT"}, format="json").status_code == 403
    )
    assert (
        client.patch(f"{COURSES}{session.course.public_id}/", {"planned_sessions": 3}, format="json").status_code == 403
    )
    assert TherapySession.objects.count() == 1
    session.refresh_from_db()
    assert session.summary == "Shared summary"


@pytest.mark.parametrize("who", ["clinic_admin", "superuser"])
def test_clinic_admin_cannot_log_sessions(request, api, patient, who):
    response = api(request.getfixturevalue(who)).post(SESSIONS, _body(patient), format="json")
    assert response.status_code in (403, 404)
    assert not TherapySession.objects.exists()


def test_anonymous_gets_401(api, session):
    assert api().get(SESSIONS).status_code == 401
    assert api().get(f"{SESSIONS}{session.public_id}/").status_code == 401
    assert api().get(COURSES).status_code == 401


# --- Logging a session -------------------------------------------------------------------


def test_therapist_logs_a_session_and_a_course_is_opened_for_the_modality(api, therapist, patient, cbt):
    response = api(therapist).post(SESSIONS, _body(patient), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["modality"] == "CBT"
    assert data["attendance"] == "attended"
    assert data["format"] == "telehealth"
    course = TherapyCourse.objects.get()
    assert data["course"] == str(course.public_id)
    assert course.therapist == therapist
    assert "private_note" not in data  # no note written: nothing of the kind to show


def test_second_session_of_same_modality_reuses_the_open_course(api, therapist, patient, cbt):
    api(therapist).post(SESSIONS, _body(patient), format="json")
    api(therapist).post(SESSIONS, _body(patient, attendance="no_show"), format="json")
    assert TherapyCourse.objects.count() == 1
    assert TherapySession.objects.count() == 2


def test_a_named_course_is_used_and_modality_may_be_left_out(api, therapist, patient, course):
    body = _body(patient, course=str(course.public_id))
    del body["modality"]
    response = api(therapist).post(SESSIONS, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["course"] == str(course.public_id)


def test_duration_and_format_default_to_the_course_usual(api, therapist, patient, course):
    body = {
        "patient": str(patient.public_id),
        "course": str(course.public_id),
        "session_date": str(timezone.localdate()),
    }
    data = api(therapist).post(SESSIONS, body, format="json").json()
    assert data["duration_minutes"] == course.usual_duration_minutes
    assert data["format"] == course.usual_format
    assert data["attendance"] == "attended"


def test_session_records_goal_progress_homework_and_review(api, therapist, patient, course, goals):
    first = api(therapist).post(
        SESSIONS,
        _body(
            patient,
            homework="Thought record x2",
            goal_progress=[{"goal": str(goals[0].public_id), "progress": "in_progress"}],
        ),
        format="json",
    )
    assert first.status_code == 201, first.json()
    assert first.json()["homework"] == "Thought record x2"
    assert first.json()["goal_progress"] == [{"goal": str(goals[0].public_id), "progress": "in_progress"}]
    second = api(therapist).post(SESSIONS, _body(patient, last_homework="partly"), format="json")
    assert second.json()["last_homework"] == "partly"


def test_author_sees_their_private_note_and_it_is_stored_apart(api, therapist, patient, cbt):
    response = api(therapist).post(SESSIONS, _body(patient, private_note="Felt pulled to rescue."), format="json")
    assert response.json()["private_note"] == "Felt pulled to rescue."
    note = ProcessNote.objects.get()
    assert note.author == therapist
    detail = api(therapist).get(f"{SESSIONS}{response.json()['id']}/").json()
    assert detail["private_note"] == "Felt pulled to rescue."


@pytest.mark.parametrize("who", ["co_therapist", "prescriber", "care_manager"])
def test_private_note_is_absent_for_everyone_but_its_author(request, api, session, who):
    client = api(request.getfixturevalue(who))
    detail = client.get(f"{SESSIONS}{session.public_id}/").json()
    assert "private_note" not in detail
    listed = client.get(SESSIONS).json()["results"][0]
    assert "private_note" not in listed
    assert "my own reflections" not in str(detail) + str(listed)


def test_co_therapist_writing_a_note_creates_their_own_and_leaves_the_authors(api, session, therapist, co_therapist):
    response = api(co_therapist).patch(
        f"{SESSIONS}{session.public_id}/", {"private_note": "co-lead view"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["private_note"] == "co-lead view"
    assert api(therapist).get(f"{SESSIONS}{session.public_id}/").json()["private_note"] == "my own reflections"
    assert ProcessNote.objects.count() == 2


def test_patch_corrects_attendance_and_writes_follow_up(api, therapist, session, care_manager):
    response = api(therapist).patch(
        f"{SESSIONS}{session.public_id}/", {"attendance": "no_show", "duration_minutes": 0}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["attendance"] == "no_show"
    recipients = set(Reminder.objects.filter(kind=ReminderKind.SESSION_FOLLOW_UP).values_list("recipient", flat=True))
    assert recipients == {therapist.pk, care_manager.pk}


def test_patch_cannot_move_a_session_to_another_patient_or_course(api, therapist, session, patient):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=therapist, role="therapist")
    response = api(therapist).patch(f"{SESSIONS}{session.public_id}/", {"patient": str(other.public_id)}, format="json")
    assert response.status_code == 400
    assert "patient" in response.json()
    response = api(therapist).patch(f"{SESSIONS}{session.public_id}/", {"modality": "DBT"}, format="json")
    assert response.status_code == 400
    assert "modality" in response.json()


def test_patient_filter_narrows_the_list(api, therapist, session):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=therapist, role="therapist")
    api(therapist).post(SESSIONS, _body(other), format="json")
    assert api(therapist).get(SESSIONS).json()["count"] == 2
    only = api(therapist).get(SESSIONS, {"patient": str(session.course.patient.public_id)}).json()
    assert [row["id"] for row in only["results"]] == [str(session.public_id)]
    assert (
        api(therapist).get(SESSIONS, {"patient": "not-a-uuid"}).status_code == 404
    )  # the one ?patient= answer (issue 10)


def test_reading_a_session_is_audited_without_its_text(api, prescriber, session):
    api(prescriber).get(f"{SESSIONS}{session.public_id}/")
    event = AuditEvent.objects.filter(action="read", object_type="therapy.therapysession").get()
    assert event.object_id == str(session.public_id)
    assert "Shared summary" not in str(event.changes)


# --- Bad input: per-field 400, nothing changes -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_minutes", -5),
        ("duration_minutes", 900),
        ("attendance", "vanished"),
        ("format", "carrier_pigeon"),
        ("session_date", "not-a-date"),
        ("modality", ""),
        ("modality", "ASTROLOGY"),
        ("risk_level", "extreme"),
    ],
)
def test_bad_input_gets_a_field_error_and_changes_nothing(api, therapist, patient, cbt, field, value):
    before = AuditEvent.objects.count()
    response = api(therapist).post(SESSIONS, _body(patient, **{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TherapySession.objects.exists()
    assert not TherapyCourse.objects.exists()
    assert AuditEvent.objects.count() == before


def test_session_date_more_than_a_day_ahead_is_refused(api, therapist, patient, cbt):
    ahead = timezone.localdate() + timedelta(days=2)
    response = api(therapist).post(SESSIONS, _body(patient, session_date=str(ahead), private_note="n"), format="json")
    assert response.status_code == 400
    assert "session_date" in response.json()
    assert not TherapySession.objects.exists()
    assert not TherapyCourse.objects.exists()  # the course opened for it is rolled back too
    assert not ProcessNote.objects.exists()


def test_tomorrow_is_accepted_for_time_zones(api, therapist, patient, cbt):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = api(therapist).post(
        SESSIONS, _body(patient, session_date=str(tomorrow), attendance="cancelled"), format="json"
    )
    assert response.status_code == 201


def test_missing_modality_and_course_is_a_modality_error(api, therapist, patient, cbt):
    body = _body(patient)
    del body["modality"]
    response = api(therapist).post(SESSIONS, body, format="json")
    assert response.status_code == 400
    assert "modality" in response.json()


def test_attended_session_of_zero_minutes_is_refused(api, therapist, patient, cbt):
    response = api(therapist).post(SESSIONS, _body(patient, duration_minutes=0), format="json")
    assert response.status_code == 400
    assert "duration_minutes" in response.json()


def test_raised_risk_without_a_note_is_refused(api, therapist, patient, cbt):
    response = api(therapist).post(SESSIONS, _body(patient, risk_level="raised"), format="json")
    assert response.status_code == 400
    assert "risk_note" in response.json()
    assert not Reminder.objects.exists()


def test_patch_with_bad_input_changes_nothing(api, therapist, session):
    response = api(therapist).patch(
        f"{SESSIONS}{session.public_id}/", {"duration_minutes": -1, "summary": "changed"}, format="json"
    )
    assert response.status_code == 400
    assert "duration_minutes" in response.json()
    session.refresh_from_db()
    assert session.summary == "Shared summary"


# --- AC-3: ids in bodies ---------------------------------------------------------------------


def test_course_of_another_patient_is_refused(api, therapist, patient, cbt):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=therapist, role="therapist")
    foreign = services.course_open(patient=other, actor=therapist, modality=cbt)
    response = api(therapist).post(SESSIONS, _body(patient, course=str(foreign.public_id)), format="json")
    assert response.status_code == 400
    assert "course" in response.json()
    assert not TherapySession.objects.exists()


def test_goal_of_another_patient_is_refused(api, therapist, patient, course):
    foreign_goal = GoalFactory(care_plan=CarePlanFactory())
    response = api(therapist).post(
        SESSIONS,
        _body(patient, goal_progress=[{"goal": str(foreign_goal.public_id), "progress": "achieved"}]),
        format="json",
    )
    assert response.status_code == 400
    assert "goal_progress" in response.json()
    response = api(therapist).post(
        COURSES,
        {"patient": str(patient.public_id), "modality": "ACT", "goals": [str(foreign_goal.public_id)]},
        format="json",
    )
    assert response.status_code == 400
    assert "goals" in response.json()
    assert TherapySession.objects.count() == 0


def test_forged_server_owned_fields_are_ignored(api, therapist, prescriber, patient, cbt):
    body = _body(
        patient,
        therapist=str(prescriber.public_id),
        id="00000000-0000-0000-0000-000000000001",
        created_at="2000-01-01T00:00:00Z",
    )
    data = api(therapist).post(SESSIONS, body, format="json").json()
    assert data["therapist"] == str(therapist.public_id)
    assert data["id"] != "00000000-0000-0000-0000-000000000001"


# --- Courses --------------------------------------------------------------------------------


def test_therapist_opens_a_course_with_goals(api, therapist, patient, goals):
    response = api(therapist).post(
        COURSES,
        {
            "patient": str(patient.public_id),
            "modality": "IPT",
            "planned_frequency": "every_2_weeks",
            "planned_sessions": 16,
            "goals": [str(goals[0].public_id)],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["modality"] == "IPT"
    assert data["goals"] == [str(goals[0].public_id)]
    assert data["status"] == "active"
    assert data["therapist"] == str(therapist.public_id)


def test_second_open_course_of_same_modality_is_refused(api, therapist, patient, course):
    response = api(therapist).post(COURSES, {"patient": str(patient.public_id), "modality": "CBT"}, format="json")
    assert response.status_code == 400
    assert "modality" in response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [("planned_sessions", 0), ("planned_frequency", "hourly"), ("modality", ""), ("usual_duration_minutes", -10)],
)
def test_course_bad_input_gets_a_field_error(api, therapist, patient, cbt, field, value):
    body = {"patient": str(patient.public_id), "modality": "CBT", field: value}
    response = api(therapist).post(COURSES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TherapyCourse.objects.exists()


def test_course_completes_and_reopens_through_patch(api, therapist, course):
    url = f"{COURSES}{course.public_id}/"
    done = api(therapist).patch(url, {"status": "completed"}, format="json").json()
    assert done["status"] == "completed"
    assert done["ended_on"] is not None
    assert done["next_session_due"] is None
    again = api(therapist).patch(url, {"status": "active"}, format="json").json()
    assert again["status"] == "active"
    assert again["ended_on"] is None


def test_logging_on_a_completed_course_is_refused(api, therapist, patient, course):
    services.course_update(course=course, actor=therapist, status="completed")
    response = api(therapist).post(SESSIONS, _body(patient, course=str(course.public_id)), format="json")
    assert response.status_code == 400
    assert "course" in response.json()


def test_course_counts_attendance(api, therapist, course):
    today = timezone.localdate()
    for attendance in [Attendance.ATTENDED, Attendance.ATTENDED, Attendance.NO_SHOW]:
        services.session_log(course=course, actor=therapist, session_date=today, attendance=attendance)
    data = api(therapist).get(f"{COURSES}{course.public_id}/").json()
    assert (data["sessions_logged"], data["sessions_attended"], data["sessions_missed"]) == (3, 2, 1)
    assert data["last_attended"] == str(today)
    assert data["next_session_due"] == str(today + timedelta(days=7))


# --- Query counts -----------------------------------------------------------------------------


def _many_sessions(course, therapist, goals, n):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    for i in range(n):
        services.session_log(
            course=course,
            actor=therapist,
            session_date=today - timedelta(days=n - i),
            summary=f"s{i}",
            homework=f"hw {i}",
            last_homework="done" if i else "",
            goal_progress={goals[0]: "in_progress"},
            private_note=f"note {i}",
        )


def test_session_list_query_count_does_not_grow_with_sessions(
    api, therapist, course, goals, django_assert_max_num_queries
):
    _many_sessions(course, therapist, goals, 40)
    client = api(therapist)
    with django_assert_max_num_queries(10):
        response = client.get(SESSIONS)
    assert len(response.json()["results"]) == 40
    assert all(row["private_note"].startswith("note ") for row in response.json()["results"])


def test_course_list_query_count_does_not_grow_with_courses(
    api, therapist, patient, goals, django_assert_max_num_queries
):
    for code in ["CBT", "DBT", "IPT", "ACT", "MI", "EMDR"]:
        api(therapist).post(
            COURSES,
            {"patient": str(patient.public_id), "modality": code, "goals": [str(g.public_id) for g in goals]},
            format="json",
        )
    with django_assert_max_num_queries(8):
        response = api(therapist).get(COURSES)
    assert response.json()["count"] == 6


# --- Entered in error ---------------------------------------------------------------------------


def test_therapist_marks_a_session_entered_in_error(api, therapist, session):
    url = f"{SESSIONS}{session.public_id}/enter-in-error/"
    assert api(therapist).post(url, {"reason": ""}, format="json").status_code == 400
    assert api(therapist).post(url, {"reason": "Logged on the wrong patient"}, format="json").status_code == 204
    assert api(therapist).get(f"{SESSIONS}{session.public_id}/").status_code == 404
    assert TherapySession.all_records.get().entered_in_error_reason == "Logged on the wrong patient"


@pytest.mark.parametrize(
    ("who", "status"), [("prescriber", 403), ("care_manager", 403), ("outsider", 404), ("clinic_admin", 404)]
)
def test_only_therapists_on_the_team_mark_sessions_in_error(request, api, session, who, status):
    url = f"{SESSIONS}{session.public_id}/enter-in-error/"
    response = api(request.getfixturevalue(who)).post(url, {"reason": "x"}, format="json")
    assert response.status_code == status
    assert TherapySession.objects.filter(pk=session.pk).exists()


def test_course_goals_change_through_patch(api, therapist, course, goals):
    url = f"{COURSES}{course.public_id}/"
    data = api(therapist).patch(url, {"goals": [str(goals[1].public_id)], "planned_sessions": 16}, format="json").json()
    assert data["goals"] == [str(goals[1].public_id)]
    assert data["planned_sessions"] == 16
    assert api(therapist).patch(url, {"modality": "DBT"}, format="json").status_code == 400
