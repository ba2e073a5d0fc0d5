import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from careplans.models import CarePlan, Patient
from clinic.audit import audit_verify
from clinic.models import User


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", patients=6)
    counts = (User.objects.count(), Patient.objects.count(), CarePlan.objects.count())
    call_command("seed_demo", patients=6)
    assert (User.objects.count(), Patient.objects.count(), CarePlan.objects.count()) == counts
    assert counts[1] == 6 and counts[2] == 6
    assert User.objects.filter(username="dr.lindqvist", is_prescriber=True, is_therapist=True).exists()
    assert audit_verify() == []


@pytest.mark.django_db
def test_seed_demo_refuses_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", patients=1)


@pytest.mark.django_db
def test_a_fresh_demo_has_no_overdue_delivery_alarm(settings, mailoutbox):
    """Issue 16 item 9: seed_demo used to leave "111 reminders overdue" until run_reminders ran."""
    from datetime import timedelta

    from django.utils import timezone

    from reminders import delivery
    from reminders.models import Reminder

    settings.DEBUG = True
    call_command("seed_demo", patients=8)
    assert Reminder.objects.exists()  # the demo has reminders in its inboxes
    later = timezone.now() + timedelta(hours=2)  # well past REMINDER_OVERDUE_MINUTES
    status = delivery.delivery_status(now=later)
    assert status.overdue_count == 0 and status.overdue_ids == []
    assert mailoutbox, "the seeded reminders were e-mailed (count and link only)"
