"""factory_boy factories for the foundation's models. Apps add theirs in tests/<app>/factories.py."""

from collections.abc import Iterable
from datetime import date

import factory
from django.utils import timezone
from faker.providers.person.en_US import Provider as PatientNames
from faker.providers.person.fi_FI import Provider as StaffNames

from careplans.models import CarePlan, CareTeamMember, Goal, GoalDomain, Patient, RelapsePreventionPlan, TeamRole
from clinic.models import User

PASSWORD = "correct horse battery staple"  # noqa: S105


def _names(*pools: Iterable[str]) -> set[str]:
    return {name for pool in pools for name in pool if name.isascii()}  # lists, or OrderedDicts of weights


# Patients are named from Faker's en_US names, staff from its Finnish ones without any en_US
# name: "the patient's name is not on this page" must not fail because the signed-in user's
# random name in the header happened to be the patient's too ("Aaron Lopez" and Mr Lopez).
_PATIENT_NAMES = _names(PatientNames.first_names, PatientNames.last_names)
STAFF_FIRST_NAMES = sorted(_names(StaffNames.first_names) - _PATIENT_NAMES)
STAFF_LAST_NAMES = sorted(_names(StaffNames.last_names) - _PATIENT_NAMES)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("random_element", elements=STAFF_FIRST_NAMES)
    last_name = factory.Faker("random_element", elements=STAFF_LAST_NAMES)
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    birth_date = date(1985, 6, 15)


class CareTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamMember

    patient = factory.SubFactory(PatientFactory)
    user = factory.SubFactory(UserFactory, is_prescriber=True)
    role = TeamRole.PRESCRIBER
    started_at = factory.LazyFunction(timezone.now)


class CarePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlan
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    summary = "Shared formulation."
    relapse = factory.RelatedFactory("tests.factories.RelapsePlanFactory", factory_related_name="care_plan")


class RelapsePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelapsePreventionPlan

    care_plan = factory.SubFactory(CarePlanFactory, relapse=None)


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    care_plan = factory.SubFactory(CarePlanFactory)
    domain = GoalDomain.SYMPTOM
    description = "Reduce depressive symptoms"
    target = "PHQ-9 below 5"
