"""A prescriber adjusts a dose in real Chromium: the tab, the dose form (with a field error,
then saved), and starting a medication that interacts. Screenshots go to
test-artifacts/screenshots/medications_*.png."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from medications import services
from medications.models import Medication, Regimen
from tests.browser.conftest import ARTIFACTS
from tests.medications.conftest import ensure_catalog


@pytest.fixture(autouse=True)
def _catalog(transactional_db) -> None:  # type: ignore[no-untyped-def]
    ensure_catalog()  # an earlier live-server test's flush empties the shipped catalog


def _chart(patient, prescriber):  # type: ignore[no-untyped-def]
    today = timezone.localdate()

    def start_regimen(patient, name, dose, *, start_date, frequency="once_daily", indication=""):  # type: ignore[no-untyped-def]
        return services.regimen_start(
            patient=patient,
            medication=Medication.objects.get(name=name),
            dose=Decimal(dose),
            frequency=frequency,
            start_date=start_date,
            actor=prescriber,
            indication=indication,
        )

    def change_dose(regimen, dose, on):  # type: ignore[no-untyped-def]
        regimen.refresh_from_db()
        return services.dose_change_record(
            regimen=regimen,
            dose=Decimal(dose),
            actor=prescriber,
            reason="Titration",
            reason_code="titration_up",
            effective_on=on,
        )

    def add_lab(patient, test, value, on):  # type: ignore[no-untyped-def]
        return services.lab_result_record(
            patient=patient, actor=prescriber, test=test, value=Decimal(value), taken_on=on
        )

    lithium = start_regimen(
        patient,
        "Lithium carbonate",
        "300",
        start_date=today - timedelta(days=60),
        frequency="twice_daily",
        indication="Bipolar I, maintenance",
    )
    change_dose(lithium, "400", today - timedelta(days=40))
    change_dose(lithium, "450", today - timedelta(days=20))
    for days, value in ((53, "0.42"), (33, "0.58"), (13, "1.12")):
        add_lab(patient, "lithium_level", value, today - timedelta(days=days))
    add_lab(patient, "egfr", "88", today - timedelta(days=60))
    sertraline = start_regimen(
        patient, "Sertraline", "50", start_date=today - timedelta(days=90), indication="Depressive episode"
    )
    change_dose(sertraline, "100", today - timedelta(days=60))
    services.side_effect_record(
        patient=patient,
        actor=prescriber,
        regimen=lithium,
        effect="Fine tremor",
        severity="mild",
        onset=today - timedelta(days=15),
        action_taken="Level checked",
    )
    services.adherence_check_record(
        patient=patient,
        actor=prescriber,
        regimen=lithium,
        checked_on=today,
        method="pill_count",
        percent=90,
        barriers="Misses the evening dose",
    )
    return lithium


def test_prescriber_adjusts_a_dose(page, login, prescriber, patient, screenshot):
    lithium = _chart(patient, prescriber)
    login(prescriber)
    page.goto(f"/patients/{patient.public_id}/medications/")
    expect(page.get_by_role("heading", name="Current medications")).to_be_visible()
    expect(page.locator("svg[role=img]")).to_have_count(2)
    expect(page.get_by_text("Above the target range").first).to_be_visible()
    screenshot("medications_tab")

    page.get_by_role("button", name="Adjust dose of Lithium carbonate").click()
    expect(page.get_by_text("Current dose:")).to_be_visible()
    page.get_by_label("New dose per administration (mg)").fill("1000")
    page.get_by_label("Reason", exact=False).and_(page.locator("select")).select_option("titration_down")
    page.get_by_label("Details").fill("Level 1.12 with tremor: reduce")
    page.get_by_role("button", name="Save dose change").click()
    # 1000 mg twice daily = 2000 mg/day is over the 1800 mg maximum: the error sits by the field.
    expect(page.locator("#id_dose_error")).to_be_visible()
    assert page.get_by_label("Details").input_value() == "Level 1.12 with tremor: reduce"
    screenshot("medications_dose_form_error")

    page.get_by_label("New dose per administration (mg)").fill("400")
    screenshot("medications_dose_form")
    page.get_by_role("button", name="Save dose change").click()
    expect(page.get_by_text("Dose change saved.")).to_be_visible()
    expect(page.get_by_text("400 mg").first).to_be_visible()
    lithium.refresh_from_db()
    assert lithium.dose == Decimal("400")
    screenshot("medications_tab_after")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_starting_an_interacting_medication_asks_for_a_recorded_acknowledgement(
    page, login, prescriber, patient, screenshot
):
    _chart(patient, prescriber)
    login(prescriber)
    page.goto(f"/patients/{patient.public_id}/medications/start/")
    page.get_by_label("Medication").select_option(label="Ibuprofen (mg, usual max 3200 mg/day)")
    page.get_by_label("Dose per administration").fill("400")
    page.get_by_label("Frequency").select_option("three_times_daily")
    page.get_by_label("Indication").fill("Knee pain")
    page.get_by_role("button", name="Start medication").click()
    panel = page.locator("fieldset.acknowledgement")
    expect(panel.get_by_text("Ibuprofen + Lithium carbonate")).to_be_visible()
    expect(panel.get_by_text("Lithium toxicity")).to_be_visible()
    expect(panel.get_by_text("Ibuprofen + Sertraline")).to_be_visible()  # moderate: shown, nothing to tick
    assert panel.locator("input[type=checkbox]").count() == 1
    screenshot("medications_acknowledge_desktop")

    # Submitting without a tick or a reason: errors by both fields, the input kept.
    page.get_by_role("button", name="Acknowledge and start").click()
    expect(page.locator("#id_acknowledged_warnings_error")).to_be_visible()
    expect(page.locator("#id_acknowledgement_reason_error")).to_be_visible()
    assert page.get_by_label("Indication").input_value() == "Knee pain"
    screenshot("medications_acknowledge_errors_desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Ibuprofen + Lithium carbonate", exact=False).check()
    page.get_by_label("Why go ahead despite these warnings?").fill("Three-day course; lithium level on day 5")
    screenshot("medications_acknowledge_phone")
    page.get_by_role("button", name="Acknowledge and start").click()
    expect(page.get_by_text("Ibuprofen started.")).to_be_visible()
    acknowledged = page.locator(".acknowledgements").first
    expect(acknowledged).to_contain_text("lithium-clearance")
    expect(acknowledged).to_contain_text("Three-day course; lithium level on day 5")
    screenshot("medications_acknowledged_tab_phone")
    card = page.locator('article[aria-label="Ibuprofen"]')
    card.screenshot(path=str(ARTIFACTS / "medications_acknowledged_card_phone.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot("medications_acknowledged_tab_desktop")
    card.screenshot(path=str(ARTIFACTS / "medications_acknowledged_card_desktop.png"))
    regimen = Regimen.objects.get(patient=patient, medication__name="Ibuprofen")
    assert list(regimen.acknowledgements.values_list("code", flat=True)) == ["lithium-clearance"]
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
