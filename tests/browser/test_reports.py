"""Clinic reports in real Chromium: a clinic admin opens Reports, reads the aggregate registry
summary and the outcomes-by-treatment chart and exports the summary as CSV; a care manager
filters the patient-level registry of their caseload, exports it and downloads it."""

from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from careplans.models import TeamRole
from tests.reports import builders as b
from therapy.models import Attendance


def _clinic(prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    team = {TeamRole.PRESCRIBER: prescriber, TeamRole.THERAPIST: therapist, TeamRole.CARE_MANAGER: care_manager}
    people = []
    for index in range(12):
        start = today - timedelta(days=120 + index * 9)
        person = b.patient(
            team=team,
            registered=start - timedelta(days=3),
            family_name=f"Demo{index:02d}",
            given_name='=HYPERLINK("x")' if index == 0 else "Alex",
        )
        b.score(person, "PHQ-9", 14 + index % 8, start, by=care_manager)
        b.score(person, "PHQ-9", [4, 8, 12, 16][index % 4], start + timedelta(days=84), by=care_manager)
        b.score(person, "GAD-7", 12, start, by=care_manager)
        if index % 3 != 2:
            b.regimen(person, ["Sertraline", "Quetiapine", "Lithium carbonate"][index % 3], start, by=prescriber)
        if index % 3 != 1:
            therapy = b.course(person, therapist, ["CBT", "IPT"][index % 2], start)
            for week in range(6):
                b.session(
                    therapy,
                    start + timedelta(weeks=week),
                    Attendance.NO_SHOW if (week + index) % 5 == 0 else Attendance.ATTENDED,
                )
        if index % 4 == 3:
            b.case_review(person, requested=today - timedelta(days=5), by=care_manager)
        people.append(person)
    b.safety_alert(b.score(people[1], "PHQ-9", 15, today - timedelta(days=2), by=care_manager, item9=1))
    return people


def test_admin_runs_reports_and_exports_the_registry(
    eager_celery, page, login, clinic_admin, prescriber, therapist, care_manager, screenshot, tmp_path
):
    """Clinic admins get aggregates only (the registry summary); the patient-level registry is
    for the care team: the care manager filters it and exports their caseload."""
    people = _clinic(prescriber, therapist, care_manager)
    login(clinic_admin)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    cards = page.locator(".report-cards")
    assert cards.get_by_role("link", name="Registry", exact=True).count() == 0  # patient-level: care teams only
    screenshot("reports_index")

    cards.get_by_role("link", name="Registry summary", exact=True).click()
    expect(page.get_by_role("heading", name="Active patients and their flags")).to_be_visible()
    flags = page.locator("table").filter(has_text="Active patients").first
    expect(flags.get_by_role("row").filter(has_text="Active patients").first).to_contain_text("12")
    content = page.content()
    for person in people:
        assert person.mrn not in content and person.family_name not in content  # aggregates only
    screenshot("reports_registry_summary")

    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("heading", name="Export: Registry summary")).to_be_visible()
    download = page.get_by_role("button", name="Download CSV")  # a link styled as a button
    download.wait_for()
    screenshot("reports_export_done")
    with page.expect_download() as download_info:
        download.click()
    saved = tmp_path / "registry_summary.csv"
    download_info.value.save_as(saved)
    text = Path(saved).read_text()
    assert "Active patients" in text and "12" in text
    for person in people:
        assert person.mrn not in text and person.family_name not in text

    page.goto("/reports/treatment_outcomes/?period=12m")
    expect(page.locator("svg.bar-chart").first).to_be_visible()
    screenshot("reports_treatment_outcomes")
    page.goto("/reports/therapy/?period=12m")
    expect(page.get_by_role("heading", name="By therapist", exact=True)).to_be_visible()
    screenshot("reports_therapy")
    for key, heading in (
        ("monitoring", "By protocol"),
        ("medication", "Dose changes per month"),
        ("process", "PHQ-9 in each 4-month period"),
    ):
        page.goto(f"/reports/{key}/?period=12m")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        screenshot(f"reports_{key}")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]

    # The care manager, on all twelve care teams, reads and exports the patient-level registry.
    page.context.clear_cookies()
    login(care_manager)
    page.get_by_role("link", name="Reports", exact=True).click()
    page.locator(".report-cards").get_by_role("link", name="Registry", exact=True).click()
    expect(page.get_by_role("heading", name="Active patients")).to_be_visible()
    expect(page.get_by_text("Rows 1–12 of 12")).to_be_visible()
    expect(page.locator(".flag-safety_alert").first).to_be_visible()
    screenshot("reports_registry")

    page.get_by_label("Safety alert open").check()
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_text("Rows 1–1 of 1")).to_be_visible()

    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("heading", name="Export: Registry", exact=True)).to_be_visible()
    download = page.get_by_role("button", name="Download CSV")
    download.wait_for()
    with page.expect_download() as download_info:
        download.click()
    saved = tmp_path / "registry.csv"
    download_info.value.save_as(saved)
    text = Path(saved).read_text()
    assert people[1].mrn in text
    assert people[0].mrn not in text  # the filter was exported too
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_print_view_has_no_navigation_and_says_it_is_confidential(
    page, login, clinic_admin, prescriber, therapist, care_manager, screenshot
):
    _clinic(prescriber, therapist, care_manager)
    login(clinic_admin)
    page.goto("/reports/process/print/?period=12m")
    expect(page.get_by_text("Confidential: contains patient information.")).to_be_visible()
    assert page.get_by_role("navigation", name="Main").count() == 0
    screenshot("reports_process_print")
