"""Break-glass (issue 12 item 6): emergency access to a chart off the care team, with a reason."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from careplans.break_glass import REASON_REQUIRED
from careplans.models import BreakGlassGrant
from clinic.models import AuditEvent
from reminders.models import Reminder, ReminderKind
from tests.factories import UserFactory
from tests.therapy.factories import modality_catalog_ensure
from therapy import services as therapy_services
from therapy.models import Modality

REASON = "Seen in the emergency department after an overdose; on-call psychiatrist"


@pytest.fixture
def second_admin(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="secondadmin", is_clinic_admin=True)


def _open(api, user, patient, reason=REASON):  # type: ignore[no-untyped-def]
    return api(user).post(f"/api/v1/patients/{patient.public_id}/break-glass/", {"reason": reason}, format="json")


def test_outsider_opens_a_chart_with_a_reason_for_four_hours(api, outsider, patient, care_plan):
    assert api(outsider).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 404
    response = _open(api, outsider, patient)
    assert response.status_code == 201
    body = response.json()
    assert body["patient"] == str(patient.public_id) and body["user"] == str(outsider.public_id)
    grant = BreakGlassGrant.objects.get()
    assert timedelta(hours=3, minutes=59) < grant.expires_at - grant.started_at <= timedelta(hours=4)
    # The same access path now answers: the plan, through the API and the chart page.
    assert api(outsider).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 200
    assert api(outsider).get("/api/v1/assessments/", {"patient": str(patient.public_id)}).status_code == 200


def test_reason_is_required_and_nothing_opens_without_it(api, outsider, patient, care_plan):
    for reason in ("", "   "):
        response = _open(api, outsider, patient, reason)
        assert response.status_code == 400
    assert (
        api(outsider).post(f"/api/v1/patients/{patient.public_id}/break-glass/", {}, format="json").status_code == 400
    )
    assert _open(api, outsider, patient, " ").json()["reason"]
    assert not BreakGlassGrant.objects.exists()
    assert api(outsider).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 404


def test_unknown_patient_is_404(api, outsider):
    response = api(outsider).post(
        "/api/v1/patients/00000000-0000-4000-8000-000000000000/break-glass/", {"reason": REASON}, format="json"
    )
    assert response.status_code == 404


def test_clinic_admin_cannot_break_glass(api, clinic_admin, patient, care_plan):
    assert _open(api, clinic_admin, patient).status_code == 404
    assert not BreakGlassGrant.objects.exists()
    assert api(clinic_admin).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 404


def test_team_member_is_told_to_open_the_chart_as_usual(api, prescriber, patient):
    response = _open(api, prescriber, patient)
    assert response.status_code == 400
    assert "on this patient's care team" in response.json()["reason"][0]


def test_access_ends_when_the_grant_expires(api, outsider, patient, care_plan):
    assert _open(api, outsider, patient).status_code == 201
    # Moved into the past with a queryset update (the grant is not a clinical record).
    past = timezone.now() - timedelta(minutes=1)
    BreakGlassGrant.objects.update(started_at=past - timedelta(hours=4), expires_at=past)
    assert api(outsider).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 404


def test_audited_without_the_reason(api, outsider, patient):
    _open(api, outsider, patient)
    grant = BreakGlassGrant.objects.get()
    event = AuditEvent.objects.get(object_type="careplans.breakglassgrant", action="create")
    assert event.actor == outsider and event.patient_id == patient.public_id
    assert event.object_id == str(grant.public_id)
    assert list(event.changes) == ["expires_at"]
    assert "overdose" not in str(event.changes) and grant.reason == REASON


def test_care_team_and_admins_are_told_at_once_urgently(
    monkeypatch,
    api,
    outsider,
    patient,
    prescriber,
    therapist,
    care_manager,
    clinic_admin,
    second_admin,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    # Urgent mail goes through Celery: run it in-process, as `make run` does (CI has a broker).
    from clinic.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        _open(api, outsider, patient)
    notices = Reminder.objects.filter(kind=ReminderKind.BREAK_GLASS)
    recipients = {r.recipient.username: r for r in notices}
    assert set(recipients) == {"prescriber", "therapist", "caremanager", "clinicadmin", "secondadmin"}
    assert all(r.urgent for r in notices)
    assert recipients["prescriber"].patient == patient and recipients["clinicadmin"].patient is None
    # Names and the MRN, never the reason.
    assert "overdose" not in " ".join(notices.values_list("detail", flat=True))
    assert f"by {outsider}" in recipients["therapist"].detail
    # Urgent: e-mailed at once (in-process Celery in tests), a count and a link only.
    assert mailoutbox and all("overdose" not in m.body for m in mailoutbox)


def test_private_process_notes_stay_out_of_reach(api, outsider, patient, therapist):
    modality_catalog_ensure()
    course = therapy_services.course_open(
        patient=patient, actor=therapist, modality=Modality.objects.get(code="CBT"), goals=[], started_on=date.today()
    )
    session = therapy_services.session_log(
        course=course, actor=therapist, session_date=date.today(), summary="Shared", private_note="CANARY-NOTE-77"
    )
    _open(api, outsider, patient)
    response = api(outsider).get(f"/api/v1/therapy-sessions/{session.public_id}/")
    assert response.status_code == 200
    assert "CANARY-NOTE-77" not in response.content.decode()
    assert response.json().get("private_note") in (None, "")


def test_review_list_for_admins_only(api, outsider, patient, clinic_admin):
    _open(api, outsider, patient)
    assert api(outsider).get("/api/v1/break-glass/").status_code == 403
    response = api(clinic_admin).get("/api/v1/break-glass/")
    assert response.status_code == 200
    rows = response.json()["results"] if isinstance(response.json(), dict) else response.json()
    assert rows[0]["reason"] == REASON and rows[0]["patient_mrn"] == patient.mrn and rows[0]["active"] is True
    assert api(clinic_admin).get("/api/v1/break-glass/", {"patient": str(patient.public_id)}).status_code == 200


# --- Pages ----------------------------------------------------------------------------------


def test_not_on_team_page_offers_break_glass_for_any_id(client, outsider, patient):
    client.force_login(outsider)
    for patient_id in (patient.public_id, "00000000-0000-4000-8000-000000000000"):
        response = client.get(f"/patients/{patient_id}/")
        assert response.status_code == 404
        body = response.content.decode()
        assert "Emergency access" in body and f"/patients/{patient_id}/break-glass/" in body
        assert patient.family_name not in body  # nothing about the patient before a reason


def test_admin_not_found_page_offers_nothing(client, clinic_admin, patient):
    client.force_login(clinic_admin)
    response = client.get(f"/patients/{patient.public_id}/")
    assert response.status_code == 404 and "break-glass" not in response.content.decode()


def test_page_flow_reason_then_chart_with_banner(client, outsider, patient, care_plan):
    client.force_login(outsider)
    url = f"/patients/{patient.public_id}/break-glass/"
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400 and REASON_REQUIRED in refused.content.decode()
    opened = client.post(url, {"reason": REASON})
    assert opened.status_code == 302 and opened["Location"] == f"/patients/{patient.public_id}/"
    chart = client.get(opened["Location"])
    assert chart.status_code == 200
    body = chart.content.decode()
    assert "break-glass-banner" in body and patient.family_name in body
    # Every chart tab shows it.
    assert "break-glass-banner" in client.get(f"/patients/{patient.public_id}/outcomes/").content.decode()


def test_report_page_lists_grants_for_admins(client, api, outsider, patient, clinic_admin):
    _open(api, outsider, patient)
    client.force_login(clinic_admin)
    body = client.get("/break-glass/").content.decode()
    assert REASON in body and patient.mrn in body and str(outsider) in body and "Active" in body
    client.force_login(outsider)
    assert client.get("/break-glass/").status_code == 403
