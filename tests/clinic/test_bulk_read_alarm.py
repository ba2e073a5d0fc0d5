"""The bulk-read alarm (issue 12 item 4): one user opening more than AUDIT_BULK_READ_THRESHOLD
distinct patients' records in an hour alerts the clinic admins once per window, with counts
only, through pages and the API alike; counting costs no database query."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careplans.models import TeamRole
from clinic.bulk_reads import bulk_reads_count
from clinic.models import AuditEvent
from clinic.tasks import audit_seal_task
from reminders.delivery import reminders_deliver_to
from reminders.models import URGENT_REMINDER_KINDS, Reminder, ReminderKind
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def caseload(prescriber, settings):  # type: ignore[no-untyped-def]
    settings.AUDIT_BULK_READ_THRESHOLD = 3
    patients = [PatientFactory() for _ in range(5)]
    for patient in patients:
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        CarePlanFactory(patient=patient)
    return patients


def _alarms() -> list[Reminder]:
    return list(Reminder.objects.filter(kind=ReminderKind.BULK_READ).order_by("recipient_id"))


def test_opening_more_patients_than_the_threshold_alerts_every_clinic_admin_once(
    client, prescriber, clinic_admin, caseload, django_capture_on_commit_callbacks
):
    second_admin = UserFactory(username="secondadmin", is_clinic_admin=True)
    client.force_login(prescriber)
    with django_capture_on_commit_callbacks(execute=True):
        for patient in caseload[:3]:
            assert client.get(f"/patients/{patient.public_id}/").status_code == 200
        client.get(f"/patients/{caseload[0].public_id}/")  # the same patient again is not a new one
    assert _alarms() == []  # at the threshold: not yet

    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/patients/{caseload[3].public_id}/")  # the fourth distinct patient
        client.get(f"/patients/{caseload[4].public_id}/")  # still the same window: no second alarm
    alarms = _alarms()
    assert [a.recipient_id for a in alarms] == sorted([clinic_admin.pk, second_admin.pk])
    assert all(a.patient_id is None and a.kind in URGENT_REMINDER_KINDS for a in alarms)
    assert str(prescriber.public_id) in alarms[0].detail and "4 patients" in alarms[0].detail
    assert not any(p.family_name in alarms[0].detail or str(p.public_id) in alarms[0].detail for p in caseload)
    (event,) = AuditEvent.objects.filter(action="bulk_read_alarm")
    assert event.object_id == str(prescriber.public_id) and event.changes["patients"] == 4

    # The urgent delivery mails the admin a count and a link, never who or which patients. (Without
    # REDIS_URL, Celery runs in-process and the commit's urgent dispatch has already mailed both
    # admins; with a broker the dispatch waits for a worker and this call sends it: one mail either way.)
    reminders_deliver_to(recipient_id=clinic_admin.pk, urgent_only=True)
    (sent,) = [m for m in mail.outbox if m.to == [clinic_admin.email]]
    assert prescriber.username not in sent.body and not any(p.family_name in sent.body for p in caseload)


def test_an_api_list_counts_every_patient_it_shows(
    api, prescriber, clinic_admin, caseload, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert api(prescriber).get("/api/v1/care-plans/").status_code == 200  # five patients in one page
    assert [a.recipient_id for a in _alarms()] == [clinic_admin.pk]


def test_counting_is_per_user(
    client, prescriber, therapist, clinic_admin, caseload, django_capture_on_commit_callbacks
):
    for patient in caseload[:2]:
        CareTeamMemberFactory(patient=patient, user=therapist, role=TeamRole.THERAPIST)
    with django_capture_on_commit_callbacks(execute=True):
        for user, patients in ((prescriber, caseload[:3]), (therapist, caseload[:2])):
            client.force_login(user)
            for patient in patients:
                client.get(f"/patients/{patient.public_id}/")
    assert _alarms() == []


def test_counting_costs_no_database_query(prescriber, caseload):
    with CaptureQueriesContext(connection) as captured:
        assert bulk_reads_count(prescriber, [p.public_id for p in caseload[:2]]) == 2
        assert bulk_reads_count(prescriber, [caseload[0].public_id]) == -1  # nothing new
    assert captured.captured_queries == []


def test_the_sealer_task_seals_what_the_reads_appended(client, prescriber, caseload):
    client.force_login(prescriber)
    client.get(f"/patients/{caseload[0].public_id}/")
    assert audit_seal_task() >= 1 and not AuditEvent.objects.filter(hash__isnull=True).exists()
