"""The foundation's main flow in real Chromium: caseload -> chart -> goal -> relapse plan -> conflict."""

from playwright.sync_api import expect

from careplans import services
from careplans.models import Goal
from tests.factories import GoalFactory


def test_clinician_edits_goal_and_relapse_plan(page, login, therapist, care_plan, screenshot):
    goal = GoalFactory(care_plan=care_plan, description="Reduce depressive symptoms", status="proposed")
    patient = care_plan.patient
    login(therapist)
    page.goto("/caseload/")  # the caseload is a tab next to Today, the landing page (issue 16 item 1)
    page.get_by_role("link", name=patient.display_name).click()
    expect(page.get_by_role("heading", name=patient.display_name)).to_be_visible()
    page.get_by_role("link", name="Care plan", exact=True).click()  # the chart opens on its Overview tab
    expect(page.get_by_role("link", name="Care plan", exact=True)).to_have_attribute("aria-current", "page")
    screenshot("chart_care_plan")

    page.get_by_role("link", name="Edit goal: Reduce depressive symptoms").click()
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Measurable target").fill("PHQ-9 below 5 by March")
    page.get_by_role("button", name="Save goal").click()
    expect(page.get_by_text("Goal saved.")).to_be_visible()
    goal.refresh_from_db()
    assert goal.status == "active" and goal.target == "PHQ-9 below 5 by March"

    page.get_by_role("button", name="Edit relapse-prevention plan").click()
    page.get_by_label("Warning signs").fill("Staying in bed past noon; skipping meals")
    page.get_by_label("Crisis steps").fill("Call the clinic; out of hours call 988")
    page.get_by_role("button", name="Save relapse-prevention plan").click()
    expect(page.get_by_text("Staying in bed past noon; skipping meals")).to_be_visible()
    screenshot("chart_after_edits")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_stale_edit_shows_a_conflict_and_keeps_the_typed_text(
    page, login, therapist, prescriber, care_plan, screenshot
):
    login(therapist)
    page.goto(f"/patients/{care_plan.patient.public_id}/care-plan/edit/")
    page.get_by_label("Shared formulation").fill("Therapist's formulation, typed at length")
    # Meanwhile the prescriber saves the plan from another screen.
    services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="Prescriber's version")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("heading", name="Someone else saved first")).to_be_visible()
    expect(page.get_by_text("Prescriber's version")).to_be_visible()
    assert page.get_by_label("Shared formulation").input_value() == "Therapist's formulation, typed at length"
    screenshot("care_plan_conflict")
    page.get_by_role("button", name="Save plan").click()  # a deliberate overwrite after reading
    expect(page.get_by_text("Care plan saved.")).to_be_visible()


def test_form_errors_are_next_to_the_field_and_keyboard_reachable(page, login, therapist, care_plan, screenshot):
    login(therapist)
    page.goto(f"/patients/{care_plan.patient.public_id}/goals/new/")
    page.get_by_label("Measurable target").fill("Sleep 7 hours")
    page.get_by_role("button", name="Save goal").click()
    error = page.locator("#id_description_error")
    assert error.is_visible() and "required" in error.inner_text()
    assert page.get_by_label("Description").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Measurable target").input_value() == "Sleep 7 hours"
    screenshot("goal_form_error")
    page.get_by_label("Description").focus()
    page.keyboard.type("Sleep better")
    page.keyboard.press("Enter")  # a single-line field submits; the textarea needs the button
    assert Goal.objects.count() == 0 or Goal.objects.get().description == "Sleep better"


def test_clinic_admin_adds_a_team_member_and_they_see_the_patient(
    page, login, clinic_admin, patient, outsider, screenshot
):
    login(clinic_admin)
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name=patient.display_name).click()
    page.get_by_label("Clinician").select_option(label=str(outsider))
    page.get_by_label("Role on this team").select_option("therapist")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Added to the care team.")).to_be_visible()
    screenshot("care_team_admin")
