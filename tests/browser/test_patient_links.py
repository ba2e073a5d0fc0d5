"""Patients take part, in real Chromium at phone width (390 px): a PHQ-9 from a link, item 9
positive with crisis resources while the team's inbox gets the alert, a check-in, and the
take-home plan. Screenshots under /tmp/shots/patients/."""

from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from careplans.models import RelapsePreventionPlan
from outcomes.models import Assessment
from patient_portal import links, safety_plans
from patient_portal.models import CheckIn
from reminders.models import Reminder, ReminderKind
from tests.factories import GoalFactory

SHOTS = Path("/tmp/shots/patients")  # noqa: S108  (the brief names this folder)
PHONE = {"width": 390, "height": 844}


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, caret="initial")


def _answer_phq9(page, answers: list[int]) -> None:  # type: ignore[no-untyped-def]
    for number, value in enumerate(answers, start=1):
        page.locator(f"input[name=item_{number}][value='{value}']").check()


def test_patient_answers_a_phq9_from_a_link_at_phone_width(page, care_manager, patient):
    page.set_viewport_size(PHONE)
    created = links.link_create(patient=patient, actor=care_manager, purpose="questionnaire", instrument="PHQ-9")
    page.goto(created.path)
    expect(page.get_by_role("heading", name="Patient Health Questionnaire")).to_be_visible()
    assert patient.family_name not in page.content()
    _shot(page, "phq9-form-390")
    _answer_phq9(page, [1, 1, 0, 2, 1, 0, 1, 0, 0])
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator(".crisis")).to_have_count(0)
    _shot(page, "phq9-done-390")
    assert Assessment.objects.get(patient=patient).source == "self_report"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(created.path)
    expect(page.get_by_text("already been used")).to_be_visible()
    _shot(page, "link-used-410")


def test_item_9_shows_crisis_resources_and_the_team_inbox_gets_the_alert(
    page, login, care_manager, prescriber, patient
):
    page.set_viewport_size(PHONE)
    created = links.link_create(patient=patient, actor=care_manager, purpose="questionnaire", instrument="PHQ-9")
    page.goto(created.path)
    _answer_phq9(page, [2, 2, 1, 2, 1, 1, 1, 0, 1])
    page.get_by_role("button", name="Send my answers").click()
    crisis = page.get_by_role("alert")
    expect(crisis).to_contain_text("988 Suicide & Crisis Lifeline")
    expect(crisis).to_contain_text("911")
    _shot(page, "phq9-item9-crisis-390")
    assert Reminder.objects.filter(recipient=prescriber, kind=ReminderKind.SAFETY_ALERT).exists()
    page.context.clear_cookies()
    login(prescriber)
    page.goto("/inbox/")
    expect(page.get_by_text("PHQ-9 item 9").first).to_be_visible()
    _shot(page, "prescriber-inbox-alert-390")


def test_patient_fills_a_check_in_and_the_team_sees_it(page, login, care_manager, prescriber, patient, care_plan):
    from patient_portal.submissions import questionnaire_submit
    from tests.outcomes.helpers import record

    record(patient, care_manager, "PHQ-9", 15, timezone.localdate() - timedelta(weeks=3))
    phq = links.link_create(patient=patient, actor=care_manager, purpose="questionnaire", instrument="PHQ-9")
    questionnaire_submit(token=phq.token, responses=[1, 1, 1, 1, 1, 1, 1, 1, 0], address="10.0.0.1")
    page.set_viewport_size(PHONE)
    created = links.link_create(patient=patient, actor=care_manager, purpose="check_in")
    page.goto(created.path)
    page.get_by_role("button", name="Send my check-in").click()  # nothing chosen: the error says what
    expect(page.locator(".error-summary")).to_contain_text("Please answer this question (mood 0 to 10).")
    page.locator("input[name=mood][value='2']").check()
    page.get_by_label("Hours I slept last night").fill("5.5")
    page.get_by_label("Minutes I was active").fill("20")
    page.locator("input[name=medication_taken][value='partly']").check()
    page.get_by_label("Anything you want your care team to know").fill("Bad week at work")
    _shot(page, "check-in-form-390")
    page.get_by_role("button", name="Send my check-in").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    check_in = CheckIn.objects.get(patient=patient)
    assert (check_in.mood, str(check_in.sleep_hours), check_in.medication_taken) == (2, "5.5", "partly")
    assert Reminder.objects.filter(recipient=prescriber, kind=ReminderKind.CHECK_IN_CONCERN).exists()
    login(prescriber)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/patients/{patient.public_id}/outcomes/")
    expect(page.locator(".timeline-svg circle.check-in")).to_have_count(1)
    expect(page.locator(".timeline-svg circle.point-self-report")).to_have_count(1)
    expect(page.locator(".timeline-legend")).to_contain_text("self-reported by the patient")
    _shot(page, "overview-timeline-check-in-1280")
    page.goto(f"/patients/{patient.public_id}/links/")
    expect(page.get_by_text("Bad week at work")).to_be_visible()
    _shot(page, "patient-links-tab-1280")


def test_patient_opens_the_take_home_plan(page, login, care_manager, prescriber, patient, care_plan):
    GoalFactory(care_plan=care_plan, description="Walk to the park three times a week", status="active")
    RelapsePreventionPlan.objects.update_or_create(
        care_plan=care_plan, defaults={"warning_signs": "Sleeping badly", "coping_strategies": "Call my sister; walk"}
    )
    safety_plans.safety_plan_save(
        patient=patient,
        actor=care_manager,
        version=None,
        changes={"warning_signs": "Not answering the phone", "people_to_ask": "My sister, 555-0199"},
    )
    from datetime import timedelta

    from django.utils import timezone

    from tests.outcomes.helpers import record

    record(patient, care_manager, "PHQ-9", 16, timezone.localdate() - timedelta(weeks=6))
    record(patient, care_manager, "PHQ-9", 11, timezone.localdate() - timedelta(weeks=2))
    page.set_viewport_size(PHONE)
    created = links.link_create(patient=patient, actor=care_manager, purpose="take_home")
    page.goto(created.path)
    expect(page.get_by_role("heading", name="My plan", exact=True)).to_be_visible()
    expect(page.get_by_text("Walk to the park three times a week")).to_be_visible()
    expect(page.get_by_text("Call my sister; walk")).to_be_visible()
    expect(page.get_by_text("My sister, 555-0199")).to_be_visible()
    expect(page.locator(".score-chart")).to_be_visible()
    assert patient.family_name not in page.content()
    _shot(page, "take-home-plan-390")
    login(care_manager)
    page.goto(f"/patients/{patient.public_id}/plan/print/")
    page.emulate_media(media="print")
    _shot(page, "print-plan-print-media")


def test_clinician_creates_a_link_with_a_qr_code_from_the_chart(page, login, care_manager, patient):
    page.set_viewport_size(PHONE)
    login(care_manager)
    page.goto(f"/patients/{patient.public_id}/links/")
    page.get_by_label("Questionnaire").select_option("GAD-7")
    page.get_by_role("button", name="Create questionnaire link").click()
    expect(page.get_by_alt_text("QR code of the link")).to_be_visible()
    url = page.get_by_label("Link").input_value()
    assert "/p/" in url
    _shot(page, "link-created-qr-390")
    page.context.clear_cookies()
    page.goto("/" + url.split("/", 3)[3])  # the path: SITE_URL is not the live server
    expect(page.get_by_role("heading", name="Generalized Anxiety Disorder")).to_be_visible()
