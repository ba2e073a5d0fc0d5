"""GET /api/v1/worklist/, the Today page at "/", the caseload tab, and the safety-alert API's source."""

from datetime import date

import pytest
from django.urls import reverse

from outcomes import services as outcome_services
from outcomes.cssrs import CssrsAnswers
from outcomes.models import SafetyAlertRecipients
from tests.outcomes.helpers import record
from tests.reports import builders
from tests.therapy.factories import modality_catalog_ensure
from therapy import services as therapy_services

pytestmark = pytest.mark.django_db
WORKLIST = "/api/v1/worklist/"


def test_worklist_api_shape_order_and_pagination(api, patient, prescriber, care_manager):
    record(patient, care_manager, "PHQ-9", 12, date.today(), item9=1)
    body = api(prescriber).get(WORKLIST).json()
    assert body["count"] == len(body["results"]) >= 1
    first = body["results"][0]
    assert set(first) >= {"kind", "patient", "title", "due_date", "severity", "url"}
    assert (first["kind"], first["severity"], first["patient"]) == ("safety_alert", "urgent", str(patient.public_id))
    assert first["url"] == reverse("outcomes:safety_follow_up", args=[patient.public_id])
    assert set(api(prescriber).get(WORKLIST, {"page_size": 1}).json()) >= {"count", "next", "previous", "results"}


def test_worklist_api_patient_filter_and_scope(api, patient, prescriber, care_manager, outsider, clinic_admin):
    record(patient, care_manager, "PHQ-9", 12, date.today(), item9=1)
    assert api(prescriber).get(WORKLIST, {"patient": str(patient.public_id)}).json()["count"] >= 1
    assert api(outsider).get(WORKLIST).json()["count"] == 0
    assert api(outsider).get(WORKLIST, {"patient": str(patient.public_id)}).status_code == 404
    assert api(clinic_admin).get(WORKLIST).json()["count"] == 0


def test_safety_alerts_api_lists_every_source(api, client, patient, prescriber, therapist, care_manager):
    modality_catalog_ensure()
    record(patient, care_manager, "PHQ-9", 12, date.today(), item9=1)
    course = builders.course(patient, therapist, "CBT", date.today())
    session = therapy_services.session_log(
        course=course, actor=therapist, session_date=date.today(), risk_level="raised", risk_note="x"
    )
    outcome_services.cssrs_screen_record(
        patient=patient,
        actor=care_manager,
        answers=CssrsAnswers(True, True, True, True, False, False),
        screened_on=date.today(),
    )
    rows = api(prescriber).get("/api/v1/safety-alerts/", {"patient": str(patient.public_id)}).json()["results"]
    by_source = {row["source"]: row for row in rows}
    assert set(by_source) == {"phq9_item9", "session_risk", "cssrs"}
    assert by_source["session_risk"]["session"] == str(session.public_id)
    assert by_source["session_risk"]["assessment"] is None and by_source["session_risk"]["administered_on"] is None
    assert by_source["cssrs"]["high_risk"] is True and by_source["cssrs"]["cssrs_screen"]
    assert by_source["phq9_item9"]["administered_on"] == by_source["phq9_item9"]["source_date"]
    assert all(row["status"] == "open" for row in rows)
    # The caseload flag and the banner come from the same alerts.
    client.force_login(prescriber)
    page = client.get(reverse("outcomes:tab", args=[patient.public_id])).content.decode()
    assert "Safety alert open – high risk" in page and "Risk raised in a therapy session on" in page


def test_root_is_today_for_clinicians_and_the_caseload_keeps_its_name(client, patient, prescriber):
    client.force_login(prescriber)
    response = client.get("/")
    assert response.status_code == 200 and b"<h1>Today</h1>" in response.content
    assert b"Nothing needs you right now" in response.content
    assert reverse("careplans:caseload") == "/caseload/"
    assert client.get("/caseload/").status_code == 200


def test_clinic_admin_lands_on_the_patient_directory(client, clinic_admin):
    client.force_login(clinic_admin)
    assert client.get("/").url == reverse("careplans:patient_directory")


def test_clinic_admin_chooses_the_safety_alert_recipients(client, clinic_admin, prescriber, patient, care_manager):
    url = reverse("outcomes:safety_alert_recipients")
    client.force_login(prescriber)
    assert client.get(url).status_code == 403
    client.force_login(clinic_admin)
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["roles"] == [
        "prescriber",
        "therapist",
        "care_manager",
    ]
    assert client.post(url, {"roles": ["prescriber"]}).status_code == 302
    assert SafetyAlertRecipients.current().roles() == ["prescriber"]
    record(patient, care_manager, "PHQ-9", 12, date.today(), item9=1)
    assert list(patient.reminders.values_list("recipient", flat=True)) == [prescriber.pk]


def test_cssrs_offered_after_item_9_and_a_skip_rule_error_keeps_the_answers(client, patient, care_manager):
    client.force_login(care_manager)
    assessment = record(patient, care_manager, "PHQ-9", 12, date.today(), item9=2)
    cssrs = reverse("outcomes:cssrs_create", args=[patient.public_id])
    assert cssrs.encode() in client.get(reverse("outcomes:tab", args=[patient.public_id])).content
    detail = client.get(reverse("outcomes:assessment_detail", args=[patient.public_id, assessment.public_id]))
    assert cssrs.encode() in detail.content
    response = client.post(
        cssrs,
        {"screened_on": date.today().isoformat(), "wish_dead": "yes", "suicidal_thoughts": "yes", "behaviour": "no"},
    )
    assert response.status_code == 200
    assert "Answer question 3: question 2 was answered yes." in response.context["form"].errors["thoughts_with_method"]
    assert response.context["form"]["wish_dead"].value() == "yes"
    done = client.post(
        cssrs,
        {
            "screened_on": date.today().isoformat(),
            "wish_dead": "yes",
            "suicidal_thoughts": "yes",
            "thoughts_with_method": "yes",
            "intent": "no",
            "intent_with_plan": "no",
            "behaviour": "no",
        },
        follow=True,
    )
    assert b"C-SSRS: moderate risk" in done.content
    # Screened since the item 9: no longer offered; both alerts stay open for the follow-up.
    assert cssrs.encode() not in done.content
    assert patient.safety_alerts.filter(status="open").count() == 2
