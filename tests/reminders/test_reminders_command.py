"""`manage.py run_reminders`: what cron calls where no Celery beat runs (issue 3)."""

import io
import logging
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from reminders.models import Reminder, ReminderKind, ReminderStatus


@pytest.fixture
def due_plan(care_plan):  # type: ignore[no-untyped-def]
    care_plan.review_date = timezone.localdate()
    care_plan.save()
    return care_plan


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("run_reminders", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_run_reminders_scans_and_emails_each_team_member_once(due_plan, prescriber, therapist, care_manager):
    output = _run()
    assert "rule care_plan_review: 3 reminders offered" in output
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in (prescriber, therapist, care_manager))
    reviews = Reminder.objects.filter(kind=ReminderKind.CARE_PLAN_REVIEW)
    assert set(reviews.values_list("status", flat=True)) == {ReminderStatus.SENT}

    _run()  # cron fires again: nothing new
    assert len(mail.outbox) == 3 and reviews.count() == 3


def test_run_reminders_for_a_given_date_without_delivery(due_plan):
    _run("--date", (timezone.localdate() - timedelta(days=1)).isoformat(), "--no-deliver")
    assert not Reminder.objects.filter(kind=ReminderKind.CARE_PLAN_REVIEW).exists()
    _run("--no-deliver")
    assert Reminder.objects.filter(status=ReminderStatus.PENDING, kind=ReminderKind.CARE_PLAN_REVIEW).count() == 3
    assert mail.outbox == []


def test_run_reminders_raises_the_overdue_alarm_when_mail_cannot_keep_up(due_plan, caplog):
    caplog.set_level(logging.ERROR, logger="tandem.alerts")
    _run("--no-deliver")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        err = io.StringIO()
        call_command("run_reminders", "--no-scan", "--no-deliver", stdout=io.StringIO(), stderr=err)
    assert "ALERT: 3 reminders overdue" in err.getvalue()
    assert "OVERDUE reminders: 3" in caplog.text
