"""The care team's pages: the Patient links tab, link creation with a QR code, revoking, the
check-in schedule, the safety plan editor (versions, stale save keeps the text), goal targets."""

import pytest

from clinic.models import AuditEvent
from patient_portal.models import CheckInSchedule, GoalTarget, PatientLink, SafetyPlan
from tests.factories import GoalFactory

pytestmark = pytest.mark.django_db


def test_create_a_link_from_the_chart_shows_the_qr_once(browser_client, care_manager, patient):
    client = browser_client(care_manager)
    response = client.post(
        f"/patients/{patient.public_id}/links/new/", {"purpose": "questionnaire", "instrument": "GAD-7"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html and "/p/" in html
    link = PatientLink.objects.get()
    tab = client.get(f"/patients/{patient.public_id}/links/").content.decode()
    assert "GAD-7" in tab and "/p/" not in tab  # the token is never shown again
    revoke = client.post(f"/patients/{patient.public_id}/links/{link.public_id}/revoke/")
    assert revoke.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == care_manager


def test_a_questionnaire_link_without_instrument_is_refused_with_a_message(browser_client, care_manager, patient):
    response = browser_client(care_manager).post(
        f"/patients/{patient.public_id}/links/new/", {"purpose": "questionnaire"}, follow=True
    )
    assert "Choose the questionnaire to send." in response.content.decode()
    assert not PatientLink.objects.exists()


def test_schedule_set_and_clear(browser_client, care_manager, patient):
    client = browser_client(care_manager)
    client.post(f"/patients/{patient.public_id}/check-in-schedule/", {"frequency": "daily"})
    client.post(f"/patients/{patient.public_id}/check-in-schedule/", {"frequency": "weekly"})
    assert list(CheckInSchedule.objects.filter(active=True).values_list("frequency", flat=True)) == ["weekly"]
    client.post(f"/patients/{patient.public_id}/check-in-schedule/", {"frequency": ""})
    assert not CheckInSchedule.objects.filter(active=True).exists()
    assert AuditEvent.objects.filter(object_type="patient_portal.checkinschedule").count() == 3


def test_safety_plan_editor_versions_and_a_stale_save_keeps_the_text(browser_client, care_manager, therapist, patient):
    url = f"/patients/{patient.public_id}/safety-plan/"
    mine = browser_client(care_manager)
    assert mine.post(url, {"version": "0", "warning_signs": "Can't sleep"}).status_code == 302
    from django.test import Client

    theirs = Client()
    theirs.force_login(therapist)
    assert theirs.post(url, {"version": "1", "warning_signs": "Can't sleep", "people_to_ask": "Jo"}).status_code == 302
    future = mine.post(url, {"version": "2", "warning_signs": "x", "agreed_on": "2099-01-01"})
    assert "cannot be in the future" in future.content.decode()
    stale = mine.post(url, {"version": "1", "warning_signs": "My words"})
    assert stale.status_code == 200
    html = stale.content.decode()
    assert "My words" in html and "Someone saved the safety plan" in html
    plan = SafetyPlan.objects.get()
    assert plan.version == 2 and plan.people_to_ask == "Jo"
    assert [v.version for v in plan.versions.all()] == [2, 1]
    audit = AuditEvent.objects.filter(object_type="patient_portal.safetyplan").order_by("occurred_at").last()
    assert "Jo" not in str(audit.changes) and audit.changes["steps_changed"][1] == ["people_to_ask"]


def test_goal_target_form(browser_client, care_manager, patient, care_plan):
    goal = GoalFactory(care_plan=care_plan, description="Sleep seven hours")
    url = f"/patients/{patient.public_id}/goals/{goal.public_id}/target/"
    client = browser_client(care_manager)
    bad = client.post(url, {"measure": "sleep_hours", "direction": "at_least", "value": "-1"})
    assert bad.status_code == 200 and GoalTarget.objects.count() == 0
    assert client.post(url, {"measure": "sleep_hours", "direction": "at_least", "value": "7"}).status_code == 302
    tab = client.get(f"/patients/{patient.public_id}/links/").content.decode()
    assert "Sleep (hours a night) at least 7 h" in tab and "not measured yet" in tab
