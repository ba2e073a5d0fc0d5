"""Issue 16 items 8 and 10 in real Chromium.

- A care manager logs collaborative-care time on the chart's "CoCM minutes" tab: a bad entry
  is refused next to its field with what was typed kept, 70 minutes in a first month reach
  99492, and the month shows on the care team's monthly report and its CSV.
- A clinic admin filters the audit log by patient and action, reads names (not ids), and
  downloads the CSV, which is itself audited.
Screenshots at 390, 768 and 1280 px go to test-artifacts/screenshots.
"""

from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import AuditEvent
from cocm.models import CareMinutes


def test_care_manager_logs_minutes_and_the_month_reaches_99492(
    eager_celery, page, login, care_manager, patient, care_plan, shots, tmp_path
):
    login(care_manager)
    page.goto(f"/patients/{patient.public_id}/")
    page.get_by_role("link", name="CoCM minutes").click()
    expect(page.get_by_text("No collaborative-care time logged yet.")).to_be_visible()

    # A bad entry: refused next to the field, the rest of the form kept.
    page.get_by_label("Minutes").fill("0")
    page.get_by_label("Activity").select_option(label="Care planning")
    page.get_by_role("button", name="Log minutes").click()
    expect(page.locator(".error-summary, [role=alert]").first).to_be_visible()
    expect(page.get_by_label("Activity")).to_have_value("care_planning")
    assert not CareMinutes.objects.exists()

    # 45 + 25 minutes this month: 70, the first month's 99492 (cocm/billing.py).
    for minutes, activity in (("45", "Care planning"), ("25", "Follow-up contact")):
        page.get_by_label("Minutes").fill(minutes)
        page.get_by_label("Activity").select_option(label=activity)
        page.keyboard.press("Enter")
        expect(page.get_by_text(f"{minutes} minutes logged.")).to_be_visible()
    months = page.locator("table.cocm-months")
    this_month = timezone.localdate().strftime("%Y-%m")
    expect(months.get_by_role("row").filter(has_text=this_month)).to_contain_text("70")
    expect(months.get_by_role("row").filter(has_text=this_month)).to_contain_text("99492")
    expect(months).to_contain_text("First month")
    shots("cocm_minutes_tab")

    # The care team's monthly report names the month and the code; the CSV carries them.
    page.goto("/reports/")
    page.locator(".report-cards").get_by_role("link", name="Collaborative-care minutes").click()
    expect(page.locator("main")).to_contain_text("99492")
    shots("cocm_minutes_report")
    page.get_by_role("button", name="Export CSV").click()
    download = page.get_by_role("button", name="Download CSV")
    download.wait_for()
    with page.expect_download() as download_info:
        download.click()
    saved = tmp_path / "cocm.csv"
    download_info.value.save_as(saved)
    text = Path(saved).read_text()
    assert "99492" in text and "70" in text and patient.mrn in text


def test_admin_filters_the_audit_log_and_downloads_it(page, login, clinic_admin, prescriber, patient, care_plan, shots):
    # Something to find: the prescriber opens the chart (a read event naming the patient).
    login(prescriber)
    page.goto(f"/patients/{patient.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(patient.family_name)
    page.context.clear_cookies()

    login(clinic_admin)
    page.goto("/audit/")
    page.get_by_role("textbox", name="Patient", exact=True).fill(patient.mrn)
    page.get_by_label("Action", exact=True).select_option(value="read")
    page.get_by_label("From", exact=True).fill((timezone.localdate() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text(prescriber.get_full_name())  # a name, not a UUID
    table = page.locator("table").first.inner_text()
    assert str(prescriber.public_id) not in table and str(patient.public_id) not in table
    assert all(
        "read" in rows.nth(i).inner_text().lower() or "view" in rows.nth(i).inner_text().lower()
        for i in range(rows.count())
    )
    shots("audit_log_filtered")

    before = AuditEvent.objects.filter(actor=clinic_admin, action="export").count()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(download_info.value.path()).read_text()
    assert prescriber.get_full_name() in text
    assert AuditEvent.objects.filter(actor=clinic_admin, action="export").count() == before + 1
