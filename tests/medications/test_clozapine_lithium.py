"""Clozapine start and restart (Clozaril label 2.5/5.1) and lithium's 3-monthly risk groups
and interacting-drug level (NHS SPS), at their boundaries (issue 11 item 6)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from medications import services
from medications.models import Regimen
from medications.selectors import regimen_safety_notes
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.medications.conftest import med
from tests.medications.test_monitoring import START, day, pending_on

pytestmark = pytest.mark.django_db


def _start_clozapine(patient, prescriber, on=START):  # type: ignore[no-untyped-def]
    with time_machine.travel(on, tick=False):
        return services.regimen_start(
            patient=patient,
            medication=med("Clozapine"),
            dose="12.5",
            frequency="once_daily",
            start_date=on,
            actor=prescriber,
        )


def _ben(patient, prescriber):  # type: ignore[no-untyped-def]
    services.medication_profile_update(
        patient=patient, actor=prescriber, benign_ethnic_neutropenia=True, hla_b1502_risk_ancestry=False
    )


# --- Baseline ANC ----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "allowed"), [("1499", False), ("1500", True)])
def test_clozapine_baseline_anc_must_be_at_least_1500(patient, prescriber, add_lab, value, allowed):
    add_lab(patient, "anc", value, START)
    if allowed:
        assert _start_clozapine(patient, prescriber).pk
    else:
        with pytest.raises(ValidationError) as error:
            _start_clozapine(patient, prescriber)
        assert "below 1500" in error.value.message_dict["medication"][0]


@pytest.mark.parametrize(("days_before", "allowed"), [(7, True), (8, False)])
def test_clozapine_baseline_anc_must_be_taken_in_the_last_7_days(patient, prescriber, add_lab, days_before, allowed):
    add_lab(patient, "anc", "2000", START - timedelta(days=days_before))
    if allowed:
        assert _start_clozapine(patient, prescriber).pk
    else:
        with pytest.raises(ValidationError) as error:
            _start_clozapine(patient, prescriber)
        assert "7 days" in error.value.message_dict["medication"][0]


def test_clozapine_without_any_anc_is_a_medication_field_error(patient, prescriber):
    with pytest.raises(ValidationError) as error:
        _start_clozapine(patient, prescriber)
    assert list(error.value.message_dict) == ["medication"]


@pytest.mark.parametrize(("value", "allowed"), [("999", False), ("1000", True)])
def test_benign_ethnic_neutropenia_baseline_is_1000_with_two_ancs(patient, prescriber, add_lab, value, allowed):
    _ben(patient, prescriber)
    add_lab(patient, "anc", "1200", START - timedelta(days=3))
    add_lab(patient, "anc", value, START)
    if allowed:
        assert _start_clozapine(patient, prescriber).pk
    else:
        with pytest.raises(ValidationError):
            _start_clozapine(patient, prescriber)


def test_benign_ethnic_neutropenia_needs_two_baseline_ancs(patient, prescriber, add_lab):
    _ben(patient, prescriber)
    add_lab(patient, "anc", "1200", START)
    with pytest.raises(ValidationError) as error:
        _start_clozapine(patient, prescriber)
    assert "two baseline" in error.value.message_dict["medication"][0]


def test_api_clozapine_start_without_baseline_is_400_on_medication(api, patient, prescriber):
    body = {
        "patient": str(patient.public_id),
        "medication": str(med("Clozapine").public_id),
        "dose": "12.5",
        "frequency": "once_daily",
        "start_date": str(date.today()),
    }
    response = api(prescriber).post("/api/v1/regimens/", body, format="json")
    assert response.status_code == 400 and "medication" in response.json()


# --- Re-titration after a gap ----------------------------------------------------------------


def _pause_resume(regimen, prescriber, paused, resumed):  # type: ignore[no-untyped-def]
    with time_machine.travel(paused, tick=False):
        services.regimen_status_change(regimen=regimen, status="paused", actor=prescriber, reason="Ran out")
    with time_machine.travel(resumed, tick=False):
        regimen.refresh_from_db()
        return services.regimen_status_change(regimen=regimen, status="active", actor=prescriber)


@pytest.mark.parametrize(("gap", "asks"), [(1, False), (2, True)])
def test_clozapine_resumed_after_2_days_or_more_asks_for_retitration(patient, prescriber, start_regimen, gap, asks):
    regimen = start_regimen(patient, "Clozapine", "100", start_date=START)
    resumed = _pause_resume(regimen, prescriber, day(30), day(30 + gap))
    codes = [note.code for note in regimen_safety_notes(resumed)]
    assert ("clozapine_retitration" in codes) == asks


def test_clozapine_restarted_after_a_stop_asks_for_retitration_and_a_dose_change_clears_it(
    patient, prescriber, start_regimen, add_lab, change_dose
):
    regimen = start_regimen(patient, "Clozapine", "100", start_date=START)
    with time_machine.travel(day(10), tick=False):
        services.regimen_status_change(regimen=regimen, status="stopped", actor=prescriber, reason="Nausea")
    add_lab(patient, "anc", "2000", day(14))
    again = _start_clozapine(patient, prescriber, on=day(14))
    assert again.retitration_gap_days == 4
    assert "re-titrate" in regimen_safety_notes(again)[0].message
    change_dose(again, "25", day(15))
    again.refresh_from_db()
    assert regimen_safety_notes(again) == []


def test_api_resume_shows_the_retitration_note(api, patient, prescriber, start_regimen):
    regimen = start_regimen(patient, "Clozapine", "100", start_date=START)
    with time_machine.travel(day(30), tick=False):
        services.regimen_status_change(regimen=regimen, status="paused", actor=prescriber, reason="Admitted")
    with time_machine.travel(day(33), tick=False):
        response = api(prescriber).post(f"/api/v1/regimens/{regimen.public_id}/resume/", {}, format="json")
    assert [n["code"] for n in response.json()["safety_notes"]] == ["clozapine_retitration"]


# --- Lithium: at least 3-monthly in the risk groups -------------------------------------------

# In year 2 a stable patient's level is 6-monthly; a risk group makes it 3-monthly.
LAST_LEVEL = day(400)


def _lithium_patient(start_regimen, add_lab, prescriber, birth_date=date(1985, 6, 15), level="0.7"):  # type: ignore[no-untyped-def]
    patient = PatientFactory(birth_date=birth_date)
    CareTeamMemberFactory(patient=patient, user=prescriber, role="prescriber")
    start_regimen(patient, "Lithium carbonate", "400", start_date=START, frequency="twice_daily")
    add_lab(patient, "lithium_level", "0.7", day(7))
    add_lab(patient, "lithium_level", level, LAST_LEVEL)
    return patient


def _next_level(patient):  # type: ignore[no-untyped-def]
    return pending_on(patient, LAST_LEVEL + timedelta(days=1))["lithium_level"]


def test_stable_lithium_level_is_6_monthly_in_year_2(prescriber, start_regimen, add_lab):
    patient = _lithium_patient(start_regimen, add_lab, prescriber)
    assert _next_level(patient)[0] == LAST_LEVEL + timedelta(days=182)


@pytest.mark.parametrize(("birth_date", "three_monthly"), [(date(1962, 2, 11), False), (date(1962, 2, 10), True)])
def test_age_65_or_over_is_3_monthly(prescriber, start_regimen, add_lab, birth_date, three_monthly):
    # On the day after LAST_LEVEL (2027-02-10) the first patient is 65 only tomorrow.
    patient = _lithium_patient(start_regimen, add_lab, prescriber, birth_date=birth_date)
    due, _, label = _next_level(patient)
    assert due == LAST_LEVEL + timedelta(days=91 if three_monthly else 182)
    assert ("age 65 or over" in label) == three_monthly


@pytest.mark.parametrize(("level", "three_monthly"), [("0.79", False), ("0.80", True)])
def test_last_level_0_8_or_higher_is_3_monthly(prescriber, start_regimen, add_lab, level, three_monthly):
    patient = _lithium_patient(start_regimen, add_lab, prescriber, level=level)
    assert _next_level(patient)[0] == LAST_LEVEL + timedelta(days=91 if three_monthly else 182)


@pytest.mark.parametrize(
    ("test", "value", "three_monthly"),
    [
        ("egfr", "60", False),
        ("egfr", "59", True),
        ("tsh", "4.0", False),
        ("tsh", "4.1", True),
        ("tsh", "0.4", False),
        ("tsh", "0.39", True),
        ("calcium", "2.6", False),
        ("calcium", "2.61", True),
    ],
)
def test_renal_thyroid_and_calcium_risk_is_3_monthly(prescriber, start_regimen, add_lab, test, value, three_monthly):
    patient = _lithium_patient(start_regimen, add_lab, prescriber)
    add_lab(patient, test, value, LAST_LEVEL)
    assert _next_level(patient)[0] == LAST_LEVEL + timedelta(days=91 if three_monthly else 182)


def test_falling_egfr_over_two_tests_is_3_monthly(prescriber, start_regimen, add_lab):
    patient = _lithium_patient(start_regimen, add_lab, prescriber)
    for n, value in ((200, "90"), (300, "80"), (400, "70")):
        add_lab(patient, "egfr", value, day(n))
    assert "renal" in _next_level(patient)[2]


@pytest.mark.parametrize("drug", ["Ibuprofen", "Lisinopril", "Hydrochlorothiazide", "Naproxen", "Enalapril"])
def test_interacting_drug_makes_it_3_monthly_and_brings_the_next_level_to_5_7_days(
    prescriber, start_regimen, add_lab, drug
):
    patient = _lithium_patient(start_regimen, add_lab, prescriber)
    start_regimen(patient, drug, "10", start_date=day(420))
    due, status, label = pending_on(patient, day(421))["lithium_level"]
    assert (due, status) == (day(427), "due") and drug in label and "5-7 days" in label
    add_lab(patient, "lithium_level", "0.7", day(424))  # day 4 after: too early, does not count
    assert pending_on(patient, day(424))["lithium_level"][0] == day(427)
    add_lab(patient, "lithium_level", "0.7", day(425))  # day 5 after counts
    due, _, label = pending_on(patient, day(425))["lithium_level"]
    assert due == day(425 + 91) and drug in label  # then at least 3-monthly while on it


def test_adding_an_interacting_drug_writes_the_lithium_reminder_at_once(prescriber, start_regimen, add_lab):
    from reminders.models import Reminder

    patient = _lithium_patient(start_regimen, add_lab, prescriber)
    lithium = Regimen.objects.get(patient=patient, medication__name="Lithium carbonate")
    start_regimen(patient, "Ibuprofen", "400", start_date=day(420))
    assert Reminder.objects.filter(
        kind="monitoring_due", subject_id=f"{lithium.public_id}:lithium_level", due_date=day(427)
    ).exists()


def test_ben_bands_drive_the_anc_schedule(patient, prescriber, start_regimen, add_lab):
    # BEN table (PMC9243911 Table 7): 500-999/µL is BEN neutropenia (three times weekly), not an
    # interruption with daily counts as in the general population.
    _ben(patient, prescriber)
    add_lab(patient, "anc", "1100", START - timedelta(days=2))
    start_regimen(patient, "Clozapine", "12.5", start_date=START, baseline_anc="1100")
    add_lab(patient, "anc", "1200", day(7))
    assert pending_on(patient, day(8))["anc"][:2] == (day(14), "due")  # >= 1000 is normal with BEN
    add_lab(patient, "anc", "1200", day(14))
    add_lab(patient, "anc", "800", day(21))
    due, _, _ = pending_on(patient, day(21))["anc"]
    assert due == day(22)  # a first count below the BEN normal is confirmed within 24 hours
    add_lab(patient, "anc", "850", day(22))
    assert pending_on(patient, day(22))["anc"][0] == day(24)  # then three times weekly, not daily
