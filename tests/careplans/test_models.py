"""One test per database constraint, and the rules that live on the models (STYLE.md rule 6)."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from careplans.diagnoses import diagnoses_from_lines
from careplans.models import CarePlan, CareTeamMember, Goal, Patient
from clinic.models import HardDeleteRefused
from reminders.models import Reminder
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _violates(make):  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_patient_status_must_be_known():
    _violates(lambda: PatientFactory(status="deceased?"))


def test_care_team_role_must_be_known():
    _violates(lambda: CareTeamMemberFactory(role="chef"))


def test_membership_cannot_end_before_it_starts():
    now = timezone.now()
    _violates(lambda: CareTeamMemberFactory(started_at=now, ended_at=now - timedelta(days=1)))


def test_one_active_membership_per_user_and_role():
    member = CareTeamMemberFactory()
    _violates(lambda: CareTeamMemberFactory(patient=member.patient, user=member.user, role=member.role))
    member.ended_at = timezone.now()
    member.save()
    CareTeamMemberFactory(patient=member.patient, user=member.user, role=member.role)  # rejoining is fine


def test_care_plan_status_must_be_known():
    _violates(lambda: CarePlanFactory(status="maybe"))


def test_care_plan_version_is_positive():
    _violates(lambda: CarePlanFactory(version=0))


def test_one_open_care_plan_per_patient():
    plan = CarePlanFactory()
    _violates(lambda: CarePlanFactory(patient=plan.patient))
    CarePlan.objects.filter(pk=plan.pk).update(status="completed")
    CarePlanFactory(patient=plan.patient)  # a new plan once the old one is completed


def test_goal_domain_and_status_must_be_known():
    _violates(lambda: GoalFactory(domain="spiritual"))
    _violates(lambda: GoalFactory(status="paused"))


def test_goal_needs_a_description():
    _violates(lambda: GoalFactory(description=""))


def test_reminder_is_unique_per_kind_subject_due_date_and_recipient():
    patient, user = PatientFactory(), UserFactory()
    row = dict(
        recipient=user,
        patient=patient,
        kind="care_plan_review",
        subject_type="careplans.careplan",
        subject_id="x",
        due_date=date(2026, 12, 1),
    )
    Reminder.objects.create(**row)
    _violates(lambda: Reminder.objects.create(**row))


def test_reminder_kind_and_status_must_be_known_and_snooze_needs_a_date():
    user = UserFactory()
    base = dict(recipient=user, subject_type="t", subject_id="1", due_date=date(2026, 12, 1))
    _violates(lambda: Reminder.objects.create(kind="gossip", **base))
    _violates(lambda: Reminder.objects.create(kind="care_plan_review", status="lost", **base))
    _violates(lambda: Reminder.objects.create(kind="care_plan_review", status="snoozed", **base))


def test_clinical_rows_are_never_hard_deleted():
    goal = GoalFactory()
    with pytest.raises(HardDeleteRefused):
        goal.delete()
    with pytest.raises(HardDeleteRefused):
        Goal.objects.all().delete()
    assert Goal.objects.count() == 1


def test_entered_in_error_rows_are_hidden_but_kept(prescriber, care_plan):
    from careplans import services

    goal = GoalFactory(care_plan=care_plan)
    services.goal_enter_in_error(goal=goal, actor=prescriber, reason="wrong patient")
    assert not Goal.objects.filter(pk=goal.pk).exists()
    kept = Goal.all_records.get(pk=goal.pk)
    assert kept.entered_in_error_by == prescriber and kept.entered_in_error_reason == "wrong patient"


def test_patient_str_never_contains_the_name():
    patient = PatientFactory(given_name="Zelda", family_name="Quincy")
    assert "Zelda" not in str(patient) and "Quincy" not in str(patient)


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2000, 3, 10), date(2026, 3, 9), 25),
        (date(2000, 3, 10), date(2026, 3, 10), 26),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
    ],
)
def test_age_counts_whole_years(born, today, age):
    assert Patient(birth_date=born).age_on(today) == age


def test_diagnosis_lines_split_code_from_text():
    assert diagnoses_from_lines("f41.1 Generalized anxiety disorder\n\nPoor sleep\nZ63.0: Relationship distress") == [
        {"code": "F41.1", "description": "Generalized anxiety disorder"},
        {"code": "", "description": "Poor sleep"},
        {"code": "Z63.0", "description": "Relationship distress"},
    ]


def test_care_team_member_str_has_no_names():
    member = CareTeamMemberFactory()
    assert member.user.last_name not in str(member)
    assert isinstance(CareTeamMember.objects.first(), CareTeamMember)
