"""GET /api/v1/reminders/ and its actions (DESIGN.md API contract: the recipient's own inbox)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from careplans.models import TeamRole
from clinic.models import AuditEvent
from reminders.models import ReminderKind, ReminderStatus
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.reminders.reminder_factories import ReminderFactory

TODAY = timezone.localdate()


@pytest.fixture
def mine(patient, prescriber):  # type: ignore[no-untyped-def]
    return ReminderFactory(
        recipient=prescriber, patient=patient, status=ReminderStatus.SENT, detail="Care plan review due"
    )


def test_list_returns_the_callers_own_reminders_with_the_contract_fields(api, mine, therapist, patient):
    ReminderFactory(recipient=therapist, patient=patient)
    response = api(mine.recipient).get("/api/v1/reminders/")
    assert response.status_code == 200
    assert response.data["count"] == 1
    row = response.data["results"][0]
    assert row["id"] == str(mine.public_id)
    assert row["kind"] == "care_plan_review"
    assert row["patient"] == str(patient.public_id)
    assert row["due_date"] == TODAY.isoformat()
    assert row["status"] == "sent"
    assert row["detail"] == "Care plan review due"
    assert row["link"] == f"/patients/{patient.public_id}/"
    assert {"urgent", "snoozed_until", "created_at", "sent_at", "acknowledged_at", "done_at"} <= set(row)


def test_filters_by_patient_kind_and_status(api, mine, prescriber, patient):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=prescriber)
    alert = ReminderFactory(recipient=prescriber, patient=other, kind=ReminderKind.SAFETY_ALERT)
    done = ReminderFactory(recipient=prescriber, patient=patient, status=ReminderStatus.DONE)
    client = api(prescriber)

    def ids(query: str) -> set[str]:
        return {row["id"] for row in client.get(f"/api/v1/reminders/?{query}").data["results"]}

    assert ids(f"patient={other.public_id}") == {str(alert.public_id)}
    assert ids("kind=safety_alert") == {str(alert.public_id)}
    assert ids("status=done") == {str(done.public_id)}
    assert ids("status=open") == {str(mine.public_id), str(alert.public_id)}
    assert client.get("/api/v1/reminders/").data["results"][0]["id"] == str(alert.public_id)  # urgent first


def test_a_malformed_patient_filter_is_404_like_every_list(api, mine):
    assert api(mine.recipient).get("/api/v1/reminders/?patient=1%20OR%201=1").status_code == 404


@pytest.mark.parametrize(("query", "field"), [("kind=nonsense", "kind"), ("status=deleted", "status")])
def test_bad_filters_are_400_with_the_field_named(api, mine, query, field):
    response = api(mine.recipient).get(f"/api/v1/reminders/?{query}")
    assert response.status_code == 400
    assert list(response.data) == [field]


def test_acknowledge_snooze_complete(api, mine):
    client = api(mine.recipient)
    base = f"/api/v1/reminders/{mine.public_id}"
    response = client.post(f"{base}/acknowledge/")
    assert response.status_code == 200 and response.data["status"] == "acknowledged"
    until = (TODAY + timedelta(days=3)).isoformat()
    response = client.post(f"{base}/snooze/", {"until": until}, format="json")
    assert response.status_code == 200
    assert (response.data["status"], response.data["snoozed_until"]) == ("snoozed", until)
    response = client.post(f"{base}/complete/")
    assert response.status_code == 200 and response.data["status"] == "done"
    assert AuditEvent.objects.filter(object_type="reminders.reminder", action="update").count() == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"until": "tomorrow"}, "Date has wrong format"),
        ({"until": "2001-01-01"}, "Choose a date after today."),
    ],
)
def test_snooze_bad_input_is_400_on_until(api, mine, body, message):
    response = api(mine.recipient).post(f"/api/v1/reminders/{mine.public_id}/snooze/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.data["until"])


def test_completing_twice_is_400_not_a_silent_change(api, mine):
    client = api(mine.recipient)
    client.post(f"/api/v1/reminders/{mine.public_id}/complete/")
    response = client.post(f"/api/v1/reminders/{mine.public_id}/acknowledge/")
    assert response.status_code == 400 and "status" in response.data


def test_someone_elses_reminder_is_404_for_read_and_every_action(api, mine, therapist, outsider, clinic_admin):
    for user in (therapist, outsider, clinic_admin):
        client = api(user)
        assert client.get(f"/api/v1/reminders/{mine.public_id}/").status_code == 404
        for action in ("acknowledge", "complete"):
            assert client.post(f"/api/v1/reminders/{mine.public_id}/{action}/").status_code == 404
        assert (
            client.post(
                f"/api/v1/reminders/{mine.public_id}/snooze/", {"until": "2099-01-01"}, format="json"
            ).status_code
            == 404
        )
        assert client.get("/api/v1/reminders/").data["count"] == 0
    mine.refresh_from_db()
    assert mine.status == ReminderStatus.SENT


def test_outsider_filtering_by_a_patient_they_cannot_see_gets_404(api, mine, outsider, patient):
    assert api(outsider).get(f"/api/v1/reminders/?patient={patient.public_id}").status_code == 404


def test_anonymous_gets_401(api, mine):
    assert api().get("/api/v1/reminders/").status_code == 401


def test_list_query_count_stays_flat(api, prescriber, django_assert_max_num_queries):
    for _ in range(20):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        ReminderFactory.create_batch(6, recipient=prescriber, patient=patient)
    client = api(prescriber)
    with django_assert_max_num_queries(2):  # count + one page with patients joined
        response = client.get("/api/v1/reminders/")
    assert response.data["count"] == 120 and len(response.data["results"]) == 50
