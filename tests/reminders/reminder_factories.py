"""Factories for the outbox and team messages (issue 3)."""

import factory
from django.utils import timezone

from reminders.models import Reminder, ReminderKind, ReminderStatus, TeamMessage
from tests.factories import PatientFactory, UserFactory


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    recipient = factory.SubFactory(UserFactory, is_prescriber=True)
    patient = factory.SubFactory(PatientFactory)
    kind = ReminderKind.CARE_PLAN_REVIEW
    subject_type = "careplans.careplan"
    subject_id = factory.Sequence(lambda n: f"subject-{n}")
    due_date = factory.LazyFunction(timezone.localdate)
    detail = "Care plan review due"
    status = ReminderStatus.PENDING
    urgent = factory.LazyAttribute(lambda r: r.kind == ReminderKind.SAFETY_ALERT)


class TeamMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMessage

    patient = factory.SubFactory(PatientFactory)
    author = factory.SubFactory(UserFactory, is_prescriber=True)
    body = "Did sleep worsen after the increase?"
