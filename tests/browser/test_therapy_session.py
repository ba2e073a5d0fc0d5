"""Real Chromium: a therapist logs a session with a private process note from the keyboard, in
well under a minute; a colleague on the same care team opens the therapy tab and does not see it."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from careplans.models import GoalStatus, TeamRole
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, UserFactory
from tests.therapy.factories import modality_catalog_ensure
from therapy import services
from therapy.models import Attendance, Modality, ProcessNote, TherapySession

CANARY = f"CANARY-browser-note-{uuid.uuid4()}"


@pytest.fixture
def history(patient, therapist):  # type: ignore[no-untyped-def]
    """A CBT course eight weeks in: mostly attended, one no-show, one late cancel, homework set."""
    modality_catalog_ensure()
    plan = CarePlanFactory(patient=patient)
    goals = [
        GoalFactory(
            care_plan=plan, description="Reduce depressive symptoms", target="PHQ-9 below 5", status=GoalStatus.ACTIVE
        ),
        GoalFactory(care_plan=plan, description="Back at work three days a week", status=GoalStatus.ACTIVE),
    ]
    today = timezone.localdate()
    course = services.course_open(
        patient=patient,
        actor=therapist,
        modality=Modality.objects.get(code="CBT"),
        goals=goals,
        started_on=today - timedelta(weeks=8),
        usual_format="telehealth",
    )
    pattern = (
        [Attendance.ATTENDED] * 3
        + [Attendance.NO_SHOW]
        + [Attendance.ATTENDED] * 2
        + [Attendance.LATE_CANCEL, Attendance.ATTENDED]
    )
    for week, attendance in enumerate(pattern):
        attended = attendance == Attendance.ATTENDED
        services.session_log(
            course=course,
            actor=therapist,
            session_date=today - timedelta(weeks=8 - week),
            attendance=attendance,
            summary="Reviewed mood diary; practised challenging two unhelpful thoughts." if attended else "",
            goal_progress={goals[0]: "in_progress"} if attended else None,
            homework="Thought record for two situations" if attended and week == 7 else "",
        )
    return course


def test_therapist_logs_a_session_quickly_and_a_colleague_cannot_see_the_private_note(
    page, login, screenshot, therapist, patient, history, capsys
):
    co_therapist = UserFactory(username="cotherapist", is_therapist=True)
    CareTeamMemberFactory(patient=patient, user=co_therapist, role=TeamRole.THERAPIST)
    login(therapist)
    page.goto(f"/patients/{patient.public_id}/therapy/")
    page.get_by_role("button", name="Log session").click()
    page.wait_for_load_state()
    # Scoped to the form: the header's patient search is labelled "... birth date" too.
    assert page.locator("#session-form").get_by_label("Date").input_value() == str(timezone.localdate())
    assert page.get_by_label("Minutes").input_value() == "50"
    assert page.get_by_label("Attended").is_checked()
    assert page.get_by_label("Telehealth").is_checked()

    started = time.monotonic()
    page.get_by_label("Shared summary").fill(
        "Reviewed thought records; mood better on work days. Planned a graded return to the office."
    )
    page.get_by_label("Reduce depressive symptoms").select_option("in_progress")
    page.get_by_label("Partly done").check()
    page.get_by_label("Homework until next session").fill("Activity schedule: one valued activity a day")
    page.get_by_label("Private process note — only you can ever see this").fill(
        f"{CANARY}: I noticed my urge to reassure; bring to supervision."
    )
    filled = time.monotonic() - started
    screenshot("therapy_session_form")
    page.keyboard.press("Control+Enter")  # saves from the keyboard
    page.wait_for_url(f"**/patients/{patient.public_id}/therapy/")
    elapsed = time.monotonic() - started
    with capsys.disabled():
        # The issue asks for the fill time in the test output.
        print(f"\nsession form: filled in {filled:.2f} s, saved and back on the tab in {elapsed:.2f} s")  # noqa: T201
    # Printed, never asserted: timings belong to benchmarks/ (a loaded CI machine is not a slow app).

    assert page.get_by_text("logged.").is_visible()
    page.get_by_text("Your private process note").click()
    assert page.get_by_text(CANARY).first.is_visible()  # its author sees it
    screenshot("therapy_tab_author")
    note = ProcessNote.objects.get()
    assert note.author == therapist
    session = TherapySession.objects.latest("id")
    assert session.summary.startswith("Reviewed thought records")

    page.context.clear_cookies()
    login(co_therapist)
    page.goto(f"/patients/{patient.public_id}/therapy/")
    assert page.get_by_text("Reviewed thought records; mood better on work days.").is_visible()
    assert CANARY not in page.content()
    assert page.get_by_text("Your private process note").count() == 0
    screenshot("therapy_tab_colleague")
    page.goto(f"/patients/{patient.public_id}/therapy/sessions/{session.public_id}/edit/")
    assert CANARY not in page.content()
    assert page.get_by_label("Private process note — only you can ever see this").input_value() == ""
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_prescriber_sees_attendance_and_summaries_without_log_buttons(
    page, login, screenshot, prescriber, patient, history
):
    login(prescriber)
    page.goto(f"/patients/{patient.public_id}/therapy/")
    assert page.get_by_role("heading", name="Cognitive behavioural therapy").is_visible()
    assert page.get_by_role("img", name="Attendance over 8 sessions").is_visible()
    assert page.get_by_role("button", name="Log session").count() == 0
    screenshot("therapy_tab_prescriber")
    page.goto(f"/patients/{patient.public_id}/")
    assert page.get_by_role("heading", name="Goal progress from therapy").is_visible()
    page.get_by_role("heading", name="Goal progress from therapy").scroll_into_view_if_needed()
    screenshot("care_plan_with_therapy_progress")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_therapist_opens_a_course_and_gets_field_errors_on_a_bad_session(
    page, login, screenshot, therapist, patient, history
):
    login(therapist)
    page.goto(f"/patients/{patient.public_id}/therapy/")
    page.get_by_role("button", name="Open a course").click()
    page.get_by_label("Modality").select_option("family")
    page.get_by_label("Planned frequency").select_option("every_2_weeks")
    page.get_by_label("Planned number of sessions").fill("10")
    page.get_by_label("Back at work three days a week").check()
    screenshot("therapy_course_form")
    page.get_by_role("button", name="Open course").click()
    page.wait_for_url(f"**/patients/{patient.public_id}/therapy/")
    assert page.get_by_role("heading", name="Family therapy").is_visible()

    page.get_by_role("button", name="Log session").first.click()  # the newest course is listed first
    assert page.get_by_label("Who took part").is_visible()  # family work records participants
    page.get_by_label("Minutes").fill("-5")
    page.get_by_label("Raised").check()
    page.get_by_label("Shared summary").fill("Family session: agreed on a weekly check-in.")
    page.get_by_role("button", name="Log session").click()
    # Each error sits next to its field (the summary at the top links to the same fields).
    assert page.locator("#id_duration_minutes_error").inner_text() == "Ensure this value is greater than or equal to 0."
    assert "Say what the concern is" in page.locator("#id_risk_note_error").inner_text()
    summary = page.locator(".form-errors")
    assert summary.get_by_role("link", name="Ensure this value is greater than or equal to 0.").is_visible()
    assert summary.get_by_role("link", name="Say what the concern is").is_visible()
    assert page.get_by_label("Shared summary").input_value() == "Family session: agreed on a weekly check-in."
    screenshot("therapy_session_form_errors")
    assert not TherapySession.objects.filter(course__modality__code="family").exists()
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
