"""Washout windows (issue 11, item 2) and recorded acknowledgements (item 3), through the API.

Washout (CLINICAL.md b11, each drug's label): fluoxetine 35 days before an MAOI, sertraline and
other SSRIs 14, venlafaxine 7, an MAOI 14 before any serotonergic drug. Stopped on day 0 with a
35-day window: day 34 still warns (1 day left), day 35 does not.
"""

import json
from datetime import date, timedelta

import pytest
import time_machine

from clinic.models import AuditEvent
from medications.models import InteractionAcknowledgement, Regimen
from tests.medications.conftest import med

pytestmark = pytest.mark.django_db
STOPPED = date(2026, 3, 2)


def body(patient, name, dose="10", on=None, **extra):  # type: ignore[no-untyped-def]
    return {
        "patient": str(patient.public_id),
        "medication": str(med(name).public_id),
        "dose": dose,
        "frequency": "once_daily",
        "start_date": (on or STOPPED).isoformat(),
        **extra,
    }


def post_on(client, day, url, data):  # type: ignore[no-untyped-def]
    with time_machine.travel(day, tick=False):
        return client.post(url, data, format="json")


def stopped(client, patient, name, dose="20"):  # type: ignore[no-untyped-def]
    start = STOPPED - timedelta(days=60)
    created = post_on(client, start, "/api/v1/regimens/", body(patient, name, dose, on=start))
    assert created.status_code == 201, created.json()
    post_on(client, STOPPED, f"/api/v1/regimens/{created.json()['id']}/stop/", {"reason": "Switching"})
    assert Regimen.objects.get(public_id=created.json()["id"]).stopped_on == STOPPED


@pytest.mark.parametrize(
    ("stopped_drug", "new_drug", "window"),
    [
        ("Fluoxetine", "Phenelzine", 35),
        ("Sertraline", "Phenelzine", 14),
        ("Venlafaxine XR", "Tranylcypromine", 7),
        ("Duloxetine", "Phenelzine", 5),
        ("Vortioxetine", "Phenelzine", 21),
        ("Phenelzine", "Sertraline", 14),
        ("Tranylcypromine", "Bupropion XL", 14),
        ("Phenelzine", "Methylphenidate", 14),
    ],
)
def test_a_stopped_drug_counts_until_the_last_day_of_its_washout(
    api, prescriber, patient, stopped_drug, new_drug, window
):
    client = api(prescriber)
    stopped(client, patient, stopped_drug)
    last_day = STOPPED + timedelta(days=window - 1)
    refused = post_on(client, last_day, "/api/v1/regimens/", body(patient, new_drug, on=last_day))
    assert refused.status_code == 400
    [warning] = [w for w in refused.json()["warnings"] if w["other_drug"] == stopped_drug]
    assert warning["washout_days_left"] == 1 and warning["severity"] == "contraindicated"
    assert stopped_drug in warning["message"] and "1 day of its washout left" in warning["message"]
    first_free_day = STOPPED + timedelta(days=window)
    saved = post_on(client, first_free_day, "/api/v1/regimens/", body(patient, new_drug, on=first_free_day))
    assert saved.status_code == 201 and saved.json()["warnings"] == []


def test_fluoxetine_day_34_warns_day_35_does_not(api, prescriber, patient):
    client = api(prescriber)
    stopped(client, patient, "Fluoxetine")
    day_34 = STOPPED + timedelta(days=34)
    refused = post_on(client, day_34, "/api/v1/regimens/", body(patient, "Phenelzine", "15", on=day_34))
    assert refused.status_code == 400
    assert refused.json()["warnings"][0]["message"].startswith(
        "Phenelzine + Fluoxetine (stopped 2026-03-02, 1 day of its washout left)"
    )
    day_35 = STOPPED + timedelta(days=35)
    assert post_on(client, day_35, "/api/v1/regimens/", body(patient, "Phenelzine", "15", on=day_35)).status_code == 201


def test_the_issue_case_fluoxetine_stopped_today_phenelzine_today_is_refused(api, prescriber, patient):
    client = api(prescriber)
    stopped(client, patient, "Fluoxetine")
    refused = post_on(client, STOPPED, "/api/v1/regimens/", body(patient, "Phenelzine", "15"))
    assert refused.status_code == 400 and refused.json()["warnings"][0]["washout_days_left"] == 35


def test_washout_applies_only_to_the_rules_marked_for_it(api, prescriber, patient):
    # Fluoxetine's CYP2D6 rule with aripiprazole is not a washout rule: a stopped fluoxetine is silent.
    client = api(prescriber)
    stopped(client, patient, "Fluoxetine")
    day = STOPPED + timedelta(days=3)
    response = post_on(client, day, "/api/v1/regimens/", body(patient, "Aripiprazole", "5", on=day))
    assert response.status_code == 201 and response.json()["warnings"] == []


def test_a_current_regimen_shows_the_stopped_drug_in_washout(api, prescriber, patient):
    client = api(prescriber)
    stopped(client, patient, "Sertraline")
    day = STOPPED + timedelta(days=10)
    data = body(patient, "Phenelzine", "15", on=day, acknowledged_warnings=["maoi-serotonergic"])
    data["acknowledgement_reason"] = "Specialist switch plan"
    created = post_on(client, day, "/api/v1/regimens/", data)
    assert created.status_code == 201
    with time_machine.travel(day, tick=False):
        detail = client.get(f"/api/v1/regimens/{created.json()['id']}/").json()
    assert detail["warnings"][0]["washout_days_left"] == 4 and detail["warnings"][0]["other_drug"] == "Sertraline"


# --- Acknowledgements -------------------------------------------------------------------------------


@pytest.fixture
def on_sertraline(api, prescriber, patient):  # type: ignore[no-untyped-def]
    client = api(prescriber)
    assert post_on(client, STOPPED, "/api/v1/regimens/", body(patient, "Sertraline", "50")).status_code == 201
    return client


def test_acknowledgement_refused_without_codes_and_reason(on_sertraline, patient):
    response = post_on(on_sertraline, STOPPED, "/api/v1/regimens/", body(patient, "Phenelzine", "15"))
    assert response.status_code == 400
    data = response.json()
    [warning] = data["warnings"]
    assert {"code", "severity", "drugs", "message", "advice", "source", "mechanism", "action"} <= set(warning)
    assert warning["code"] == "maoi-serotonergic" and warning["drugs"] == "Phenelzine + Sertraline"
    assert "maoi-serotonergic" in data["acknowledged_warnings"][0] and data["acknowledgement_reason"]
    assert not Regimen.objects.filter(medication__name="Phenelzine").exists()


def test_acknowledgement_refused_with_codes_but_no_reason(on_sertraline, patient):
    data = body(patient, "Phenelzine", "15", acknowledged_warnings=["maoi-serotonergic"], acknowledgement_reason=" ")
    response = post_on(on_sertraline, STOPPED, "/api/v1/regimens/", data)
    assert response.status_code == 400
    assert "acknowledgement_reason" in response.json() and "acknowledged_warnings" not in response.json()
    assert response.json()["warnings"][0]["code"] == "maoi-serotonergic"


def test_acknowledgement_refused_when_a_code_is_missing(on_sertraline, patient):
    data = body(patient, "Phenelzine", "15", acknowledged_warnings=["qt-known-known"], acknowledgement_reason="x")
    response = post_on(on_sertraline, STOPPED, "/api/v1/regimens/", data)
    assert response.status_code == 400 and "maoi-serotonergic" in response.json()["acknowledged_warnings"][0]


def test_acknowledgement_with_a_reason_is_saved_shown_and_audited_without_its_text(on_sertraline, patient, prescriber):
    reason = "Refractory depression; sertraline tapered, specialist plan"
    data = body(patient, "Phenelzine", "15", acknowledged_warnings=["maoi-serotonergic"], acknowledgement_reason=reason)
    response = post_on(on_sertraline, STOPPED, "/api/v1/regimens/", data)
    assert response.status_code == 201
    [ack] = response.json()["acknowledgements"]
    assert ack["code"] == "maoi-serotonergic" and ack["by"] == str(prescriber.public_id) and ack["reason"] == reason
    assert ack["at"].startswith("2026-03-02")
    listed = on_sertraline.get("/api/v1/regimens/", {"patient": str(patient.public_id)}).json()["results"]
    assert [a["code"] for r in listed for a in r["acknowledgements"]] == ["maoi-serotonergic"]
    stored = InteractionAcknowledgement.objects.get()
    event = AuditEvent.objects.get(
        object_type="medications.interactionacknowledgement", object_id=str(stored.public_id)
    )
    assert event.changes == {
        "code": [None, "maoi-serotonergic"],
        "severity": [None, "contraindicated"],
        "reason_given": [None, True],
    }
    assert reason not in json.dumps(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_a_moderate_warning_needs_no_acknowledgement(on_sertraline, patient):
    response = post_on(on_sertraline, STOPPED, "/api/v1/regimens/", body(patient, "Sumatriptan", "50"))
    assert response.status_code == 201
    assert response.json()["warnings"][0]["severity"] == "moderate" and response.json()["acknowledgements"] == []


def test_a_dose_increase_with_a_major_interaction_needs_an_acknowledgement_a_decrease_does_not(
    api, prescriber, patient
):
    client = api(prescriber)
    lithium = post_on(client, STOPPED, "/api/v1/regimens/", body(patient, "Lithium carbonate", "400")).json()
    data = body(
        patient,
        "Ibuprofen",
        "400",
        acknowledged_warnings=["lithium-clearance"],
        acknowledgement_reason="Short course, level in 5 days",
    )
    assert post_on(client, STOPPED, "/api/v1/regimens/", data).status_code == 201
    url = f"/api/v1/regimens/{lithium['id']}/dose-changes/"
    refused = post_on(client, STOPPED, url, {"dose": "600", "reason": "Level 0.4", "reason_code": "titration_up"})
    assert refused.status_code == 400 and refused.json()["warnings"][0]["code"] == "lithium-clearance"
    acknowledged = {"acknowledged_warnings": ["lithium-clearance"], "acknowledgement_reason": "Level checked weekly"}
    saved = post_on(
        client, STOPPED, url, {"dose": "600", "reason": "Level 0.4", "reason_code": "titration_up", **acknowledged}
    )
    assert saved.status_code == 201
    reduced = post_on(client, STOPPED, url, {"dose": "300", "reason": "Tremor", "reason_code": "side_effect"})
    assert reduced.status_code == 201
    acks = client.get(f"/api/v1/regimens/{lithium['id']}/").json()["acknowledgements"]
    assert [a["reason"] for a in acks] == ["Level checked weekly"]


def test_therapist_cannot_acknowledge_or_start(api, therapist, patient):
    data = body(patient, "Phenelzine", "15", acknowledged_warnings=["maoi-serotonergic"], acknowledgement_reason="x")
    assert post_on(api(therapist), STOPPED, "/api/v1/regimens/", data).status_code == 403


def _baseline_anc(client, patient):  # type: ignore[no-untyped-def]
    """Clozapine starts only with a baseline ANC in the week before (CLINICAL.md; clozapine.py)."""
    lab = {"patient": str(patient.public_id), "test": "anc", "value": "2000", "taken_on": STOPPED.isoformat()}
    assert post_on(client, STOPPED, "/api/v1/lab-results/", lab).status_code == 201


# --- Prescribing profile and smoking --------------------------------------------------------------


def test_stopping_smoking_warns_for_clozapine_and_olanzapine(api, prescriber, patient):
    client = api(prescriber)
    url = f"/api/v1/patients/{patient.public_id}/prescribing-profile/"
    assert client.patch(url, {"smoking_status": "smoker"}, format="json").json()["warnings"] == []
    _baseline_anc(client, patient)
    for name in ("Clozapine", "Olanzapine", "Sertraline"):
        data = body(patient, name, "10")
        if name == "Clozapine":
            data |= {"acknowledged_warnings": [], "acknowledgement_reason": ""}
        assert post_on(client, STOPPED, "/api/v1/regimens/", data).status_code == 201
    stopped_smoking = client.patch(url, {"smoking_status": "non_smoker"}, format="json")
    assert stopped_smoking.status_code == 200 and stopped_smoking.json()["smoking_status"] == "non_smoker"
    warnings = stopped_smoking.json()["warnings"]
    assert {w["drug"] for w in warnings} == {"Clozapine", "Olanzapine"}
    assert all(w["code"] == "smoking-stopped-cyp1a2" and w["severity"] == "major" for w in warnings)
    again = client.patch(url, {"smoking_status": "non_smoker"}, format="json")
    assert again.json()["warnings"] == []  # no change, no warning
    restarted = client.patch(url, {"smoking_status": "smoker"}, format="json").json()["warnings"]
    assert {w["code"] for w in restarted} == {"smoking-cyp1a2-induction"}


def test_a_smoker_starting_clozapine_sees_the_smoking_warning(api, prescriber, patient):
    client = api(prescriber)
    client.patch(
        f"/api/v1/patients/{patient.public_id}/prescribing-profile/", {"smoking_status": "smoker"}, format="json"
    )
    _baseline_anc(client, patient)
    created = post_on(client, STOPPED, "/api/v1/regimens/", body(patient, "Clozapine", "12.5"))
    assert "smoking-cyp1a2-induction" in [w["code"] for w in created.json()["warnings"]]


def test_profile_changes_are_audited_and_outsiders_get_404(api, prescriber, outsider, patient):
    url = f"/api/v1/patients/{patient.public_id}/prescribing-profile/"
    assert api(prescriber).get(url).json()["hepatic_impairment"] == "none"
    assert api(prescriber).patch(url, {"hepatic_impairment": "moderate"}, format="json").status_code == 200
    assert api(prescriber).get(url).json()["hepatic_impairment"] == "moderate"
    assert AuditEvent.objects.filter(object_type="medications.prescribingprofile").exists()
    assert api(outsider).get(url).status_code == 404
    assert api(outsider).patch(url, {"hepatic_impairment": "none"}, format="json").status_code == 404
    assert api(prescriber).patch(url, {"hepatic_impairment": "bad"}, format="json").status_code == 400
