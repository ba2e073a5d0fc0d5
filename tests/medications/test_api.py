"""The medications API (DESIGN.md contract): catalog, regimens, dose changes, lab results,
side effects, adherence checks, monitoring. Role matrix, bad input, pinned query counts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from careplans.models import TeamRole
from medications.models import AdherenceCheck, DoseChange, LabResult, Regimen, SideEffect
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.medications.conftest import med

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def regimen_body(patient, name="Sertraline", dose="50", **extra):  # type: ignore[no-untyped-def]
    return {
        "patient": str(patient.public_id),
        "medication": str(med(name).public_id),
        "dose": dose,
        "frequency": "once_daily",
        "start_date": TODAY.isoformat(),
        **extra,
    }


# --- Catalog ---------------------------------------------------------------------------------------


def test_catalog_lists_at_least_30_psychotropics_with_units_maxima_and_protocols(api, therapist):
    response = api(therapist).get("/api/v1/medications/", {"page_size": 100})
    assert response.status_code == 200
    rows = response.json()["results"]
    while response.json()["next"]:
        response = api(therapist).get(response.json()["next"])
        rows += response.json()["results"]
    psychotropic = [r for r in rows if r["drug_class"] != "other"]
    assert len(psychotropic) >= 30
    lithium = next(r for r in rows if r["name"] == "Lithium carbonate")
    assert lithium["unit"] == "mg" and lithium["max_daily_dose"] == "1800.000"
    assert lithium["monitoring_protocol"] == "lithium"
    assert set(lithium) >= {"id", "name", "drug_class", "unit", "max_daily_dose", "monitoring_protocol"}
    assert {"Phenelzine", "Tranylcypromine", "Clozapine", "Lamotrigine"} <= {r["name"] for r in rows}


def test_catalog_filters_by_name(api, prescriber):
    response = api(prescriber).get("/api/v1/medications/", {"name": "zapine"})
    assert {r["name"] for r in response.json()["results"]} == {
        "Clozapine",
        "Olanzapine",
        "Olanzapine pamoate LAI",
        "Mirtazapine",
    }


def test_catalog_is_for_clinicians_only(api, clinic_admin):
    assert api(clinic_admin).get("/api/v1/medications/").status_code == 403
    assert api().get("/api/v1/medications/").status_code == 401


def test_catalog_query_count_is_pinned(api, prescriber, django_assert_max_num_queries):
    client = api(prescriber)
    with django_assert_max_num_queries(4):  # count, page, protocols joined, properties
        response = client.get("/api/v1/medications/", {"page_size": 100})
    assert response.status_code == 200
    fluoxetine = next(m for m in response.json()["results"] if m["name"] == "Fluoxetine")
    assert "cyp2d6_inhibitor_strong" in fluoxetine["properties"] and fluoxetine["washout_days"] == 35


# --- Starting a regimen -------------------------------------------------------------------------


def test_prescriber_starts_a_regimen_with_catalog_unit_and_oral_route(api, prescriber, patient):
    response = api(prescriber).post("/api/v1/regimens/", regimen_body(patient), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["unit"] == "mg" and body["route"] == "oral" and body["status"] == "active"
    assert body["dose"] == "50.000" and body["warnings"] == [] and body["patient"] == str(patient.public_id)
    assert set(body) >= {
        "id",
        "patient",
        "medication",
        "dose",
        "unit",
        "frequency",
        "start_date",
        "indication",
        "status",
        "warnings",
    }
    regimen = Regimen.objects.get(public_id=body["id"])
    assert [(c.previous_dose, c.dose, c.reason_code) for c in regimen.dose_changes.all()] == [
        (None, Decimal("50"), "start")
    ]


@pytest.mark.parametrize("missing", ["patient", "medication", "dose", "frequency", "start_date"])
def test_regimen_required_fields(api, prescriber, patient, missing):
    body = regimen_body(patient)
    del body[missing]
    response = api(prescriber).post("/api/v1/regimens/", body, format="json")
    assert response.status_code == 400 and missing in response.json()


@pytest.mark.parametrize("user", ["therapist", "care_manager"])
def test_therapists_and_care_managers_cannot_start_regimens(api, request, patient, user):
    response = api(request.getfixturevalue(user)).post("/api/v1/regimens/", regimen_body(patient), format="json")
    assert response.status_code == 403
    assert not Regimen.objects.exists()


def test_outsider_cannot_start_a_regimen_for_a_patient_off_their_caseload(api, outsider, patient):
    response = api(outsider).post("/api/v1/regimens/", regimen_body(patient), format="json")
    assert response.status_code == 400 and "patient" in response.json()
    assert not Regimen.objects.exists()


def test_second_current_regimen_of_the_same_drug_is_refused(api, prescriber, patient):
    client = api(prescriber)
    assert client.post("/api/v1/regimens/", regimen_body(patient), format="json").status_code == 201
    response = client.post("/api/v1/regimens/", regimen_body(patient), format="json")
    assert response.status_code == 400 and "medication" in response.json()


# Sertraline: max 200 mg/day (Zoloft PI).
@pytest.mark.parametrize(
    ("dose", "frequency", "extra", "field", "ok"),
    [
        ("0", "once_daily", {}, "dose", False),
        ("-50", "once_daily", {}, "dose", False),
        ("200", "once_daily", {}, None, True),
        ("200.01", "once_daily", {}, "dose", False),
        ("100", "twice_daily", {}, None, True),
        ("100.01", "twice_daily", {}, "dose", False),
        ("250", "once_daily", {"override_reason": "Specialist OCD protocol"}, None, True),
        ("50", "once_daily", {"unit": "mcg"}, "unit", False),
        ("fifty", "once_daily", {}, "dose", False),
        ("", "once_daily", {}, "dose", False),
        ("0.0001", "once_daily", {}, "dose", False),
    ],
)
def test_starting_dose_boundaries(api, prescriber, patient, dose, frequency, extra, field, ok):
    response = api(prescriber).post(
        "/api/v1/regimens/", {**regimen_body(patient, dose=dose), "frequency": frequency, **extra}, format="json"
    )
    if ok:
        assert response.status_code == 201, response.json()
    else:
        assert response.status_code == 400 and field in response.json(), response.json()
        assert not Regimen.objects.exists()


def test_over_max_message_names_the_daily_dose_and_the_maximum(api, prescriber, patient):
    response = api(prescriber).post("/api/v1/regimens/", regimen_body(patient, dose="250"), format="json")
    assert "250 mg a day is above the usual maximum of 200 mg a day for Sertraline" in response.json()["dose"][0]


def test_start_date_in_the_future_is_refused(api, prescriber, patient):
    body = regimen_body(patient, start_date=(TODAY + timedelta(days=1)).isoformat())
    response = api(prescriber).post("/api/v1/regimens/", body, format="json")
    assert response.status_code == 400 and "start_date" in response.json()


# --- Interaction warnings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "risk"),
    [
        ("Sertraline", "Phenelzine", "Serotonin syndrome"),
        ("Venlafaxine XR", "Tranylcypromine", "Serotonin syndrome"),
        ("Phenelzine", "Tramadol", "Serotonin syndrome"),
        ("Lithium carbonate", "Ibuprofen", "Lithium toxicity"),
        ("Lisinopril", "Lithium carbonate", "Lithium toxicity"),
        ("Lithium carbonate", "Hydrochlorothiazide", "Lithium toxicity"),
        ("Clozapine", "Carbamazepine", "Agranulocytosis"),
    ],
)
def test_starting_a_dangerous_combination_is_refused_then_saved_with_an_acknowledgement(
    api, prescriber, patient, first, second, risk
):
    client = api(prescriber)
    if "Clozapine" in (first, second):  # clozapine starts only with a baseline ANC (clozapine.py)
        body = {"patient": str(patient.public_id), "test": "anc", "value": "2000", "taken_on": str(date.today())}
        assert client.post("/api/v1/lab-results/", body, format="json").status_code == 201
    assert client.post("/api/v1/regimens/", regimen_body(patient, first, "10"), format="json").status_code == 201
    refused = client.post("/api/v1/regimens/", regimen_body(patient, second, "10"), format="json")
    assert refused.status_code == 400
    warning = refused.json()["warnings"][0]
    assert warning["drugs"] == f"{second} + {first}" and warning["risk"].startswith(risk)
    assert warning["source"] and warning["code"] and warning["severity"] in ("contraindicated", "major")
    codes = [w["code"] for w in refused.json()["warnings"]]
    body = {
        **regimen_body(patient, second, "10"),
        "acknowledged_warnings": codes,
        "acknowledgement_reason": "Specialist advice",
    }
    response = client.post("/api/v1/regimens/", body, format="json")
    assert response.status_code == 201
    assert response.json()["warnings"][0]["code"] == warning["code"]
    assert [a["code"] for a in response.json()["acknowledgements"]] == codes
    # Both regimens carry it in the list.
    listed = client.get("/api/v1/regimens/", {"patient": str(patient.public_id)}).json()["results"]
    assert all(r["warnings"][0]["code"] == warning["code"] for r in listed)


def test_safe_combination_has_no_warning(api, prescriber, patient):
    client = api(prescriber)
    client.post("/api/v1/regimens/", regimen_body(patient, "Sertraline"), format="json")
    response = client.post("/api/v1/regimens/", regimen_body(patient, "Quetiapine", "25"), format="json")
    assert response.json()["warnings"] == []


def test_stopped_regimen_past_its_washout_no_longer_interacts(api, prescriber, patient):
    client = api(prescriber)
    with time_machine.travel(TODAY - timedelta(days=20), tick=False):
        first = client.post(
            "/api/v1/regimens/",
            regimen_body(patient, "Sertraline", start_date=(TODAY - timedelta(days=20)).isoformat()),
            format="json",
        ).json()
        client.post(f"/api/v1/regimens/{first['id']}/stop/", {"reason": "Switching to an MAOI"}, format="json")
    response = client.post("/api/v1/regimens/", regimen_body(patient, "Phenelzine", "15"), format="json")
    assert response.status_code == 201 and response.json()["warnings"] == []


# --- Reading regimens --------------------------------------------------------------------------------


@pytest.fixture
def regimen(start_regimen, patient):  # type: ignore[no-untyped-def]
    return start_regimen(patient, "Sertraline", "50", start_date=TODAY - timedelta(days=30))


@pytest.mark.parametrize("user", ["prescriber", "therapist", "care_manager"])
def test_care_team_reads_regimens(api, request, regimen, user):
    client = api(request.getfixturevalue(user))
    assert client.get(f"/api/v1/regimens/{regimen.public_id}/").status_code == 200
    assert client.get("/api/v1/regimens/").json()["count"] == 1


@pytest.mark.parametrize("user", ["outsider", "clinic_admin"])
def test_outsider_and_clinic_admin_get_404_and_empty_lists(api, request, regimen, user):
    client = api(request.getfixturevalue(user))
    assert client.get(f"/api/v1/regimens/{regimen.public_id}/").status_code == 404
    assert client.get("/api/v1/regimens/").json()["count"] == 0
    assert client.get(f"/api/v1/regimens/{regimen.public_id}/dose-changes/").status_code == 404
    assert client.post(f"/api/v1/regimens/{regimen.public_id}/pause/", {"reason": "x"}).status_code == 404


def test_regimen_list_filters_by_patient(api, prescriber, regimen, start_regimen):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=prescriber, role=TeamRole.PRESCRIBER)
    start_regimen(other, "Fluoxetine", "20")
    response = api(prescriber).get("/api/v1/regimens/", {"patient": str(other.public_id)})
    assert [r["medication_name"] for r in response.json()["results"]] == ["Fluoxetine"]
    assert (
        api(prescriber).get("/api/v1/regimens/", {"patient": "nope"}).status_code == 404
    )  # the one ?patient= answer (issue 10)


def _many_regimens(prescriber, start_regimen, change_dose, patients=6):  # type: ignore[no-untyped-def]
    names = ["Sertraline", "Lithium carbonate", "Quetiapine", "Phenelzine"]
    for _ in range(patients):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        for name in names:
            regimen = start_regimen(patient, name, "10", start_date=TODAY - timedelta(days=60))
            for n, dose in enumerate(("12", "15", "20")):
                change_dose(regimen, dose, TODAY - timedelta(days=50 - n * 10))


def test_regimen_list_query_count_is_pinned(api, prescriber, start_regimen, change_dose, django_assert_max_num_queries):
    _many_regimens(prescriber, start_regimen, change_dose)
    client = api(prescriber)
    # count, page, acknowledgements; warnings: longest washout, regimens, rules, properties, profiles;
    # the read audit (issue 12 item 4): the patients on the page, one INSERT
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/regimens/")
    assert response.json()["count"] == 24
    # Per patient: phenelzine+sertraline, phenelzine+lithium, lithium+sertraline, each on both regimens.
    assert sum(len(r["warnings"]) for r in response.json()["results"]) == 36
    assert sum(len(r["acknowledgements"]) for r in response.json()["results"]) > 0


# --- Dose changes ----------------------------------------------------------------------------------------


def test_prescriber_adjusts_the_dose_and_the_history_is_append_only(api, prescriber, regimen):
    client = api(prescriber)
    response = client.post(
        f"/api/v1/regimens/{regimen.public_id}/dose-changes/",
        {
            "dose": "100",
            "reason": "Partial response at 4 weeks",
            "reason_code": "titration_up",
            "version": regimen.version,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    history = client.get(f"/api/v1/regimens/{regimen.public_id}/dose-changes/").json()["results"]
    assert [(h["previous_dose"], h["dose"], h["reason"]) for h in history] == [
        (None, "50.000", "Regimen started"),
        ("50.000", "100.000", "Partial response at 4 weeks"),
    ]
    assert history[1]["changed_by"] == str(prescriber.public_id) and history[1]["changed_at"]
    detail = client.get(f"/api/v1/regimens/{regimen.public_id}/").json()
    assert detail["dose"] == "100.000" and detail["version"] == regimen.version + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dose": "0", "reason": "x"}, "dose"),
        ({"dose": "-1", "reason": "x"}, "dose"),
        ({"dose": "200.01", "reason": "x"}, "dose"),
        ({"dose": "abc", "reason": "x"}, "dose"),
        ({"dose": "75", "reason": "x", "unit": "mcg"}, "unit"),
        ({"dose": "75"}, "reason"),
        ({"dose": "75", "reason": "   "}, "reason"),
        ({"dose": "50", "reason": "x"}, "dose"),
        ({"dose": "75", "reason": "x", "reason_code": "start"}, "reason_code"),
        ({"dose": "75", "reason": "x", "effective_on": "2999-01-01"}, "effective_on"),
    ],
)
def test_bad_dose_changes_are_refused_with_field_errors(api, prescriber, regimen, body, field):
    response = api(prescriber).post(f"/api/v1/regimens/{regimen.public_id}/dose-changes/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert DoseChange.objects.filter(regimen=regimen).count() == 1


@pytest.mark.parametrize(
    ("dose", "extra", "ok"),
    [
        ("200", {}, True),
        ("200.01", {"override_reason": "Documented non-response at 200 mg"}, True),
    ],
)
def test_dose_change_at_max_and_over_max_with_override(api, prescriber, regimen, dose, extra, ok):
    response = api(prescriber).post(
        f"/api/v1/regimens/{regimen.public_id}/dose-changes/",
        {"dose": dose, "reason": "Titration", **extra},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["override_reason"] == extra.get("override_reason", "")


def test_stale_version_gets_409_with_the_current_regimen(api, prescriber, regimen):
    client = api(prescriber)
    url = f"/api/v1/regimens/{regimen.public_id}/dose-changes/"
    base = regimen.version
    assert client.post(url, {"dose": "75", "reason": "a", "version": base}, format="json").status_code == 201
    response = client.post(url, {"dose": "100", "reason": "b", "version": base}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["dose"] == "75.000" and response.json()["code"] == "stale_version"
    assert DoseChange.objects.filter(regimen=regimen).count() == 2


@pytest.mark.parametrize("user", ["therapist", "care_manager"])
def test_therapist_and_care_manager_cannot_change_doses(api, request, regimen, user):
    response = api(request.getfixturevalue(user)).post(
        f"/api/v1/regimens/{regimen.public_id}/dose-changes/", {"dose": "75", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("50")


def test_dose_history_query_count_is_pinned(api, prescriber, regimen, change_dose, django_assert_max_num_queries):
    for n in range(20):
        change_dose(regimen, str(51 + n), TODAY - timedelta(days=20 - n))
    client = api(prescriber)
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/regimens/{regimen.public_id}/dose-changes/")
    assert response.json()["count"] == 21


# --- Pause, resume, stop -------------------------------------------------------------------------------------


def test_pause_resume_stop_with_reasons(api, prescriber, regimen):
    client = api(prescriber)
    url = f"/api/v1/regimens/{regimen.public_id}"
    assert client.post(f"{url}/pause/", {}, format="json").json() == {"reason": ["Say why."]}
    paused = client.post(f"{url}/pause/", {"reason": "Admitted to hospital"}, format="json")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert client.post(f"{url}/dose-changes/", {"dose": "75", "reason": "x"}, format="json").status_code == 400
    assert client.post(f"{url}/resume/", {}, format="json").json()["status"] == "active"
    stopped = client.post(f"{url}/stop/", {"reason": "Remission, tapered off"}, format="json").json()
    assert stopped["status"] == "stopped" and stopped["status_reason"] == "Remission, tapered off"
    assert client.post(f"{url}/resume/", {}, format="json").status_code == 400


@pytest.mark.parametrize("user", ["therapist", "care_manager"])
def test_therapist_and_care_manager_cannot_pause_or_stop(api, request, regimen, user):
    client = api(request.getfixturevalue(user))
    for verb in ("pause", "stop"):
        response = client.post(f"/api/v1/regimens/{regimen.public_id}/{verb}/", {"reason": "x"}, format="json")
        assert response.status_code == 403
    regimen.refresh_from_db()
    assert regimen.status == "active"


def test_stop_with_stale_version_is_409(api, prescriber, regimen):
    response = api(prescriber).post(
        f"/api/v1/regimens/{regimen.public_id}/stop/", {"reason": "x", "version": regimen.version + 5}, format="json"
    )
    assert response.status_code == 409 and response.json()["current"]["status"] == "active"


# --- Lab results, side effects, adherence -----------------------------------------------------------------


@pytest.mark.parametrize("user", ["prescriber", "therapist", "care_manager"])
def test_any_care_team_member_records_labs_side_effects_and_adherence(api, request, patient, regimen, user):
    client = api(request.getfixturevalue(user))
    pid = str(patient.public_id)
    lab = client.post(
        "/api/v1/lab-results/",
        {"patient": pid, "test": "lithium_level", "value": "0.7", "taken_on": TODAY.isoformat()},
        format="json",
    )
    assert lab.status_code == 201 and lab.json()["unit"] == "mmol/L"
    effect = client.post(
        "/api/v1/side-effects/",
        {
            "patient": pid,
            "regimen": str(regimen.public_id),
            "effect": "Nausea",
            "severity": "mild",
            "onset": TODAY.isoformat(),
            "action_taken": "Take with food",
        },
        format="json",
    )
    assert effect.status_code == 201, effect.json()
    check = client.post(
        "/api/v1/adherence-checks/",
        {
            "patient": pid,
            "checked_on": TODAY.isoformat(),
            "method": "pill_count",
            "percent": 85,
            "barriers": "Forgets evening dose",
        },
        format="json",
    )
    assert check.status_code == 201, check.json()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/lab-results/", {"test": "lithium_level", "value": "0.7", "unit": "mg/dL"}, "unit"),
        ("/api/v1/lab-results/", {"test": "lithium_level", "value": "-1"}, "value"),
        ("/api/v1/lab-results/", {"test": "lithium_level", "value": "high"}, "value"),
        ("/api/v1/lab-results/", {"test": "cholesterol", "value": "5"}, "test"),
        ("/api/v1/lab-results/", {"test": "anc", "value": "1500", "taken_on": "2999-01-01"}, "taken_on"),
        ("/api/v1/side-effects/", {"effect": "", "severity": "mild"}, "effect"),
        ("/api/v1/side-effects/", {"effect": "Tremor", "severity": "awful"}, "severity"),
        ("/api/v1/adherence-checks/", {"method": "self_report", "percent": 101}, "percent"),
        ("/api/v1/adherence-checks/", {"method": "self_report", "percent": -1}, "percent"),
        ("/api/v1/adherence-checks/", {"method": "guess", "percent": 50}, "method"),
    ],
)
def test_bad_records_are_refused_with_field_errors(api, therapist, patient, url, body, field):
    defaults = {
        "patient": str(patient.public_id),
        "taken_on": TODAY.isoformat(),
        "onset": TODAY.isoformat(),
        "checked_on": TODAY.isoformat(),
    }
    response = api(therapist).post(url, {**defaults, **body}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_records_cannot_point_at_another_patients_regimen(api, prescriber, patient, start_regimen):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=prescriber, role=TeamRole.PRESCRIBER)
    foreign = start_regimen(other, "Fluoxetine", "20")
    response = api(prescriber).post(
        "/api/v1/side-effects/",
        {
            "patient": str(patient.public_id),
            "regimen": str(foreign.public_id),
            "effect": "Nausea",
            "severity": "mild",
            "onset": TODAY.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400 and "regimen" in response.json()
    assert not SideEffect.objects.exists()


@pytest.mark.parametrize("user", ["outsider", "clinic_admin"])
def test_outsider_and_admin_cannot_record_or_read_labs(api, request, patient, add_lab, user):
    lab = add_lab(patient, "anc", "1200", TODAY)
    client = api(request.getfixturevalue(user))
    body = {"patient": str(patient.public_id), "test": "anc", "value": "2000", "taken_on": TODAY.isoformat()}
    # A clinic admin has no clinical role: the write is a 404 before the body is read. An outsider
    # clinician may record labs, but the body's patient does not resolve for them.
    expected = 404 if user == "clinic_admin" else 400
    assert client.post("/api/v1/lab-results/", body, format="json").status_code == expected
    assert client.get(f"/api/v1/lab-results/{lab.public_id}/").status_code == 404
    assert client.get("/api/v1/lab-results/").json()["count"] == 0
    assert client.get("/api/v1/side-effects/").json()["count"] == 0
    assert client.get("/api/v1/adherence-checks/").json()["count"] == 0
    assert LabResult.objects.count() == 1 and not AdherenceCheck.objects.exists()


def test_lab_results_are_flagged_against_the_patients_lithium_target(api, prescriber, patient, start_regimen, add_lab):
    start_regimen(
        patient,
        "Lithium carbonate",
        "400",
        start_date=TODAY - timedelta(days=20),
        target_level_low=Decimal("0.4"),
        target_level_high=Decimal("0.8"),
    )
    add_lab(patient, "lithium_level", "0.9", TODAY - timedelta(days=1))
    add_lab(patient, "lithium_level", "1.6", TODAY)
    add_lab(patient, "lithium_level", "0.5", TODAY)
    add_lab(patient, "anc", "900", TODAY)
    rows = api(prescriber).get("/api/v1/lab-results/", {"patient": str(patient.public_id)}).json()["results"]
    flags = {(r["test"], r["value"]): r["flag"] and r["flag"]["level"] for r in rows}
    assert flags == {
        ("lithium_level", "0.900"): "high",
        ("lithium_level", "1.600"): "critical",
        ("lithium_level", "0.500"): None,
        ("anc", "900.000"): "critical",
    }


def test_lab_list_query_count_is_pinned(
    api, prescriber, start_regimen, change_dose, add_lab, django_assert_max_num_queries
):
    _many_regimens(prescriber, start_regimen, change_dose, patients=3)
    for patient in PatientFactory._meta.model.objects.all():
        for n in range(10):
            add_lab(patient, "lithium_level", "0.7", TODAY - timedelta(days=n))
    client = api(prescriber)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/lab-results/")
    assert response.json()["count"] == 30
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/side-effects/").status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/adherence-checks/").status_code == 200


# --- Monitoring ----------------------------------------------------------------------------------------------------


def test_monitoring_lists_due_overdue_and_done(api, prescriber, patient, start_regimen, add_lab):
    start = date(2026, 1, 5)
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=start)
    add_lab(patient, "egfr", "95", start)
    with time_machine.travel(date(2026, 1, 9), tick=False):
        rows = api(prescriber).get(f"/api/v1/patients/{patient.public_id}/monitoring/").json()
    by_test = {(r["test"], r["status"]): r for r in rows}
    assert by_test[("lithium_level", "due")]["due_date"] == "2026-01-12"
    assert by_test[("lithium_level", "due")]["regimen"] == str(regimen.public_id)
    assert by_test[("tsh", "overdue")]["due_date"] == "2026-01-05"
    assert by_test[("egfr", "done")]["done_on"] == "2026-01-05"
    assert set(rows[0]) >= {"test", "due_date", "status", "regimen"}
    assert [r["status"] for r in rows] == sorted((r["status"] for r in rows), key=["overdue", "due", "done"].index)


@pytest.mark.parametrize("user", ["outsider", "clinic_admin"])
def test_monitoring_is_404_off_the_care_team(api, request, patient, user):
    assert (
        api(request.getfixturevalue(user)).get(f"/api/v1/patients/{patient.public_id}/monitoring/").status_code == 404
    )


def test_monitoring_query_count_is_pinned(
    api, prescriber, patient, start_regimen, change_dose, add_lab, django_assert_max_num_queries
):
    for name, dose, new in (
        ("Lithium carbonate", "400", "600"),
        ("Clozapine", "100", "150"),
        ("Divalproex sodium (valproate)", "500", "750"),
        ("Olanzapine", "5", "10"),
    ):
        regimen = start_regimen(patient, name, dose, start_date=TODAY - timedelta(days=100))
        change_dose(regimen, new, TODAY - timedelta(days=50))
    for n in range(30):
        add_lab(patient, "anc", "2000", TODAY - timedelta(days=n * 3))
        add_lab(patient, "lithium_level", "0.7", TODAY - timedelta(days=n * 3))
    client = api(prescriber)
    with django_assert_max_num_queries(10):
        response = client.get(f"/api/v1/patients/{patient.public_id}/monitoring/")
    assert len(response.json()) > 20


@pytest.mark.parametrize(
    ("kind", "url"), [("lab", "lab-results"), ("effect", "side-effects"), ("check", "adherence-checks")]
)
def test_records_entered_in_error_are_kept_but_hidden(api, therapist, outsider, patient, add_lab, kind, url):
    from medications import services

    if kind == "lab":
        record = add_lab(patient, "anc", "1200", TODAY)
    elif kind == "effect":
        record = services.side_effect_record(
            patient=patient, actor=therapist, effect="Rash", severity="mild", onset=TODAY
        )
    else:
        record = services.adherence_check_record(
            patient=patient, actor=therapist, checked_on=TODAY, method="self_report", percent=50
        )
    endpoint = f"/api/v1/{url}/{record.public_id}/entered-in-error/"
    assert api(outsider).post(endpoint, {"reason": "x"}, format="json").status_code == 404
    assert api(therapist).post(endpoint, {}, format="json").json() == {"reason": ["This field is required."]}
    assert api(therapist).post(endpoint, {"reason": "Wrong patient"}, format="json").status_code == 204
    assert api(therapist).get(f"/api/v1/{url}/").json()["count"] == 0
    kept = type(record).all_records.get(pk=record.pk)
    assert kept.entered_in_error_by == therapist and kept.entered_in_error_reason == "Wrong patient"
