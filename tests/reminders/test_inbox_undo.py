"""Mark done asks first and can be undone from the row that answers it (issue 16 item 9)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from clinic.undo import UNDO_WINDOW
from reminders.models import Reminder, ReminderStatus
from tests.reminders.reminder_factories import ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(prescriber, patient):  # type: ignore[no-untyped-def]
    return ReminderFactory(recipient=prescriber, patient=patient, status=ReminderStatus.SENT)


def test_mark_done_button_asks_first(browser_client, review, prescriber):
    page = browser_client(prescriber).get("/inbox/").content.decode()
    assert 'hx-confirm="Mark this care plan review reminder done?' in page


def test_done_with_htmx_offers_undo_and_undo_brings_it_back_acknowledged(browser_client, review, prescriber):
    client = browser_client(prescriber)
    row = client.post(f"/inbox/{review.public_id}/done/", HTTP_HX_REQUEST="true").content.decode()
    assert "Marked done." in row and f"/inbox/{review.public_id}/undo-done/" in row
    assert Reminder.objects.get(pk=review.pk).status == ReminderStatus.DONE
    row = client.post(f"/inbox/{review.public_id}/undo-done/", HTTP_HX_REQUEST="true").content.decode()
    review.refresh_from_db()
    assert review.status == ReminderStatus.ACKNOWLEDGED and review.done_at is None
    assert "Mark done" in row and "undo-done" not in row
    # reloading the inbox never shows an undo offer
    assert "undo-done" not in client.get("/inbox/?view=done").content.decode()


def test_undo_after_the_window_is_refused(browser_client, review, prescriber):
    client = browser_client(prescriber)
    client.post(f"/inbox/{review.public_id}/done/", HTTP_HX_REQUEST="true")
    with time_machine.travel(timezone.now() + UNDO_WINDOW + timedelta(seconds=1)):
        row = client.post(f"/inbox/{review.public_id}/undo-done/", HTTP_HX_REQUEST="true").content.decode()
    assert "can no longer be undone" in row
    assert Reminder.objects.get(pk=review.pk).status == ReminderStatus.DONE


def test_someone_elses_reminder_cannot_be_undone(browser_client, review, therapist):
    response = browser_client(therapist).post(f"/inbox/{review.public_id}/undo-done/")
    assert response.status_code == 404
