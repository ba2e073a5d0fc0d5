"""Delivering the outbox (issue 3, SECURITY.md CE-1..CE-6, DP-2, LG-1).

The mail server is the outside world: tests use Django's locmem outbox, or a backend
below that fails the way SMTP servers fail. Our code is never mocked.
"""

import contextlib
import logging
import smtplib
import threading
import uuid
from datetime import timedelta
from typing import ClassVar

import pytest
import time_machine
from celery.signals import task_prerun
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from clinic.celery import app as celery_app
from reminders import delivery, team_messages
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.outbox import ReminderDraft, reminders_write
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory, UserFactory
from tests.reminders.reminder_factories import ReminderFactory

NOW = timezone.make_aware(timezone.datetime(2026, 12, 1, 9, 0))


class FlakyBackend(LocmemBackend):
    """An SMTP server that fails the next sends with the queued errors, then accepts mail."""

    errors: ClassVar[list[Exception]] = []

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if FlakyBackend.errors:
            raise FlakyBackend.errors.pop(0)
        return super().send_messages(messages)


@pytest.fixture
def flaky_smtp(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.reminders.test_reminders_delivery.FlakyBackend"
    FlakyBackend.errors = []
    yield FlakyBackend.errors
    FlakyBackend.errors = []


@pytest.fixture
def eager_celery():  # type: ignore[no-untyped-def]
    """Tasks run in-process even when REDIS_URL is set (as they do under `make run`)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _count_in(body: str) -> int:
    return int(body.split("You have ", 1)[1].split(" ", 1)[0])


def test_three_new_reminders_make_one_email_with_a_count_and_a_link(frozen, prescriber):
    ReminderFactory.create_batch(3, recipient=prescriber)

    outcome = delivery.reminders_deliver_to(recipient_id=prescriber.pk)

    assert outcome.sent == 3
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [prescriber.email]
    assert message.subject == "Tandem: 3 new reminders"
    assert "You have 3 new reminders in your Tandem inbox." in message.body
    assert "http://127.0.0.1:8000/inbox/" in message.body
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}
    assert all(r.sent_at == NOW for r in Reminder.objects.all())


def test_delivering_again_sends_nothing_more(frozen, prescriber):
    ReminderFactory.create_batch(2, recipient=prescriber)
    delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    assert len(mail.outbox) == 1


def test_reminders_due_later_wait_for_their_day(frozen, prescriber):
    ReminderFactory(recipient=prescriber, due_date=NOW.date() + timedelta(days=3))
    assert delivery.recipients_to_deliver() == []
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 0
    frozen.move_to(NOW + timedelta(days=3))
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 1


def test_each_recipient_gets_their_own_batch(frozen, prescriber, therapist, eager_celery):
    ReminderFactory.create_batch(2, recipient=prescriber)
    ReminderFactory(recipient=therapist)
    from reminders.tasks import reminders_dispatch_task

    reminders_dispatch_task.delay()

    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        (prescriber.email, "Tandem: 2 new reminders"),
        (therapist.email, "Tandem: 1 new reminder"),
    ]


def test_safety_alert_is_emailed_as_soon_as_its_transaction_commits(
    frozen, patient, prescriber, therapist, eager_celery, django_capture_on_commit_callbacks
):
    ReminderFactory(recipient=prescriber)  # a routine one waits for the batch
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reminders_write(
            [
                ReminderDraft(
                    recipient_id=user.pk,
                    patient_id=patient.pk,
                    kind=ReminderKind.SAFETY_ALERT,
                    subject_type="outcomes.assessment",
                    subject_id="a-1",
                    due_date=NOW.date(),
                    detail="PHQ-9 item 9 answered above 0",
                )
                for user in (prescriber, therapist)
            ]
        )
        assert mail.outbox == []  # nothing leaves before the commit

    assert sorted(m.to[0] for m in mail.outbox) == [prescriber.email, therapist.email]
    assert {m.subject for m in mail.outbox} == {"Tandem: urgent reminder waiting in your inbox"}
    assert all("You have 1 new reminder" in m.body for m in mail.outbox)
    assert Reminder.objects.get(recipient=prescriber, urgent=False).status == ReminderStatus.PENDING


def test_rolled_back_clinical_change_leaves_no_reminder_and_no_email(
    patient, prescriber, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        reminders_write(
            [
                ReminderDraft(
                    recipient_id=prescriber.pk,
                    patient_id=patient.pk,
                    kind=ReminderKind.SAFETY_ALERT,
                    subject_type="outcomes.assessment",
                    subject_id="a-2",
                    due_date=timezone.localdate(),
                )
            ]
        )
        raise RuntimeError("the clinical write failed")
    assert not Reminder.objects.exists()
    assert mail.outbox == []


def test_transient_smtp_error_retries_with_backoff_then_delivers(frozen, prescriber, flaky_smtp):
    ReminderFactory.create_batch(2, recipient=prescriber)
    flaky_smtp.append(smtplib.SMTPResponseException(451, b"try again later"))

    with pytest.raises(delivery.TransientDeliveryError) as raised:
        delivery.reminders_deliver_to(recipient_id=prescriber.pk)

    assert raised.value.retry_in == 60
    assert set(Reminder.objects.values_list("status", "attempts")) == {(ReminderStatus.PENDING, 1)}
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 0  # still backing off
    frozen.shift(61)
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 2
    assert len(mail.outbox) == 1


def test_dropped_connection_is_transient_and_backoff_doubles(frozen, prescriber, flaky_smtp):
    ReminderFactory(recipient=prescriber)
    flaky_smtp.extend([smtplib.SMTPServerDisconnected("gone"), ConnectionRefusedError()])
    with pytest.raises(delivery.TransientDeliveryError):
        delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    frozen.shift(61)
    with pytest.raises(delivery.TransientDeliveryError) as raised:
        delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    assert raised.value.retry_in == 120
    frozen.shift(121)
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 1


def test_reminder_fails_after_the_last_attempt_and_stays_in_the_inbox(
    frozen, patient, prescriber, flaky_smtp, settings, caplog
):
    settings.REMINDER_MAX_ATTEMPTS = 3
    reminder = ReminderFactory(recipient=prescriber, patient=patient)
    flaky_smtp.extend([TimeoutError(), TimeoutError(), TimeoutError()])
    for wait in (0, 61, 121):
        frozen.shift(wait)
        with contextlib.suppress(delivery.TransientDeliveryError):
            delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 3)
    assert "gave up" in caplog.text and str(reminder.public_id) in caplog.text
    from reminders.inbox import inbox_open_count

    assert inbox_open_count(prescriber) == 1


def test_permanent_smtp_refusal_fails_at_once(frozen, prescriber, flaky_smtp):
    ReminderFactory(recipient=prescriber)
    flaky_smtp.append(smtplib.SMTPRecipientsRefused({prescriber.email: (550, b"no such user")}))
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).failed == 1
    assert Reminder.objects.get().status == ReminderStatus.FAILED


def test_recipient_without_email_address_still_gets_the_inbox_entry(frozen, db):
    user = UserFactory(is_therapist=True, email="")
    ReminderFactory(recipient=user)
    assert delivery.reminders_deliver_to(recipient_id=user.pk).sent == 1
    assert mail.outbox == []


def test_deactivated_recipient_is_not_emailed(frozen, db):
    user = UserFactory(is_therapist=True, is_active=False)
    ReminderFactory(recipient=user)
    assert delivery.reminders_deliver_to(recipient_id=user.pk).failed == 1
    assert mail.outbox == []


def test_acknowledging_while_the_email_is_in_flight_keeps_the_acknowledgement(frozen, prescriber):
    reminder = ReminderFactory(recipient=prescriber)
    claim = delivery.reminders_claim(recipient_id=prescriber.pk, now=timezone.now())
    assert claim is not None
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.ACKNOWLEDGED)
    assert delivery._mark(claim, status=ReminderStatus.SENT) == 0
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.ACKNOWLEDGED


def test_sweeper_requeues_rows_a_dead_worker_left_in_sending(frozen, prescriber, settings):
    settings.REMINDER_SENDING_TIMEOUT_SECONDS = 600
    stuck = ReminderFactory(recipient=prescriber)
    dead = delivery.reminders_claim(recipient_id=prescriber.pk, now=timezone.now())
    assert dead is not None
    fresh = ReminderFactory(recipient=prescriber, subject_id="fresh")
    frozen.shift(60)
    delivery.reminders_claim(recipient_id=prescriber.pk, now=timezone.now())  # a live worker's claim

    frozen.shift(9 * 60 + 1)  # the first claim is now 10 min old, the second 9 min
    assert delivery.reminders_sweep() == delivery.SweepResult(requeued=1, failed=0)

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    # The token stays: the resend is the same claim, with the same Message-ID.
    assert (stuck.status, stuck.claim_token) == (ReminderStatus.PENDING, dead.token)
    assert fresh.status == ReminderStatus.SENDING
    assert delivery.reminders_deliver_to(recipient_id=prescriber.pk).sent == 1
    assert mail.outbox[-1].extra_headers["Message-ID"] == delivery.message_id(dead.token)


@pytest.mark.postgres
def test_the_sweeper_reads_only_the_rows_in_sending_through_their_own_index(frozen, prescriber):
    """The outbox's index for the sweeper is partial (issue 14): the scan's millions of new
    pending rows are never written into it, and the sweeper's lookup still finds its rows by it."""
    ReminderFactory(recipient=prescriber)
    pending = ReminderFactory(recipient=prescriber, subject_id="pending")
    delivery.reminders_claim(recipient_id=prescriber.pk, now=timezone.now(), limit=1)
    stuck = Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=timezone.now() + timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = stuck.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "reminders_sending_idx" in plan, plan
    assert list(stuck.values_list("status", flat=True)) == [ReminderStatus.SENDING]
    pending.refresh_from_db()
    assert pending.status == ReminderStatus.PENDING


def test_sweeper_fails_rows_that_used_up_their_attempts(frozen, prescriber, settings):
    settings.REMINDER_MAX_ATTEMPTS = 1
    settings.REMINDER_SENDING_TIMEOUT_SECONDS = 600
    ReminderFactory(recipient=prescriber)
    delivery.reminders_claim(recipient_id=prescriber.pk, now=timezone.now())
    frozen.shift(601)
    assert delivery.reminders_sweep() == delivery.SweepResult(requeued=0, failed=1)


def test_overdue_alarm_names_reminder_ids_only_after_fifteen_minutes(frozen, patient, prescriber, caplog):
    caplog.set_level(logging.INFO)
    reminder = ReminderFactory(recipient=prescriber, patient=patient, due_date=NOW.date())
    frozen.shift(14 * 60)
    assert delivery.reminders_overdue_alarm() == []
    frozen.shift(2 * 60)  # the worker is stopped: nothing delivered 16 minutes on

    assert delivery.reminders_overdue_alarm() == [reminder.public_id]

    alerts = [r for r in caplog.records if r.name == "tandem.alerts"]
    assert len(alerts) == 1 and alerts[0].levelno == logging.ERROR
    assert str(reminder.public_id) in alerts[0].getMessage()
    assert patient.family_name not in caplog.text and patient.mrn not in caplog.text


def test_overdue_alarm_counts_from_when_a_reminder_was_written(frozen, prescriber):
    frozen.move_to(NOW + timedelta(hours=5))
    ReminderFactory(recipient=prescriber, due_date=NOW.date() - timedelta(days=2))  # written late
    assert delivery.reminders_overdue_alarm() == []
    frozen.shift(16 * 60)
    assert len(delivery.reminders_overdue_alarm()) == 1


def test_delivered_reminders_raise_no_alarm(frozen, prescriber):
    ReminderFactory(recipient=prescriber)
    delivery.reminders_deliver_to(recipient_id=prescriber.pk)
    frozen.shift(60 * 60)
    assert delivery.reminders_overdue_alarm() == []


def test_no_patient_data_in_emails_logs_or_task_arguments(  # SECURITY.md canary run: DP-2, LG-1, CE-5
    frozen, prescriber, therapist, eager_celery, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY-{uuid.uuid4()}"
    patient = PatientFactory(
        given_name=f"{canary}-given",
        family_name=f"{canary}-family",
        mrn=f"C{uuid.uuid4().hex[:20]}",
        email="canary@patient.test",
        phone="CANARY-555-0100",
    )
    for user, role in ((prescriber, "prescriber"), (therapist, "therapist")):
        CareTeamMemberFactory(patient=patient, user=user, role=role)
    CarePlanFactory(patient=patient, review_date=NOW.date(), summary=f"{canary}-summary")
    caplog.clear()  # from here on, only what our code logs
    task_calls: list[tuple] = []

    def record(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra):  # type: ignore[no-untyped-def]
        task_calls.append((sender.name, tuple(args or ()), dict(kwargs or {})))

    task_prerun.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            team_messages.team_message_send(patient=patient, actor=therapist, body=f"{canary}-message")
            reminders_write(
                [
                    ReminderDraft(
                        recipient_id=prescriber.pk,
                        patient_id=patient.pk,
                        kind=ReminderKind.SAFETY_ALERT,
                        subject_type="outcomes.assessment",
                        subject_id=str(uuid.uuid4()),
                        due_date=NOW.date(),
                        detail=f"{canary}-detail",
                    )
                ]
            )
        from reminders.tasks import reminders_scan_task, reminders_sweep_task

        reminders_scan_task.delay()
        frozen.shift(30 * 60)
        Reminder.objects.filter(recipient=therapist).update(status=ReminderStatus.PENDING)
        reminders_sweep_task.delay()
    finally:
        task_prerun.disconnect(record)

    assert Reminder.objects.filter(patient=patient).count() >= 4
    assert len(mail.outbox) >= 3
    secrets = [canary, patient.mrn, patient.email, patient.phone, "1985-06-15", therapist.last_name]
    for message in mail.outbox:
        raw = message.message().as_string()
        for secret in secrets:
            assert secret not in raw
    for secret in secrets:
        assert secret not in caplog.text
    assert task_calls, "the tasks ran"
    for _name, args, kwargs in task_calls:
        assert all(isinstance(value, int | bool) for value in [*args, *kwargs.values()])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_deliverers_racing_over_a_thousand_reminders_send_each_once(db):  # CE-2
    recipients = [UserFactory(is_therapist=True) for _ in range(100)]
    patient = PatientFactory()
    Reminder.objects.bulk_create(
        [
            Reminder(
                recipient=user,
                patient=patient,
                kind=ReminderKind.CARE_PLAN_REVIEW,
                subject_type="t",
                subject_id=str(n),
                due_date=timezone.localdate(),
            )
            for user in recipients
            for n in range(10)
        ]
    )
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def deliver(order: list) -> None:
        try:
            barrier.wait()
            for user in order:
                delivery.reminders_deliver_to(recipient_id=user.pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    orders = [recipients, list(reversed(recipients)), recipients[50:] + recipients[:50]]
    threads = [threading.Thread(target=deliver, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sum(_count_in(m.body) for m in mail.outbox) == 1000
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in recipients)
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 1000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_recipient_delivered_from_eight_threads_gets_one_email(db):
    user = UserFactory(is_prescriber=True)
    ReminderFactory.create_batch(5, recipient=user)
    barrier = threading.Barrier(8)

    def deliver() -> None:
        try:
            barrier.wait()
            delivery.reminders_deliver_to(recipient_id=user.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [m.subject for m in mail.outbox] == ["Tandem: 5 new reminders"]
