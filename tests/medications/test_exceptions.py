"""Monitoring exceptions (issue 11 item 7): a test done elsewhere or waived stops being
overdue; the API's role matrix; the carbamazepine protocol and the valproate pregnancy test."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from medications import services
from medications.models import MonitoringException
from tests.medications.test_monitoring import START, day, pending_on

pytestmark = pytest.mark.django_db
ENDPOINT = "/api/v1/monitoring-exceptions/"


@pytest.fixture
def olanzapine(patient, start_regimen):  # type: ignore[no-untyped-def]
    return start_regimen(patient, "Olanzapine", "5", start_date=START)


def _body(patient, regimen, **extra):  # type: ignore[no-untyped-def]
    return {"patient": str(patient.public_id), "regimen": str(regimen.public_id), "test": "waist", **extra}


def _statuses(api, user, patient):  # type: ignore[no-untyped-def]
    rows = api(user).get(f"/api/v1/patients/{patient.public_id}/monitoring/").json()
    return {(r["test"], r["label"]): r["status"] for r in rows}


@time_machine.travel(day(10), tick=False)
def test_prescriber_records_done_elsewhere_and_the_item_shows_done(api, patient, prescriber, olanzapine):
    assert _statuses(api, prescriber, patient)[("waist", "Baseline")] == "overdue"
    body = _body(patient, olanzapine, kind="done_elsewhere", done_on=str(day(-2)), reason="GP surgery")
    response = api(prescriber).post(ENDPOINT, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "done_elsewhere" and response.json()["recorded_by"] == str(prescriber.public_id)
    statuses = _statuses(api, prescriber, patient)
    assert statuses[("waist", "Baseline")] == "done"
    assert statuses[("waist", "Annually")] == "due"  # counted from the test done elsewhere


@time_machine.travel(day(10), tick=False)
def test_waived_item_shows_waived_and_the_schedule_moves_on(api, patient, prescriber, olanzapine):
    body = _body(patient, olanzapine, kind="waived", reason="Wheelchair user; waist not measurable")
    assert api(prescriber).post(ENDPOINT, body, format="json").status_code == 201
    rows = api(prescriber).get(f"/api/v1/patients/{patient.public_id}/monitoring/").json()
    waist = [r for r in rows if r["test"] == "waist"]
    assert [(r["label"], r["status"]) for r in waist] == [("Annually", "due"), ("Baseline", "waived")]
    assert "Waived: Wheelchair" in next(r["note"] for r in waist if r["status"] == "waived")


@time_machine.travel(day(10), tick=False)
@pytest.mark.parametrize(
    ("who", "status"), [("prescriber", 201), ("therapist", 403), ("care_manager", 403), ("outsider", 404)]
)
def test_monitoring_exception_role_matrix(api, patient, olanzapine, request, who, status):
    user = request.getfixturevalue(who)
    body = _body(patient, olanzapine, kind="waived", reason="Not indicated")
    assert api(user).post(ENDPOINT, body, format="json").status_code == status
    assert MonitoringException.objects.count() == (1 if status == 201 else 0)


@time_machine.travel(day(10), tick=False)
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": "done_elsewhere", "reason": "GP"}, "done_on"),
        ({"kind": "done_elsewhere", "done_on": str(day(11)), "reason": "GP"}, "done_on"),
        ({"kind": "waived", "reason": ""}, "reason"),
        ({"kind": "waived", "reason": "x", "test": "anc"}, "test"),
        ({"kind": "sometimes", "reason": "x"}, "kind"),
    ],
)
def test_monitoring_exception_field_errors(api, patient, prescriber, olanzapine, extra, field):
    response = api(prescriber).post(ENDPOINT, _body(patient, olanzapine, **extra), format="json")
    assert response.status_code == 400 and field in response.json()


@time_machine.travel(day(10), tick=False)
def test_exceptions_list_is_scoped_and_query_count_pinned(
    api, patient, prescriber, outsider, olanzapine, django_assert_max_num_queries
):
    for test in ("waist", "bmi", "bp_systolic", "fasting_glucose", "fasting_lipids"):
        services.monitoring_exception_record(
            patient=patient, regimen=olanzapine, test=test, kind="waived", actor=prescriber, reason="Declined"
        )
    with django_assert_max_num_queries(4):
        assert api(prescriber).get(ENDPOINT).json()["count"] == 5
    assert api(outsider).get(ENDPOINT).json()["count"] == 0


@time_machine.travel(day(10), tick=False)
def test_monitoring_endpoint_query_count_is_pinned_with_exceptions(
    api, patient, prescriber, olanzapine, start_regimen, django_assert_max_num_queries
):
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    for test in ("waist", "bmi", "bp_systolic"):
        services.monitoring_exception_record(
            patient=patient, regimen=olanzapine, test=test, kind="waived", actor=prescriber, reason="Declined"
        )
    with django_assert_max_num_queries(14):
        assert api(prescriber).get(f"/api/v1/patients/{patient.public_id}/monitoring/").status_code == 200


@time_machine.travel(day(10), tick=False)
def test_page_form_records_done_elsewhere_and_keeps_input_on_error(browser_client, patient, prescriber, olanzapine):
    url = reverse("medications:monitoring_exception", args=[patient.public_id, olanzapine.public_id, "bmi"])
    client = browser_client(prescriber)
    response = client.post(url, {"kind": "done_elsewhere", "reason": "St Mary's clinic"})
    html = response.content.decode()
    assert response.status_code == 200 and "Give the date it was done." in html and "St Mary&#x27;s clinic" in html
    response = client.post(url, {"kind": "done_elsewhere", "reason": "St Mary's clinic", "done_on": str(day(9))})
    assert response.status_code == 302
    assert MonitoringException.objects.get().done_on == day(9)


# --- Protocols: carbamazepine and the valproate pregnancy test --------------------------------


def test_carbamazepine_baseline_blood_count_lft_and_sodium(patient, start_regimen):
    start_regimen(patient, "Carbamazepine", "200", start_date=START, frequency="twice_daily")
    pending = pending_on(patient, START)
    assert {t for t, (due, _, _) in pending.items() if due == START} == {"fbc", "platelets", "lft", "sodium"}
    assert "hla_b1502" not in pending


def test_carbamazepine_asks_for_hla_b1502_where_the_ancestry_is_at_risk(patient, prescriber, start_regimen, add_lab):
    services.medication_profile_update(
        patient=patient, actor=prescriber, benign_ethnic_neutropenia=False, hla_b1502_risk_ancestry=True
    )
    start_regimen(patient, "Carbamazepine", "200", start_date=START, frequency="twice_daily")
    assert pending_on(patient, START)["hla_b1502"][:2] == (START, "due")
    add_lab(patient, "hla_b1502", "0", START - timedelta(days=400))  # a genotype does not expire
    assert "hla_b1502" not in pending_on(patient, START)


def test_carbamazepine_sodium_repeats_every_6_months(patient, start_regimen, add_lab):
    start_regimen(patient, "Carbamazepine", "200", start_date=START, frequency="twice_daily")
    add_lab(patient, "sodium", "140", START)
    assert pending_on(patient, day(1))["sodium"][0] == day(182)


def test_valproate_schedules_a_baseline_pregnancy_test_that_can_be_waived(patient, prescriber, start_regimen):
    regimen = start_regimen(patient, "Divalproex sodium (valproate)", "250", start_date=START, frequency="twice_daily")
    assert pending_on(patient, START)["pregnancy_test"][:2] == (START, "due")
    with time_machine.travel(START, tick=False):
        services.monitoring_exception_record(
            patient=patient,
            regimen=regimen,
            test="pregnancy_test",
            kind="waived",
            actor=prescriber,
            reason="Cannot become pregnant (post-menopausal)",
        )
    assert pending_on(patient, day(3))["pregnancy_test"][1] == "waived"


def test_qualitative_results_are_0_or_1(patient, add_lab):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        add_lab(patient, "pregnancy_test", "2", date.today())


@time_machine.travel(day(10), tick=False)
def test_a_waived_item_is_not_reminded_while_the_others_still_are(patient, prescriber, olanzapine):
    """The daily monitoring rule skipped only done items: a waived baseline, still inside the
    7-day lead, kept reminding the prescriber of a test they had decided not to do."""
    from careplans.models import Patient
    from medications.reminders import monitoring_due

    def reminded_tests() -> set[str]:
        drafts = monitoring_due(day(10), Patient.objects.filter(pk=patient.pk))
        assert {d.recipient_id for d in drafts} == {prescriber.pk}
        return {d.subject_id.rsplit(":", 1)[1] for d in drafts}

    before = reminded_tests()
    assert "waist" in before and len(before) > 1  # other baseline tests are overdue too
    services.monitoring_exception_record(
        patient=patient, regimen=olanzapine, test="waist", kind="waived", actor=prescriber, reason="Not measurable"
    )
    assert reminded_tests() == before - {"waist"}
