"""API: /assessments/, /patients/{id}/outcomes/, /safety-alerts/, /safety-follow-ups/, /case-reviews/."""

from datetime import date, timedelta

import pytest
import time_machine

from careplans.models import CarePlanTask
from outcomes.models import Assessment, SafetyAlert, SafetyFollowUp
from reminders.models import Reminder
from tests.outcomes.helpers import answers, record

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today():  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield


def body(who, **kwargs):  # type: ignore[no-untyped-def]
    return {
        "patient": str(who.public_id),
        "instrument": "PHQ-9",
        "responses": answers("PHQ-9", 16),
        "administered_on": "2026-03-01",
    } | kwargs


# --- Assessments ----------------------------------------------------------------------


def test_care_manager_enters_a_phq9_and_the_server_scores_it(api, patient, care_manager):
    response = api(care_manager).post(
        "/api/v1/assessments/", body(patient, total_score=3, severity="minimal"), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["total_score"], data["severity"], data["instrument"]) == (16, "moderately_severe", "PHQ-9")
    assert data["patient"] == str(patient.public_id)
    assert data["items"][8]["text"].startswith("Thoughts that you would be better off dead")
    assert Assessment.objects.get(public_id=data["id"]).total_score == 16


@pytest.mark.parametrize("user", ["prescriber", "therapist", "care_manager"])
def test_every_role_on_the_team_may_enter_questionnaires(api, patient, user, request):
    response = api(request.getfixturevalue(user)).post(
        "/api/v1/assessments/", body(patient, instrument="GAD-7", responses=[1] * 7), format="json"
    )
    assert (response.status_code, response.json()["severity"]) == (201, "mild")


def test_administered_on_defaults_to_today(api, patient, care_manager):
    data = body(patient, instrument="WSAS", responses=[8, 8, 4, 2, 0])
    data.pop("administered_on")
    response = api(care_manager).post("/api/v1/assessments/", data, format="json")
    assert (response.json()["administered_on"], response.json()["severity"]) == ("2026-03-02", "moderately_severe")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"responses": [1] * 8}, "responses"),  # missing item
        ({"responses": [1] * 10}, "responses"),  # extra item
        ({"responses": [1, 1, 1, 1, 1, 1, 1, 1, 4]}, "responses"),  # out of range
        ({"responses": [1, 1, 1, 1, -1, 1, 1, 1, 1]}, "responses"),
        ({"responses": [1, 1, None, 1, 1, 1, 1, 1, 1]}, "responses"),  # unanswered
        ({"responses": ["a"] * 9}, "responses"),
        ({"responses": []}, "responses"),
        ({"instrument": "BDI-II"}, "instrument"),
        ({"instrument": None}, "instrument"),
        ({"administered_on": "2026-03-03"}, "administered_on"),  # future
        ({"administered_on": "yesterday"}, "administered_on"),
        ({"patient": "not-a-uuid"}, "patient"),
    ],
)
def test_bad_input_gets_a_400_on_the_field_and_stores_nothing(api, patient, care_manager, change, field):
    response = api(care_manager).post("/api/v1/assessments/", body(patient, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Assessment.all_records.exists()


def test_missing_fields_are_reported_per_field(api, care_manager):
    response = api(care_manager).post("/api/v1/assessments/", {}, format="json")
    assert response.status_code == 400
    assert {"patient", "instrument", "responses"} <= set(response.json())


def test_positive_item_9_through_the_api_alerts_the_team(api, patient, care_manager, prescriber, therapist):
    response = api(care_manager).post(
        "/api/v1/assessments/", body(patient, responses=answers("PHQ-9", 6, item9=1)), format="json"
    )
    assert response.json()["safety_item_positive"] is True
    assert SafetyAlert.objects.filter(patient=patient, status="open").count() == 1
    # The clinic's default recipients include the care manager (issue 16 item 3).
    urgent = Reminder.objects.filter(kind="safety_alert", urgent=True)
    assert {r.recipient for r in urgent} == {prescriber, therapist, care_manager}


@pytest.mark.parametrize("user", ["outsider", "clinic_admin"])
def test_outsider_and_clinic_admin_get_404_everywhere(api, patient, care_manager, user, request):
    assessment = record(patient, care_manager, "PHQ-9", 10, TODAY, item9=1)
    client = api(request.getfixturevalue(user))
    assert client.post("/api/v1/assessments/", body(patient), format="json").status_code == 404
    assert client.get(f"/api/v1/assessments/{assessment.public_id}/").status_code == 404
    assert client.get(f"/api/v1/assessments/?patient={patient.public_id}").status_code == 404
    assert client.get("/api/v1/assessments/").json()["count"] == 0
    assert client.get(f"/api/v1/patients/{patient.public_id}/outcomes/").status_code == 404
    assert client.get(f"/api/v1/safety-alerts/?patient={patient.public_id}").status_code == 404
    assert client.get("/api/v1/safety-alerts/").json()["count"] == 0
    follow_up = {
        "patient": str(patient.public_id),
        "format": "phone",
        "outcome": "no_ideation",
        "plan": "routine",
        "plan_details": "x",
    }
    assert client.post("/api/v1/safety-follow-ups/", follow_up, format="json").status_code == 404
    assert (
        client.post(
            "/api/v1/case-reviews/", {"patient": str(patient.public_id), "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    assert Assessment.objects.count() == 1 and not SafetyFollowUp.objects.exists()


def test_anonymous_gets_401(api, patient):
    assert api().get("/api/v1/assessments/").status_code == 401
    assert api().post("/api/v1/assessments/", body(patient), format="json").status_code == 401


def test_list_filters_by_patient_and_is_newest_first(api, patient, care_manager):
    for week in range(3):
        record(patient, care_manager, "PHQ-9", 10 - week, TODAY - timedelta(weeks=3 - week))
    data = api(care_manager).get(f"/api/v1/assessments/?patient={patient.public_id}").json()
    assert data["count"] == 3
    assert [r["total_score"] for r in data["results"]] == [8, 9, 10]


def test_assessment_list_query_count_is_constant(api, patient, care_manager, django_assert_max_num_queries):
    for week in range(60):
        record(patient, care_manager, "PHQ-9", week % 25, TODAY - timedelta(weeks=week))
    with django_assert_max_num_queries(6):
        response = api(care_manager).get(f"/api/v1/assessments/?patient={patient.public_id}")
    assert len(response.json()["results"]) == 50


# --- Outcome summary ------------------------------------------------------------------


def test_outcomes_endpoint_gives_the_treat_to_target_flags_per_instrument(api, patient, care_manager, therapist):
    record(patient, care_manager, "PHQ-9", 20, TODAY - timedelta(weeks=12))
    record(patient, care_manager, "PHQ-9", 14, TODAY - timedelta(weeks=1))
    record(patient, care_manager, "GAD-7", 12, TODAY - timedelta(weeks=6))
    record(patient, care_manager, "GAD-7", 4, TODAY)
    data = api(therapist).get(f"/api/v1/patients/{patient.public_id}/outcomes/").json()
    assert data["PHQ-9"] | {} == {
        "baseline": 20,
        "baseline_on": "2025-12-08",
        "latest": 14,
        "latest_on": "2026-02-23",
        "change_percent": -30.0,
        "response": False,
        "remission": False,
        "not_improving": True,
        "weeks_in_treatment": 12,
        "count": 2,
    }
    assert (data["GAD-7"]["response"], data["GAD-7"]["remission"], data["GAD-7"]["not_improving"]) == (
        True,
        True,
        False,
    )
    assert data["WSAS"]["baseline"] is None and data["WSAS"]["count"] == 0


# --- Safety follow-up -------------------------------------------------------------------


def follow_up_body(who, **kwargs):  # type: ignore[no-untyped-def]
    return {
        "patient": str(who.public_id),
        "format": "phone",
        "outcome": "passive_ideation",
        "plan": "safety_plan",
        "plan_details": "Safety plan reviewed; crisis line given.",
    } | kwargs


def test_therapist_records_the_follow_up_and_the_alert_closes(api, patient, care_manager, therapist):
    record(patient, care_manager, "PHQ-9", 10, TODAY, item9=1)
    alert = SafetyAlert.objects.get()
    response = api(therapist).post("/api/v1/safety-follow-ups/", follow_up_body(patient), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["resolved_alerts"] == [str(alert.public_id)]
    listed = api(therapist).get(f"/api/v1/safety-alerts/?patient={patient.public_id}").json()["results"]
    assert [(a["status"], a["follow_up"]) for a in listed] == [("resolved", response.json()["id"])]


def test_care_manager_may_not_record_the_risk_follow_up(api, patient, care_manager):
    record(patient, care_manager, "PHQ-9", 10, TODAY, item9=1)
    response = api(care_manager).post("/api/v1/safety-follow-ups/", follow_up_body(patient), format="json")
    assert response.status_code == 403
    assert SafetyAlert.objects.get().status == "open"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"outcome": "fine"}, "outcome"),
        ({"plan_details": ""}, "plan_details"),
        ({"format": "fax"}, "format"),
        ({"outcome": "intent_or_plan", "plan": "safety_plan"}, "plan"),
    ],
)
def test_follow_up_bad_input_is_a_400_on_the_field(api, patient, care_manager, prescriber, change, field):
    record(patient, care_manager, "PHQ-9", 10, TODAY, item9=1)
    response = api(prescriber).post("/api/v1/safety-follow-ups/", follow_up_body(patient, **change), format="json")
    assert response.status_code == 400 and field in response.json()
    assert SafetyAlert.objects.get().status == "open"


def test_follow_up_without_open_alert_is_a_400(api, patient, prescriber):
    response = api(prescriber).post("/api/v1/safety-follow-ups/", follow_up_body(patient), format="json")
    assert response.status_code == 400 and "patient" in response.json()


# --- Case review --------------------------------------------------------------------------


def test_case_review_flag_and_record_make_care_plan_tasks(api, patient, care_plan, care_manager, prescriber):
    flagged = api(care_manager).post(
        "/api/v1/case-reviews/", {"patient": str(patient.public_id), "reason": "PHQ-9 flat at week 10"}, format="json"
    )
    assert flagged.status_code == 201, flagged.json()
    review_id = flagged.json()["id"]
    recorded = api(prescriber).post(
        f"/api/v1/case-reviews/{review_id}/record/",
        {
            "summary": "Partial response.",
            "recommendations": [
                {
                    "description": "Increase sertraline to 150 mg",
                    "assigned_role": "prescriber",
                    "due_date": "2026-03-16",
                },
                {"description": "Add behavioural activation"},
            ],
        },
        format="json",
    )
    assert recorded.status_code == 200, recorded.json()
    assert recorded.json()["status"] == "completed"
    assert [t["description"] for t in recorded.json()["tasks"]] == [
        "Increase sertraline to 150 mg",
        "Add behavioural activation",
    ]
    assert CarePlanTask.objects.filter(care_plan=care_plan, status="open").count() == 2
    again = api(prescriber).post(f"/api/v1/case-reviews/{review_id}/record/", {"summary": "x"}, format="json")
    assert again.status_code == 400


def test_case_review_roles(api, patient, care_plan, care_manager, therapist, prescriber):
    url = "/api/v1/case-reviews/"
    assert (
        api(therapist).post(url, {"patient": str(patient.public_id), "reason": "x"}, format="json").status_code == 403
    )
    review_id = (
        api(care_manager).post(url, {"patient": str(patient.public_id), "reason": "x"}, format="json").json()["id"]
    )
    assert api(care_manager).post(f"{url}{review_id}/record/", {"summary": "x"}, format="json").status_code == 403
    bad = api(prescriber).post(
        f"{url}{review_id}/record/",
        {"recommendations": [{"description": "x", "assigned_role": "janitor"}]},
        format="json",
    )
    assert bad.status_code == 400 and "recommendations" in bad.json()


def test_case_review_of_another_team_is_404(api, patient, care_manager, outsider):
    review_id = (
        api(care_manager)
        .post("/api/v1/case-reviews/", {"patient": str(patient.public_id), "reason": "x"}, format="json")
        .json()["id"]
    )
    assert api(outsider).get(f"/api/v1/case-reviews/{review_id}/").status_code == 404
    assert (
        api(outsider).post(f"/api/v1/case-reviews/{review_id}/record/", {"summary": "x"}, format="json").status_code
        == 404
    )


def test_enter_in_error_through_the_api(api, patient, care_manager, therapist, outsider):
    assessment = record(patient, care_manager, "PHQ-9", 12, TODAY)
    url = f"/api/v1/assessments/{assessment.public_id}/enter-in-error/"
    assert api(outsider).post(url, {"reason": "x"}, format="json").status_code == 404
    bad = api(therapist).post(url, {"reason": ""}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()
    assert api(therapist).post(url, {"reason": "Duplicate entry"}, format="json").status_code == 204
    assert api(therapist).get(f"/api/v1/assessments/{assessment.public_id}/").status_code == 404
    assert api(therapist).get(f"/api/v1/patients/{patient.public_id}/outcomes/").json()["PHQ-9"]["count"] == 0
