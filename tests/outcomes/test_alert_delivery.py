"""A positive item 9 is delivered at once when the questionnaire's transaction commits,
without waiting for the periodic scan (urgent kinds; careplans delivery machinery)."""

from datetime import date

import pytest
from django.core import mail

from clinic.celery import app as celery_app
from reminders.models import Reminder
from tests.outcomes.helpers import record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager_celery():  # type: ignore[no-untyped-def]
    """Tasks run in-process even when REDIS_URL is set; the worker path is careplans' to test."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def test_item_9_alert_is_e_mailed_on_commit_without_patient_data(
    patient, care_manager, prescriber, therapist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(patient, care_manager, "PHQ-9", 12, date.today(), item9=2)
    # Nothing is sent before the commit ...
    assert callbacks and not mail.outbox
    assert set(Reminder.objects.values_list("status", flat=True)) == {"pending"}
    # ... and at commit the urgent dispatcher delivers every row: prescriber, therapist and the
    # care manager, the clinic's default recipients (issue 16 item 3).
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        [prescriber.email, therapist.email, care_manager.email]
    )
    for message in mail.outbox:
        text = message.subject + message.body
        assert patient.family_name not in text and "PHQ" not in text and "item 9" not in text.lower()


def test_no_alert_means_nothing_to_dispatch(patient, care_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record(patient, care_manager, "PHQ-9", 12, date.today(), item9=0)
    assert not mail.outbox and not Reminder.objects.exists()
