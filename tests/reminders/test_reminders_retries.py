"""Retries that survive outages and restarts (issue 15, SECURITY.md CE-2, CE-3, CE-6).

The retry timer is the outbox row's `next_attempt_at`; no broker message waits with a
countdown. A resend carries the Message-ID of its claim. After the mail server accepted a
mail, marking the rows sent is retried on a fresh database connection. A reminder that
gave up after 24 h alerts the clinic admins and can be retried from the delivery page or
`manage.py retry_failed_reminders`.
"""

import contextlib
import smtplib
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from clinic.celery import app as celery_app
from reminders import delivery, inbox
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.tasks import reminder_deliver_task, reminders_sweep_task
from tests.reminders.reminder_factories import ReminderFactory
from tests.reminders.test_reminders_delivery import FlakyBackend, flaky_smtp, frozen  # noqa: F401 (fixtures)


def test_default_backoff_is_capped_and_keeps_retrying_for_at_least_24_hours():
    waits = [delivery.backoff_seconds(n) for n in range(1, delivery.max_attempts())]
    assert waits[:3] == [60, 120, 240]
    assert max(waits) == 3600  # capped at an hour
    assert delivery.retry_span() >= timedelta(hours=24)


def test_a_killed_workers_rows_are_retried_within_five_minutes_with_the_default_settings():
    schedule = django_settings.CELERY_BEAT_SCHEDULE["reminders-sweep"]
    sweep_every = schedule["schedule"].total_seconds()
    lease = delivery.sending_timeout().total_seconds()
    hard_limit = reminder_deliver_task.time_limit
    assert hard_limit < lease, "a live delivery is never swept"
    # killed just after claiming: the lease runs out, the next sweep dispatches, one SMTP exchange
    assert lease + sweep_every + django_settings.EMAIL_TIMEOUT <= 5 * 60 - 30  # CE-3, with slack
    # the sweep never waits behind delivery tasks
    route = celery_app.amqp.router.route({}, reminders_sweep_task.name)
    assert route["queue"].name == "reminders-sweep"
    assert {q.name for q in celery_app.amqp.queues.values()} >= {"celery", "reminders-sweep"}


def test_transient_failure_waits_in_the_row_not_in_the_broker(frozen, prescriber, flaky_smtp):  # noqa: F811
    reminder = ReminderFactory(recipient=prescriber)
    flaky_smtp.append(smtplib.SMTPServerDisconnected("down"))
    with pytest.raises(delivery.TransientDeliveryError):
        delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING
    assert reminder.next_attempt_at == timezone.now() + timedelta(seconds=60)
    assert delivery.recipients_to_retry() == []  # not before its time
    frozen.shift(61)
    assert delivery.recipients_to_retry() == [prescriber.pk]
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 1


def test_the_delivery_task_publishes_no_countdown_retry(frozen, prescriber, flaky_smtp, monkeypatch):  # noqa: F811
    ReminderFactory(recipient=prescriber)
    flaky_smtp.append(TimeoutError())
    published: list = []
    monkeypatch.setattr(celery_app.Task, "apply_async", lambda *a, **k: published.append((a, k)))
    reminder_deliver_task.run(prescriber.pk)  # the task body, as a worker runs it
    assert published == []
    assert Reminder.objects.get().next_attempt_at is not None


def test_a_resend_carries_the_same_message_id_as_the_first_try(frozen, prescriber, flaky_smtp):  # noqa: F811
    first = ReminderFactory(recipient=prescriber)
    claim = delivery.reminders_claim(recipient_id=prescriber.pk, now=timezone.now())
    assert claim is not None
    # the worker died after the mail server accepted it: the lease runs out, the sweep takes it back
    ReminderFactory(recipient=prescriber, subject_id="later")  # a new row for the same recipient
    frozen.shift(delivery.sending_timeout().total_seconds() + 1)
    assert delivery.reminders_sweep().requeued == 1
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 1
    resend = mail.outbox[-1]
    assert resend.extra_headers["Message-ID"] == delivery.message_id(claim.token)
    assert resend.subject == "Tandem: 1 new reminder"  # the same rows: the same count
    first.refresh_from_db()
    assert first.status == ReminderStatus.SENT
    # the new row goes in an e-mail of its own, with a new Message-ID
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 1
    assert mail.outbox[-1].extra_headers["Message-ID"] != resend.extra_headers["Message-ID"]
    assert mail.outbox[-1].message()["Message-ID"].startswith("<reminders.")


class _DropConnectionOnce:
    """The database connection drops right after the mail server accepted the mail."""

    def __init__(self) -> None:
        self.armed = False
        self.dropped = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if self.armed and sql.lstrip().upper().startswith("UPDATE"):
            self.armed = False
            self.dropped += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)  # outside a transaction, as in a worker
def test_marking_sent_is_retried_on_a_fresh_connection_so_nothing_is_resent(prescriber, settings, monkeypatch):
    settings.REMINDER_MARK_SENT_PAUSE_SECONDS = 0
    ReminderFactory(recipient=prescriber)
    fault = _DropConnectionOnce()
    original = FlakyBackend.send_messages

    def accept_then_drop(self, messages):  # type: ignore[no-untyped-def]
        sent = original(self, messages)
        fault.armed = True
        return sent

    monkeypatch.setattr(FlakyBackend, "send_messages", accept_then_drop)
    settings.EMAIL_BACKEND = "tests.reminders.test_reminders_delivery.FlakyBackend"
    closed: list[bool] = []
    real_close = connection.close
    monkeypatch.setattr(connection, "close", lambda: (closed.append(True), real_close())[1])
    with connection.execute_wrapper(fault):
        outcome = delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    assert (fault.dropped, outcome.sent, len(mail.outbox)) == (1, 1, 1)
    assert closed, "the mark was retried on a new connection"
    assert Reminder.objects.get().status == ReminderStatus.SENT
    assert delivery.reminders_sweep().requeued == 0


def test_giving_up_alerts_the_clinic_admins_with_counts_only(
    frozen,  # noqa: F811
    patient,
    prescriber,
    clinic_admin,
    flaky_smtp,  # noqa: F811
    settings,
    caplog,
):
    settings.REMINDER_MAX_ATTEMPTS = 2
    ReminderFactory(recipient=prescriber, patient=patient, detail="CANARY-detail")
    flaky_smtp.extend([TimeoutError(), TimeoutError()])
    for wait in (0, 61):
        frozen.shift(wait)
        with contextlib.suppress(delivery.TransientDeliveryError):
            delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    assert Reminder.objects.get(recipient=prescriber).status == ReminderStatus.FAILED

    alarm = Reminder.objects.get(recipient=clinic_admin)
    assert (alarm.kind, alarm.urgent, alarm.patient_id) == (ReminderKind.DELIVERY_FAILED, True, None)
    assert inbox.reminder_link(alarm) == reverse("reminders:reminder_delivery")
    assert "FAILED" in caplog.text
    # the alarm is e-mailed at once (urgent), with the count of failed reminders and nothing else
    assert delivery.recipients_to_retry() == [clinic_admin.pk]
    assert delivery.reminders_deliver_to(recipient_id=clinic_admin.pk).sent == 1
    message = mail.outbox[-1]
    assert message.to == [clinic_admin.email]
    assert message.subject == "Tandem: 1 reminder e-mail failed"
    assert reverse("reminders:reminder_delivery") in message.body
    assert "CANARY" not in message.body and patient.family_name not in message.body
    # a second failure the same day does not pile up alarms
    delivery.delivery_failed_alarm()
    assert Reminder.objects.filter(recipient=clinic_admin).count() == 1


def _failed(recipient, n=2):  # type: ignore[no-untyped-def]
    return [
        ReminderFactory(recipient=recipient, subject_id=f"f{k}", status=ReminderStatus.FAILED, attempts=30)
        for k in range(n)
    ]


def test_clinic_admin_retries_failed_reminders_from_the_delivery_page(client, clinic_admin, prescriber):
    rows = _failed(prescriber)
    client.force_login(clinic_admin)
    page = client.get(reverse("reminders:reminder_delivery"))
    assert reverse("reminders:reminder_delivery_retry").encode() in page.content
    response = client.post(reverse("reminders:reminder_delivery_retry"))
    assert response.status_code == 302
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.attempts, row.next_attempt_at) == (ReminderStatus.PENDING, 0, None)


def test_only_clinic_admins_may_retry(client, prescriber):
    _failed(prescriber, 1)
    client.force_login(prescriber)
    assert client.post(reverse("reminders:reminder_delivery_retry")).status_code == 403
    assert client.get(reverse("reminders:reminder_delivery_retry")).status_code in (403, 405)
    assert Reminder.objects.get().status == ReminderStatus.FAILED


def test_retry_failed_reminders_command(db, prescriber):
    first, second = _failed(prescriber)
    out = StringIO()
    call_command("retry_failed_reminders", "--id", str(first.public_id), stdout=out)
    assert "1 failed reminders put back to pending" in out.getvalue()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ReminderStatus.PENDING, ReminderStatus.FAILED)
    call_command("retry_failed_reminders", "--deliver", stdout=out)
    assert "delivered 2 reminders" in out.getvalue()
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Tandem: 2 new reminders"
