"""factory_boy factories for the foundation's models. Apps add theirs in tests/<app>/factories.py."""

from datetime import date

import factory
from django.utils import timezone

from careplans.models import CarePlan, CareTeamMember, Goal, GoalDomain, Patient, RelapsePreventionPlan, TeamRole
from clinic.models import User

PASSWORD = "correct horse battery staple"  # noqa: S105


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
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
