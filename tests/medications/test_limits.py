"""Patient-specific dose limits at their boundaries (issue 11, item 4; CLINICAL.md b11; the labels):
age, hepatic impairment, the latest eGFR, mg/kg at the latest weight, indication, and the
valproate pregnancy warning. A dose above the patient's limit is a `dose` error naming the
limit and its reason; an override reason lets it through, as for the catalog maximum."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from medications import services
from medications.models import PrescribingProfile
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.medications.conftest import med

DAY = date(2026, 3, 2)
VALPROATE = "Divalproex sodium (valproate)"

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_patient(prescriber):  # type: ignore[no-untyped-def]
    def make(age: int = 40, **profile):  # type: ignore[no-untyped-def]
        patient = PatientFactory(birth_date=date(DAY.year - age, DAY.month, DAY.day))
        CareTeamMemberFactory(patient=patient, user=prescriber, role="prescriber")
        if profile:
            PrescribingProfile.objects.create(patient=patient, **profile)
        return patient

    return make


def start(prescriber, patient, name, dose, frequency="once_daily", **extra):  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=False):
        return services.regimen_start(
            patient=patient,
            medication=med(name),
            dose=Decimal(dose),
            frequency=frequency,
            start_date=DAY,
            actor=prescriber,
            **extra,
        )


def refused(prescriber, patient, name, dose, frequency="once_daily", **extra) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        start(prescriber, patient, name, dose, frequency, **extra)
    return " ".join(caught.value.message_dict["dose"])


def lab(prescriber, patient, test, value, on=DAY):  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=False):
        services.lab_result_record(patient=patient, actor=prescriber, test=test, value=Decimal(value), taken_on=on)


def test_citalopram_40_mg_at_60_and_20_mg_above_60(prescriber, make_patient):
    assert start(prescriber, make_patient(60), "Citalopram", "40")
    error = refused(prescriber, make_patient(61), "Citalopram", "40")
    assert "maximum of 20 mg a day" in error and "above age 60" in error and "Celexa" in error
    assert start(prescriber, make_patient(61), "Citalopram", "20")
    assert start(prescriber, make_patient(61), "Citalopram", "40", override_reason="Cardiology reviewed ECG")


def test_the_76_year_old_of_the_issue_is_refused_citalopram_40(prescriber, make_patient):
    assert "the patient is 76" in refused(prescriber, make_patient(76), "Citalopram", "40")


def test_escitalopram_10_mg_from_65(prescriber, make_patient):
    assert start(prescriber, make_patient(64), "Escitalopram", "20")
    assert "10 mg" in refused(prescriber, make_patient(65), "Escitalopram", "10.5")
    assert start(prescriber, make_patient(65), "Escitalopram", "10")


@pytest.mark.parametrize(
    ("name", "level", "allowed", "too_much"),
    [
        ("Citalopram", "mild", "20", "20.5"),
        ("Escitalopram", "mild", "10", "10.5"),
        ("Paroxetine", "severe", "40", "40.5"),
        ("Lurasidone", "moderate", "80", "80.5"),
        ("Lurasidone", "severe", "40", "40.5"),
        ("Zolpidem", "mild", "5", "5.5"),
    ],
)
def test_hepatic_impairment_limits_at_the_boundary(prescriber, make_patient, name, level, allowed, too_much):
    assert start(prescriber, make_patient(hepatic_impairment=level), name, allowed)
    error = refused(prescriber, make_patient(hepatic_impairment=level), name, too_much)
    assert "hepatic impairment" in error and "maximum of" in error


def test_a_milder_hepatic_impairment_than_the_limit_names_does_not_apply(prescriber, make_patient):
    assert start(prescriber, make_patient(hepatic_impairment="moderate"), "Paroxetine", "60")
    assert start(prescriber, make_patient(hepatic_impairment="mild"), "Lurasidone", "160")


def test_duloxetine_is_not_recommended_in_any_hepatic_impairment(prescriber, make_patient):
    error = refused(prescriber, make_patient(hepatic_impairment="mild"), "Duloxetine", "30")
    assert "not recommended" in error and "Cymbalta" in error
    assert start(
        prescriber, make_patient(hepatic_impairment="mild"), "Duloxetine", "30", override_reason="Hepatology agrees"
    )


def test_renal_limit_reads_the_latest_egfr_below_the_threshold(prescriber, make_patient):
    at_threshold = make_patient()
    lab(prescriber, at_threshold, "egfr", "30")
    assert start(prescriber, at_threshold, "Paroxetine", "60")
    below = make_patient()
    lab(prescriber, below, "egfr", "29.9")
    error = refused(prescriber, below, "Paroxetine", "40.5")
    assert "eGFR below 30" in error and "latest eGFR 29.9" in error
    assert start(prescriber, below, "Paroxetine", "40")
    recovered = make_patient()
    lab(prescriber, recovered, "egfr", "20", on=date(2026, 1, 5))
    lab(prescriber, recovered, "egfr", "45", on=date(2026, 2, 20))
    assert start(prescriber, recovered, "Paroxetine", "60")


def test_lithium_is_not_recommended_below_egfr_30(prescriber, make_patient):
    patient = make_patient()
    lab(prescriber, patient, "egfr", "25")
    assert "not recommended" in refused(prescriber, patient, "Lithium carbonate", "300")


def test_valproate_60_mg_per_kg_at_the_latest_weight(prescriber, make_patient):
    patient = make_patient(pregnancy_potential="no")
    lab(prescriber, patient, "weight", "50")
    error = refused(prescriber, patient, VALPROATE, "1500.5", "twice_daily")
    assert "maximum of 3000 mg a day" in error and "60 mg/kg/day at 50 kg" in error
    assert start(prescriber, patient, VALPROATE, "1500", "twice_daily")


def test_valproate_without_a_weight_falls_back_to_the_catalog_maximum(prescriber, make_patient):
    assert start(prescriber, make_patient(pregnancy_potential="no"), VALPROATE, "2100", "twice_daily")


@pytest.mark.parametrize(
    ("indication", "allowed", "too_much"),
    [("Generalised anxiety disorder", "4", "4.5"), ("Panic disorder", "10", "10.5"), ("", "10", "10.5")],
)
def test_alprazolam_maximum_follows_the_indication(prescriber, make_patient, indication, allowed, too_much):
    assert start(prescriber, make_patient(), "Alprazolam", allowed, indication=indication)
    error = refused(prescriber, make_patient(), "Alprazolam", too_much, indication=indication)
    assert "maximum of" in error


def test_a_dose_change_is_held_to_the_patient_limit_too(prescriber, make_patient):
    regimen = start(prescriber, make_patient(61), "Citalopram", "20")
    with time_machine.travel(DAY, tick=False), pytest.raises(ValidationError) as caught:
        services.dose_change_record(regimen=regimen, dose=Decimal("30"), reason="Partial response", actor=prescriber)
    assert "above age 60" in " ".join(caught.value.message_dict["dose"])


@pytest.mark.parametrize("potential", ["yes", "unknown"])
def test_valproate_asks_for_the_pregnancy_prevention_programme(prescriber, make_patient, potential):
    with pytest.raises(services.AcknowledgementRequired) as caught:
        start(prescriber, make_patient(pregnancy_potential=potential), VALPROATE, "250")
    [warning] = caught.value.warnings
    assert warning.code == "pregnancy-prevention-programme" and warning.severity == "major"
    assert "pregnancy test" in warning.advice.lower() and "PREVENT" in warning.source


def test_valproate_for_someone_who_cannot_become_pregnant_has_no_pregnancy_warning(prescriber, make_patient):
    regimen = start(prescriber, make_patient(pregnancy_potential="no"), VALPROATE, "250")
    assert not regimen.acknowledgements.exists()


def test_the_api_answers_a_dose_field_error_naming_the_limit(api, prescriber, make_patient):
    patient = make_patient(61)
    data = {
        "patient": str(patient.public_id),
        "medication": str(med("Citalopram").public_id),
        "dose": "40",
        "frequency": "once_daily",
        "start_date": DAY.isoformat(),
    }
    with time_machine.travel(DAY, tick=False):
        response = api(prescriber).post("/api/v1/regimens/", data, format="json")
        assert response.status_code == 400
        assert "maximum of 20 mg a day" in response.json()["dose"][0] and "above age 60" in response.json()["dose"][0]
        overridden = api(prescriber).post(
            "/api/v1/regimens/", {**data, "override_reason": "ECG normal, cardiology agrees"}, format="json"
        )
    assert overridden.status_code == 201
