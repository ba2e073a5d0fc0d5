"""Outcomes in real Chromium: enter a PHQ-9 item by item, see the Overview and its timeline,
the safety banner after a positive item 9, and the measurement-based care caseload."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from outcomes.models import Assessment, SafetyAlert
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.outcomes.helpers import record


def _history(patient, prescriber, therapist, care_manager) -> None:  # type: ignore[no-untyped-def]
    """Six months: PHQ-9 every 2 weeks, GAD-7 monthly, sertraline titrated, weekly CBT."""
    from medications.models import Medication
    from medications.services import dose_change_record, regimen_start
    from therapy.models import Modality
    from therapy.services import session_log_for_patient

    today = timezone.localdate()
    start = today - timedelta(weeks=26)
    phq = [19, 18, 18, 17, 15, 14, 12, 11, 9, 8, 8, 7, 6]
    for n, total in enumerate(phq):
        record(patient, care_manager, "PHQ-9", total, start + timedelta(weeks=2 * n))
        if n % 2 == 0:
            record(patient, care_manager, "GAD-7", max(total - 5, 0), start + timedelta(weeks=2 * n))
    regimen = regimen_start(
        patient=patient,
        medication=Medication.objects.get(name__iexact="sertraline"),
        dose=Decimal("50"),
        frequency="once_daily",
        start_date=start + timedelta(days=3),
        actor=prescriber,
    )
    for weeks, dose in ((5, "100"), (12, "150")):
        regimen.refresh_from_db()
        dose_change_record(
            regimen=regimen,
            dose=Decimal(dose),
            reason="Partial response",
            actor=prescriber,
            version=regimen.version,
            effective_on=start + timedelta(weeks=weeks),
        )
    cbt = Modality.objects.get(code="CBT")
    for week in range(2, 25):
        session_log_for_patient(
            patient=patient,
            actor=therapist,
            modality=cbt,
            session_date=start + timedelta(weeks=week),
            attendance="no_show" if week in (7, 15) else "attended",
        )


def test_care_manager_enters_a_phq9_and_sees_it_on_the_timeline(
    page, login, care_manager, prescriber, therapist, patient, care_plan, screenshot
):
    _history(patient, prescriber, therapist, care_manager)
    login(care_manager)
    page.goto(f"/patients/{patient.public_id}/outcomes/")
    assert page.get_by_role("link", name="Overview").get_attribute("aria-current") == "page"
    page.get_by_role("button", name="PHQ-9").click()

    # Item 9 is shown verbatim, with the warning that a positive answer alerts the team.
    assert page.get_by_text(
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    ).is_visible()
    assert page.get_by_text("alerts the care team at once").is_visible()
    screenshot("outcomes_phq9_entry")

    # Keyboard: focus item 1's first answer, arrow to "Several days" (arrows select in a radio group).
    page.locator("#id_item_1_0").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#id_item_1_1").is_checked()
    answers = {
        2: "Several days",
        3: "More than half the days",
        4: "Several days",
        5: "Not at all",
        6: "Several days",
        7: "Not at all",
        8: "Not at all",
        9: "Not at all",
    }
    for number, label in answers.items():
        page.locator("fieldset.item").nth(number - 1).get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Save PHQ-9").click()

    expect(page.get_by_text("PHQ-9 saved: 6 (mild).")).to_be_visible()
    latest = Assessment.objects.filter(instrument="PHQ-9").order_by("-created_at").first()
    assert latest.total_score == 6 and latest.entered_by == care_manager
    svg = page.locator("svg.timeline-svg")
    expect(svg).to_be_visible()
    assert page.locator("svg.timeline-svg .point-link").count() == 14 + 7
    assert page.locator("svg.timeline-svg .dose-marker").count() == 3
    assert page.locator("svg.timeline-svg line.session").count() == 23
    screenshot("outcomes_overview_timeline")

    # The item-level answers are one click away from a point on the timeline.
    page.locator("svg.timeline-svg g.scores").first.locator(".point-link").last.click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name=f"PHQ-9 on {latest.administered_on:%Y-%m-%d}")).to_be_visible()
    assert page.get_by_role("cell", name="Little interest or pleasure in doing things").is_visible()
    screenshot("outcomes_assessment_answers")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_positive_item_9_shows_the_banner_and_the_therapist_follows_up(
    page, login, care_manager, therapist, patient, care_plan, screenshot
):
    record(patient, care_manager, "PHQ-9", 14, timezone.localdate() - timedelta(weeks=4))
    login(care_manager)
    page.goto(f"/patients/{patient.public_id}/assessments/new/phq-9/")
    for number in range(1, 10):
        label = "Several days" if number in (1, 2, 9) else "Not at all"
        page.locator("fieldset.item").nth(number - 1).get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Save PHQ-9").click()
    expect(page.get_by_role("alert", name="Safety alert")).to_be_visible()
    assert SafetyAlert.objects.filter(patient=patient, status="open").count() == 1
    page.get_by_role("link", name="Care plan").click()
    expect(page.get_by_role("alert", name="Safety alert")).to_be_visible()  # on every chart tab
    screenshot("outcomes_safety_banner")

    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/patients/{patient.public_id}/outcomes/")
    page.get_by_role("button", name="Record the risk follow-up").click()
    page.get_by_label("Phone").check()
    page.get_by_label("Wish to be dead, no active suicidal thoughts").check()
    page.get_by_label("Safety plan made or reviewed; crisis numbers given").check()
    page.get_by_label("What was done and agreed").fill("Called the same day; safety plan reviewed.")
    screenshot("outcomes_safety_follow_up")
    page.get_by_role("button", name="Record follow-up").click()
    expect(page.get_by_text("Risk follow-up recorded")).to_be_visible()
    assert page.get_by_role("alert", name="Safety alert").count() == 0


def test_mbc_caseload_page(page, login, prescriber, care_manager, patient, screenshot):
    today = timezone.localdate()
    record(patient, care_manager, "PHQ-9", 18, today - timedelta(weeks=12))
    record(patient, care_manager, "PHQ-9", 16, today - timedelta(weeks=1))
    for family, scores, item9 in (("Okoye", (17, 7), 0), ("Lindgren", (15, 3), 0), ("Moreau", (12, 11), 1)):
        other = PatientFactory(family_name=family)
        CareTeamMemberFactory(patient=other, user=prescriber, role="prescriber")
        CareTeamMemberFactory(patient=other, user=care_manager, role="care_manager")
        record(other, care_manager, "PHQ-9", scores[0], today - timedelta(weeks=14))
        record(other, care_manager, "GAD-7", scores[0] - 4, today - timedelta(weeks=14))
        record(other, care_manager, "PHQ-9", scores[1], today - timedelta(weeks=2), item9=item9)
        record(other, care_manager, "GAD-7", max(scores[1] - 4, 0), today - timedelta(weeks=2))
    login(prescriber)
    # The main menu's link (Today's tab row has one too).
    page.locator("#main-menu").get_by_role("link", name="Measurement-based care").click()
    expect(page.get_by_role("heading", name="Measurement-based care")).to_be_visible()
    rows = page.locator("table.caseload-mbc tbody tr")
    assert rows.first.get_by_role("link").first.inner_text().startswith("Moreau")  # safety alert first
    page.get_by_role("link", name="Not improving").click()
    assert rows.first.get_by_role("link").first.inner_text().startswith(("Moreau", patient.family_name))
    expect(page.get_by_role("link", name=patient.display_name)).to_be_visible()
    screenshot("outcomes_mbc_caseload")
