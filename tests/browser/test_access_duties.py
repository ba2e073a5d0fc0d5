"""Separation of duties and break-glass in real Chromium (issue 12 items 1 and 6).

1. A clinician off the care team opens a chart in an emergency: the "not on your caseload" page
   offers break-glass, an empty reason is refused next to the field, a reason opens the chart with
   the banner on every tab; the clinic admins' report lists it.
2. A clinic admin grants a role; another admin finds the access-change item in the inbox and
   follows it to the audit log. The granting admin's own roles are locked on the staff page.
Screenshots at 390 and 1280 px (test-artifacts/screenshots/ and /tmp/shots/duties/).
"""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from careplans.models import BreakGlassGrant
from reminders.models import Reminder, ReminderKind
from tests.browser.conftest import ARTIFACTS
from tests.factories import UserFactory

SHOTS = Path("/tmp/shots/duties")  # noqa: S108  (where the brief asks for them)
WIDTHS = (390, 1280)


@pytest.fixture
def shots(page):  # type: ignore[no-untyped-def]
    page.set_default_timeout(30_000)  # 2 cores shared by many runs: a slow page is not a failure here

    def take(name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            path = ARTIFACTS / f"duties-{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True, caret="initial")
            shutil.copy(path, SHOTS / path.name)
        page.set_viewport_size({"width": 1280, "height": 900})

    return take


def _csp_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [m for m in page.console_messages if "Content Security Policy" in m]


def test_break_glass_flow(page, login, outsider, patient, care_plan, clinic_admin, shots):
    login(outsider)
    page.goto(f"/patients/{patient.public_id}/")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("heading", name="Emergency access")).to_be_visible()
    expect(page.locator("main").get_by_text(patient.family_name)).to_have_count(0)
    shots("break-glass-offer")
    # No reason: refused next to the field, nothing opened.
    page.get_by_role("button", name="Open the chart in an emergency").click()
    reason = page.get_by_label("Reason for emergency access")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").filter(has_text="Say why you need emergency access")).to_be_visible()
    assert not BreakGlassGrant.objects.exists()
    shots("break-glass-no-reason")
    # With a reason: the chart opens with the banner.
    reason.fill("Seen in the emergency department tonight; on-call psychiatrist")
    page.get_by_role("button", name="Open the chart in an emergency").click()
    page.wait_for_url(f"**/patients/{patient.public_id}/")
    banner = page.get_by_role("status", name="Emergency access")
    expect(banner).to_contain_text("You are not on this patient's care team")
    expect(page.get_by_text(patient.display_name).first).to_be_visible()
    shots("break-glass-chart")
    page.goto(f"/patients/{patient.public_id}/outcomes/")
    expect(page.get_by_role("status", name="Emergency access")).to_be_visible()
    assert _csp_violations(page) == []
    # The clinic admin's review report.
    page.context.clear_cookies()
    login(clinic_admin)
    page.goto("/break-glass/")
    row = page.get_by_role("row").filter(has_text=patient.mrn)
    expect(row).to_contain_text("Seen in the emergency department tonight")
    expect(row).to_contain_text("Active")
    shots("break-glass-report")
    assert Reminder.objects.filter(kind=ReminderKind.BREAK_GLASS, recipient=clinic_admin).exists()


def test_access_change_reaches_another_admins_inbox(page, login, clinic_admin, prescriber, shots):
    other_admin = UserFactory(username="otheradmin", first_name="Olu", last_name="Admin", is_clinic_admin=True)
    login(clinic_admin)
    # The admin's own roles are locked.
    page.goto(f"/staff/{clinic_admin.public_id}/")
    expect(page.get_by_label("Prescriber")).to_be_disabled()
    expect(page.get_by_text("You cannot change your own roles")).to_be_visible()
    shots("staff-own-roles-locked")
    # A role for a colleague.
    page.goto(f"/staff/{prescriber.public_id}/")
    page.get_by_label("Therapist").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Staff account saved.")).to_be_visible()
    page.context.clear_cookies()
    # The other admin's inbox.
    login(other_admin)
    page.goto("/inbox/")
    item = page.locator(".inbox-row").filter(has_text="Access change")
    expect(item).to_contain_text(f"Roles of {prescriber} changed by {clinic_admin}: granted therapist.")
    shots("access-change-inbox")
    item.get_by_role("link", name="Review in the audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("False → True")
    expect(page.locator("tbody tr")).to_contain_text(str(clinic_admin))
    shots("access-change-audit-log")
    # The whole log, filtered to access changes, for the screenshot of the filters.
    page.goto("/audit/?action=access_change")
    expect(page.get_by_label("Action")).to_have_value("access_change")
    shots("audit-log-access-changes")
    assert _csp_violations(page) == []
