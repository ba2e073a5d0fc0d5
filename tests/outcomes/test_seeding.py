"""The demo seeder gives demo patients months of PHQ-9/GAD-7 history showing every flag."""

import random

import pytest

from careplans.models import TeamRole
from careplans.seeding import DemoClinic, demo_seeders
from outcomes.models import Assessment, SafetyAlert
from outcomes.seeding import seed_outcomes
from outcomes.selectors import caseload_outcomes
from tests.factories import CareTeamMemberFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_seeder_is_registered_after_medications_and_therapy():
    seeders = demo_seeders()
    others = [s for s in seeders if s.__module__ in ("medications.seeding", "therapy.seeding")]
    assert seed_outcomes in seeders
    assert all(seeders.index(other) < seeders.index(seed_outcomes) for other in others)


def test_seeded_histories_show_responding_remitting_not_improving_and_item_9(prescriber, care_manager):
    patients = []
    for _ in range(10):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        CareTeamMemberFactory(patient=patient, user=care_manager, role=TeamRole.CARE_MANAGER)
        patients.append(patient)
    seed_outcomes(DemoClinic(staff={}, patients=patients, rng=random.Random(7)))
    assert Assessment.objects.filter(instrument="PHQ-9").count() > 60
    assert Assessment.objects.filter(instrument="GAD-7").exists()
    rows = caseload_outcomes(user=prescriber)
    flags = [row.phq9 for row in rows if row.phq9]
    assert any(f.response and not f.remission for f in flags)
    assert any(f.remission for f in flags)
    assert any(f.not_improving for f in flags)
    assert set(SafetyAlert.objects.values_list("status", flat=True)) == {"open", "resolved"}
