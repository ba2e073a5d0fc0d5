"""`/api/v1/cssrs-screens/` (issue 16 item 3): the C-SSRS Screener through the API opens the same
safety alert as on the page, with the Columbia triage computed by the server (CLINICAL.md b5)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import AuditEvent
from outcomes.models import CssrsScreen, SafetyAlert

URL = "/api/v1/cssrs-screens/"
NO = {"wish_dead": False, "suicidal_thoughts": False, "behaviour": False}


def body(patient, **answers):  # type: ignore[no-untyped-def]
    return {"patient": str(patient.public_id), **NO, **answers}


def test_a_screener_with_intent_is_high_risk_and_opens_a_high_risk_alert(api, patient, care_manager):
    answers = {"wish_dead": True, "suicidal_thoughts": True, "thoughts_with_method": True, "intent": True}
    response = api(care_manager).post(URL, body(patient, intent_with_plan=False, **answers), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["triage"] == "high" and data["screened_on"] == timezone.localdate().isoformat()
    alert = SafetyAlert.objects.get()
    assert data["safety_alert"] == str(alert.public_id) and alert.high_risk is True
    listed = api(care_manager).get(f"/api/v1/safety-alerts/?patient={patient.public_id}").json()["results"]
    assert [(a["id"], a["source"]) for a in listed] == [(str(alert.public_id), "cssrs")]


def test_a_negative_screener_opens_nothing(api, patient, care_manager):
    response = api(care_manager).post(URL, body(patient), format="json")
    assert response.status_code == 201
    assert (response.json()["triage"], response.json()["safety_alert"]) == ("negative", None)
    assert not SafetyAlert.objects.exists()


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"suicidal_thoughts": True}, "thoughts_with_method"),  # 3-5 must be answered after a yes to 2
        ({"intent": False}, "intent"),  # ...and never after a no
        ({"screened_on": (timezone.localdate() + timedelta(days=1)).isoformat()}, "screened_on"),
    ],
)
def test_the_skip_rule_and_the_date_are_field_errors_and_nothing_is_stored(api, patient, care_manager, answers, field):
    response = api(care_manager).post(URL, body(patient, **answers), format="json")
    assert response.status_code == 400 and field in response.json()
    assert not CssrsScreen.objects.exists()


def test_only_the_care_team_may_screen_or_read(api, patient, care_manager, outsider, clinic_admin):
    assert api(outsider).post(URL, body(patient), format="json").status_code == 404
    screen = api(care_manager).post(URL, body(patient, wish_dead=True), format="json").json()
    for user in (outsider, clinic_admin):
        assert api(user).get(f"{URL}{screen['id']}/").status_code == 404
        assert api(user).get(URL).json()["results"] == []


def test_the_list_is_newest_first_filtered_by_patient_and_its_read_audited(api, patient, care_manager):
    client = api(care_manager)
    for days in (3, 1):
        on = (timezone.localdate() - timedelta(days=days)).isoformat()
        assert client.post(URL, body(patient, screened_on=on), format="json").status_code == 201
    before = AuditEvent.objects.filter(action="read").count()
    rows = client.get(f"{URL}?patient={patient.public_id}").json()["results"]
    assert [r["screened_on"] for r in rows] == sorted((r["screened_on"] for r in rows), reverse=True)
    assert len(rows) == 2
    read = AuditEvent.objects.filter(action="read").order_by("-id").first()
    assert AuditEvent.objects.filter(action="read").count() == before + 1
    assert read is not None and read.patient_id == patient.public_id


@pytest.mark.parametrize("screens", [2, 12])
def test_the_list_costs_the_same_queries_for_2_or_12_screeners(
    api, patient, care_manager, screens, django_assert_num_queries
):
    client = api(care_manager)
    for days in range(screens):
        on = (timezone.localdate() - timedelta(days=days)).isoformat()
        assert client.post(URL, body(patient, wish_dead=True, screened_on=on), format="json").status_code == 201
    client.get(URL)  # warm: the session
    # Pinned: the page with patient, author and alert joined (1), the count (1), the read audit
    # (the patients' ids and one INSERT); the same whatever the number of screeners shown.
    with django_assert_num_queries(PINNED_CSSRS_LIST):
        rows = client.get(URL).json()["results"]
    assert len(rows) == screens and all(r["safety_alert"] for r in rows)


PINNED_CSSRS_LIST = 4
