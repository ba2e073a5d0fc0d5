"""Services: append-only dose history, entered-in-error, audit in the same transaction,
database constraints, the timeline contract, the demo seeder."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careplans.models import TeamRole
from careplans.seeding import DemoClinic
from clinic.models import AuditEvent, HardDeleteRefused
from medications import services
from medications.models import (
    AdherenceCheck,
    DoseChange,
    InteractionRule,
    LabResult,
    Medication,
    MonitoringStep,
    Regimen,
    SideEffect,
)
from medications.seeding import seed_medications
from medications.selectors import DoseEvent, patients_on_medication_ids, timeline_dose_events
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory
from tests.medications.conftest import med

pytestmark = pytest.mark.django_db
START = date(2026, 1, 5)


def test_catalog_ships_30_psychotropics_each_with_a_source():
    psychotropics = Medication.objects.exclude(drug_class="other")
    assert psychotropics.count() >= 30
    assert not Medication.objects.filter(max_dose_source="").exists()
    assert {
        "maoi",
        "ssri",
        "snri",
        "tca",
        "anxiolytic",
        "mood_stabilizer",
        "antipsychotic_sga",
        "hypnotic",
        "stimulant",
    } <= set(psychotropics.values_list("drug_class", flat=True))
    assert InteractionRule.objects.count() >= 15 and not InteractionRule.objects.filter(source="").exists()


def test_dose_history_is_append_only_and_the_current_dose_is_the_latest(patient, start_regimen, change_dose):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)
    change_dose(regimen, "100", date(2026, 2, 1))
    change_dose(regimen, "150", date(2026, 3, 1))
    regimen.refresh_from_db()
    chain = list(regimen.dose_changes.values_list("previous_dose", "dose"))
    assert chain == [(None, Decimal("50")), (Decimal("50"), Decimal("100")), (Decimal("100"), Decimal("150"))]
    assert regimen.dose == Decimal("150") and regimen.version == 3
    with pytest.raises(HardDeleteRefused):
        regimen.dose_changes.first().delete()


def test_latest_change_entered_in_error_restores_the_previous_dose_and_keeps_the_row(
    patient, prescriber, start_regimen, change_dose
):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)
    wrong = change_dose(regimen, "150", date(2026, 2, 1))
    services.dose_change_enter_in_error(dose_change=wrong, actor=prescriber, reason="Meant 100 mg")
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("50")
    kept = DoseChange.all_records.get(pk=wrong.pk)
    assert kept.entered_in_error_by == prescriber and kept.entered_in_error_reason == "Meant 100 mg"
    assert list(DoseChange.objects.filter(regimen=regimen).values_list("dose", flat=True)) == [Decimal("50")]
    assert AuditEvent.objects.filter(action="enter_in_error", object_id=str(wrong.public_id)).exists()


def test_only_the_latest_change_can_be_entered_in_error(patient, prescriber, start_regimen, change_dose):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)
    first = change_dose(regimen, "100", date(2026, 2, 1))
    change_dose(regimen, "150", date(2026, 3, 1))
    with pytest.raises(ValidationError) as error:
        services.dose_change_enter_in_error(dose_change=first, actor=prescriber, reason="x")
    assert "dose_change" in error.value.message_dict
    start = DoseChange.objects.get(regimen=regimen, previous_dose__isnull=True)
    with pytest.raises(ValidationError):
        services.dose_change_enter_in_error(dose_change=start, actor=prescriber, reason="x")


def test_dose_change_cannot_take_effect_before_the_last_one(patient, start_regimen, change_dose):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)
    change_dose(regimen, "100", date(2026, 2, 1))
    with pytest.raises(ValidationError) as error:
        change_dose(regimen, "150", date(2026, 3, 1), effective_on=date(2026, 1, 20))
    assert "effective_on" in error.value.message_dict


@pytest.mark.parametrize("user", ["therapist", "care_manager", "clinic_admin"])
def test_services_refuse_non_prescribers(request, patient, user):
    actor = request.getfixturevalue(user)
    with pytest.raises(PermissionDenied):
        services.regimen_start(
            patient=patient,
            medication=med("Sertraline"),
            dose=Decimal("50"),
            frequency="once_daily",
            start_date=START,
            actor=actor,
        )


def test_every_write_is_audited_with_the_patient(patient, prescriber, start_regimen, change_dose, add_lab):
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    change_dose(regimen, "600", date(2026, 2, 1))
    add_lab(patient, "lithium_level", "0.7", date(2026, 2, 8))
    with time_machine.travel(date(2026, 2, 9), tick=False):
        services.side_effect_record(
            patient=patient, actor=prescriber, effect="Tremor", severity="mild", onset=date(2026, 2, 9)
        )
        services.adherence_check_record(
            patient=patient, actor=prescriber, checked_on=date(2026, 2, 9), method="self_report", percent=90
        )
    types = list(
        AuditEvent.objects.filter(patient_id=patient.public_id, action="create").values_list("object_type", flat=True)
    )
    assert sorted(types) == sorted(
        [
            "medications.regimen",
            "medications.dosechange",
            "medications.dosechange",
            "medications.labresult",
            "medications.sideeffect",
            "medications.adherencecheck",
        ]
    )
    start_event = AuditEvent.objects.get(object_id=str(regimen.public_id))
    assert start_event.changes["dose"] == [None, "400"]


def test_a_failed_audit_write_rolls_the_dose_change_back(patient, start_regimen, change_dose, monkeypatch):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        change_dose(regimen, "100", date(2026, 2, 1))
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("50") and DoseChange.objects.filter(regimen=regimen).count() == 1


# --- Constraints (one test each) ---------------------------------------------------------------------


def _raw_regimen(patient, prescriber, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "patient": patient,
        "medication": med("Sertraline"),
        "dose": Decimal("50"),
        "unit": "mg",
        "frequency": "once_daily",
        "start_date": START,
        "prescriber": prescriber,
        **overrides,
    }
    return Regimen(**fields)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"status": "lost"}, "status_valid"),
        ({"frequency": "hourly"}, "frequency_valid"),
        ({"route": "nasal"}, "route_valid"),
        ({"unit": "g"}, "unit_valid"),
        ({"dose": Decimal("0")}, "dose_positive"),
        ({"target_dose": Decimal("-1")}, "target_dose_positive"),
        ({"stopped_on": date(2025, 1, 1)}, "dates_in_order"),
        ({"target_level_low": Decimal("1.0"), "target_level_high": Decimal("0.6")}, "target_range_in_order"),
        ({"version": 0}, "version_positive"),
    ],
)
def test_regimen_constraints(patient, prescriber, overrides, name):
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        _raw_regimen(patient, prescriber, **overrides).save()


def test_one_active_regimen_per_patient_and_medication_is_a_database_rule(patient, prescriber):
    _raw_regimen(patient, prescriber).save()
    with pytest.raises(IntegrityError, match="one_active_per_medication|UNIQUE"), transaction.atomic():
        _raw_regimen(patient, prescriber, status="paused").save()
    _raw_regimen(patient, prescriber, status="stopped").save()  # history may hold many stopped ones


@pytest.mark.parametrize(
    ("model", "fields", "name"),
    [
        (DoseChange, {"dose": Decimal("-1")}, "dose_positive"),
        (DoseChange, {"reason_code": "whim"}, "reason_code_valid"),
        (DoseChange, {"reason": ""}, "reason_required"),
    ],
)
def test_dose_change_constraints(patient, prescriber, model, fields, name):
    regimen = _raw_regimen(patient, prescriber)
    regimen.save()
    row = {"regimen": regimen, "dose": Decimal("50"), "reason": "x", "changed_by": prescriber, **fields}
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        model(**row).save()


@pytest.mark.parametrize(
    ("model", "fields", "name"),
    [
        (SideEffect, {"severity": "awful", "effect": "x", "onset": START}, "severity_valid"),
        (SideEffect, {"severity": "mild", "effect": "", "onset": START}, "effect_required"),
        (AdherenceCheck, {"method": "guess", "percent": 50, "checked_on": START}, "method_valid"),
        (AdherenceCheck, {"method": "self_report", "percent": 101, "checked_on": START}, "percent_in_range"),
        (LabResult, {"test": "vibes", "value": 1, "unit": "x", "taken_on": START}, "test_valid"),
        (LabResult, {"test": "anc", "value": -1, "unit": "/µL", "taken_on": START}, "value_not_negative"),
    ],
)
def test_record_constraints(patient, prescriber, model, fields, name):
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        model(patient=patient, recorded_by=prescriber, **fields).save()


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"drug_class": "vitamin"}, "drug_class_valid"),
        ({"unit": "drops"}, "unit_valid"),
        ({"max_daily_dose": Decimal("0")}, "max_dose_positive"),
        ({"target_level_low": Decimal("2"), "target_level_high": Decimal("1")}, "target_range_in_order"),
    ],
)
def test_medication_constraints(fields, name):
    row = {
        "name": "Testamine",
        "drug_class": "ssri",
        "unit": "mg",
        "max_daily_dose": Decimal("10"),
        "max_dose_source": "x",
        **fields,
    }
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        Medication(**row).save()


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"medication_a": None, "drug_class_a": ""}, "side_a_one_of"),
        ({"drug_class_b": "ssri"}, "side_b_one_of"),
        ({"severity": "meh"}, "severity_valid"),
        ({"source": ""}, "source_required"),
    ],
)
def test_interaction_rule_constraints(fields, name):
    row = {
        "medication_a": med("Lithium carbonate"),
        "medication_b": med("Ibuprofen"),
        "severity": "major",
        "risk": "x",
        "source": "x",
        **fields,
    }
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        InteractionRule(**row).save()


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"test": "vibes"}, "test_valid"),
        ({"kind": "sometimes"}, "kind_valid"),
        ({"rule": "magic"}, "rule_valid"),
        ({"kind": "repeat", "interval_days": None}, "repeat_has_interval"),
        ({"offset_days": 10, "until_day": 5}, "phase_in_order"),
    ],
)
def test_monitoring_step_constraints(fields, name):
    protocol = med("Lithium carbonate").monitoring_protocol
    row = {"protocol": protocol, "test": "anc", "kind": "once", "label": "x", **fields}
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        MonitoringStep(**row).save()


# --- Contract for outcomes (timeline, reports) --------------------------------------------------------------


def test_timeline_dose_events_in_one_query_oldest_first_without_errors(
    patient, prescriber, start_regimen, change_dose, django_assert_num_queries
):
    sertraline = start_regimen(patient, "Sertraline", "50", start_date=START)
    lithium = start_regimen(patient, "Lithium carbonate", "400", start_date=date(2026, 1, 20))
    change_dose(sertraline, "100", date(2026, 2, 1))
    wrong = change_dose(lithium, "900", date(2026, 2, 3))
    services.dose_change_enter_in_error(dose_change=wrong, actor=prescriber, reason="Typo")
    with django_assert_num_queries(1):
        events = timeline_dose_events(patient=patient)
    assert events == [
        DoseEvent(START, "Sertraline", Decimal("50"), "mg", None),
        DoseEvent(date(2026, 1, 20), "Lithium carbonate", Decimal("400"), "mg", None),
        DoseEvent(date(2026, 2, 1), "Sertraline", Decimal("100"), "mg", Decimal("50")),
    ]


def test_patients_on_medication_ids_lists_patients_with_an_active_regimen(patient, prescriber, start_regimen):
    from careplans.models import Patient

    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=prescriber, role=TeamRole.PRESCRIBER)
    regimen = start_regimen(other, "Sertraline", "50")
    start_regimen(patient, "Fluoxetine", "20")
    assert set(Patient.objects.filter(pk__in=patients_on_medication_ids())) == {patient, other}
    with time_machine.travel(date(2026, 2, 1), tick=False):
        services.regimen_status_change(regimen=regimen, status="stopped", actor=prescriber, reason="Done")
    assert list(patients_on_medication_ids()) == [patient.pk]


# --- Demo seeder ---------------------------------------------------------------------------------------------------


def test_demo_seeder_gives_most_patients_a_regimen_with_changes_and_labs_and_is_idempotent(prescriber):
    patients = []
    for n in range(12):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        code = ["F31.81", "F20.9", "F32.1"][n % 3]
        CarePlanFactory(patient=patient, diagnoses=[{"code": code, "description": "x"}])
        patients.append(patient)
    clinic = DemoClinic(staff={"p": prescriber}, patients=patients, rng=random.Random(7))
    seed_medications(clinic)
    seeded = Regimen.objects.values("patient").distinct().count()
    assert seeded >= 8
    assert DoseChange.objects.filter(previous_dose__isnull=False).count() >= seeded
    assert LabResult.objects.count() > 20
    counts = (Regimen.objects.count(), DoseChange.objects.count(), LabResult.objects.count())
    seed_medications(DemoClinic(staff={"p": prescriber}, patients=patients, rng=random.Random(8)))
    assert (Regimen.objects.count(), DoseChange.objects.count(), LabResult.objects.count()) == counts
    assert all(r.dose == r.dose_changes.last().dose for r in Regimen.objects.all())
    assert not LabResult.objects.filter(taken_on__gt=timezone.localdate()).exists()
    assert not Regimen.objects.filter(start_date__gt=timezone.localdate() - timedelta(days=59)).exists()
