"""A critical lithium level in real Chromium (issue 11 item 5): the care manager enters it on
the medications page; it reaches the prescriber's inbox at once (urgent, e-mailed with no
patient data) and puts a banner on the chart until the prescriber records the action taken.
Screenshots at desktop and phone width: test-artifacts/screenshots/medications_critical_*.png."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from medications import services
from medications.models import CriticalResult, Medication
from reminders.models import Reminder
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.medications.conftest import ensure_catalog

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _catalog(transactional_db) -> None:  # type: ignore[no-untyped-def]
    ensure_catalog()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


def _sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_critical_lithium_reaches_the_prescribers_inbox_and_the_chart_banner(
    eager_celery, page, chromium, live_server, prescriber, care_manager, patient
):
    today = timezone.localdate()
    services.regimen_start(
        patient=patient,
        medication=Medication.objects.get(name="Lithium carbonate"),
        dose=Decimal("400"),
        frequency="twice_daily",
        start_date=today - timedelta(days=30),
        actor=prescriber,
    )
    # The care manager enters the level through the page.
    _sign_in(page, care_manager)
    page.goto(f"/patients/{patient.public_id}/medications/labs/new/")
    page.get_by_label("Test").select_option("lithium_level")
    page.get_by_label("Value").fill("1.8")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Lab result saved.")).to_be_visible()
    banner = page.get_by_role("alert", name="Critical result")
    expect(banner).to_contain_text("Lithium level (12-h trough) 1.8 mmol/L")
    expect(banner).to_contain_text("a prescriber records the action")
    _shot(page, "medications_critical_entered")
    assert CriticalResult.objects.get().status == "open"
    # Urgent: delivered when the lab result's transaction committed, with no patient data.
    assert set(Reminder.objects.filter(kind="critical_result").values_list("status", flat=True)) == {"sent"}
    assert prescriber.email in {a for m in mail.outbox for a in m.to}
    assert all(patient.family_name not in m.subject + m.body for m in mail.outbox)

    # The prescriber, in their own browser: the inbox, then the chart banner.
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    doctor = context.new_page()
    doctor.set_default_timeout(10_000)
    console: list[str] = []
    doctor.on("console", lambda message: console.append(message.text))
    _sign_in(doctor, prescriber)
    doctor.goto("/inbox/")
    row = doctor.locator("li.inbox-row").filter(has_text="Critical result").first
    expect(row).to_contain_text("Lithium level (12-h trough) 1.8 mmol/L (Toxic range")
    _shot(doctor, "medications_critical_inbox")
    doctor.goto(f"/patients/{patient.public_id}/medications/")
    banner = doctor.get_by_role("alert", name="Critical result")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button", name="Record the action taken")).to_be_visible()
    _shot(doctor, "medications_critical_banner_desktop")
    doctor.set_viewport_size(PHONE)
    expect(banner).to_be_visible()
    _shot(doctor, "medications_critical_banner_phone")
    doctor.set_viewport_size({"width": 1280, "height": 900})

    banner.get_by_role("button", name="Record the action taken").click()
    doctor.get_by_label("Action taken").fill("Lithium withheld; seen today; repeat level tomorrow")
    doctor.get_by_role("button", name="Record action").click()
    expect(doctor.get_by_text("Action recorded.")).to_be_visible()
    expect(doctor.get_by_role("alert", name="Critical result")).to_have_count(0)
    expect(doctor.get_by_text("Lithium withheld; seen today")).to_be_visible()
    _shot(doctor, "medications_critical_actioned")
    assert CriticalResult.objects.get().actioned_by == prescriber
    assert not [m for m in console + page.console_messages if "Content Security Policy" in m]
    context.close()


def test_long_acting_injection_is_recorded_and_shown_on_the_step_chart(page, prescriber, patient):
    today = timezone.localdate()
    regimen = services.regimen_start(
        patient=patient,
        medication=Medication.objects.get(name="Paliperidone palmitate 1-monthly"),
        dose=Decimal("156"),
        frequency="monthly",
        start_date=today - timedelta(days=70),
        actor=prescriber,
    )
    services.injection_record(regimen=regimen, actor=prescriber, given_on=today - timedelta(days=70), site="deltoid")
    services.dose_change_record(
        regimen=regimen,
        dose=Decimal("117"),
        reason="Sedation",
        reason_code="side_effect",
        actor=prescriber,
        effective_on=today - timedelta(days=40),
    )
    services.injection_record(regimen=regimen, actor=prescriber, given_on=today - timedelta(days=40), site="gluteal")
    _sign_in(page, prescriber)
    page.goto(f"/patients/{patient.public_id}/medications/")
    expect(page.get_by_text("Missed")).to_be_visible()  # due 30 days after the last, 7-day window passed
    expect(page.locator("svg path.injection")).to_have_count(2)
    _shot(page, "medications_lai_missed")
    page.get_by_role("button", name="Record injection of Paliperidone palmitate 1-monthly").click()
    page.get_by_label("Site").select_option("gluteal")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Injection recorded.")).to_be_visible()
    expect(page.locator("svg path.injection")).to_have_count(3)
    expect(page.get_by_text("Missed")).to_have_count(0)
    _shot(page, "medications_lai_recorded")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
