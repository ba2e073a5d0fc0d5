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
