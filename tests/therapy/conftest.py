"""Therapy fixtures: a course for the conftest patient, a co-therapist on the same team."""

from datetime import timedelta

import pytest
from django.utils import timezone

from careplans.models import GoalStatus, TeamRole
from tests.factories import CareTeamMemberFactory, GoalFactory, UserFactory
from tests.therapy.factories import modality_catalog_ensure
from therapy import services
from therapy.models import Modality


@pytest.fixture(autouse=True)
def _modality_catalog(request):  # type: ignore[no-untyped-def]
    """A browser test's flush may have emptied the migration-seeded catalog in this worker."""
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        modality_catalog_ensure()


@pytest.fixture
def cbt(db) -> Modality:  # type: ignore[no-untyped-def]
    modality_catalog_ensure()
    return Modality.objects.get(code="CBT")


@pytest.fixture
def goals(care_plan):  # type: ignore[no-untyped-def]
    return [
        GoalFactory(care_plan=care_plan, description="Reduce depressive symptoms", status=GoalStatus.ACTIVE),
        GoalFactory(care_plan=care_plan, description="Return to work three days a week", status=GoalStatus.ACTIVE),
    ]


@pytest.fixture
def course(patient, therapist, cbt, goals):  # type: ignore[no-untyped-def]
    return services.course_open(
        patient=patient,
        actor=therapist,
        modality=cbt,
        goals=goals,
        started_on=timezone.localdate() - timedelta(days=365),
    )


@pytest.fixture
def co_therapist(patient):  # type: ignore[no-untyped-def]
    """A second therapist on the same care team (e.g. co-leading family work)."""
    user = UserFactory(username="cotherapist", is_therapist=True)
    CareTeamMemberFactory(patient=patient, user=user, role=TeamRole.THERAPIST)
    return user


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="root", is_superuser=True, is_staff=True)
