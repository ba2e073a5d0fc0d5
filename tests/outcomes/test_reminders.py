"""Daily outcome reminders: measurement_due at 4 weeks, not_improving at week 8; set-based."""

from datetime import date, timedelta

import pytest
import time_machine

from careplans.models import Patient, PatientStatus, TeamRole
from outcomes.reminders import measurement_due, measurement_due_query, not_improving, not_improving_query
from reminders.models import Reminder
from reminders.outbox import reminder_rules, reminders_write
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory, UserFactory
from tests.outcomes.helpers import record

pytestmark = pytest.mark.django_db
START = date(2025, 9, 1)


def weeks(n: int) -> date:
    return START + timedelta(weeks=n)


def test_rules_are_registered_with_the_outbox():
    rules = reminder_rules()
    # Registered set-based (issue 14): one INSERT ... SELECT of the rows measurement_due builds.
    assert rules["outcomes.measurement_due"] is measurement_due_query
    assert rules["outcomes.not_improving"] is not_improving_query


def test_measurement_due_goes_to_the_care_manager_4_weeks_after_the_last_phq9(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 12, START)
    assert measurement_due(weeks(4) - timedelta(days=1)) == []
    drafts = measurement_due(weeks(4))
    assert [(d.recipient_id, d.kind, d.due_date, d.subject_id) for d in drafts] == [
        (care_manager.pk, "measurement_due", weeks(4), str(patient.public_id))
    ]
    # Still due a week later: same row (same due date), so writing it again is a no-op.
    reminders_write(drafts)
    reminders_write(measurement_due(weeks(5)))
    assert Reminder.objects.count() == 1


def test_a_new_phq9_stops_the_measurement_reminder(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 12, START)
    record(patient, care_manager, "PHQ-9", 10, weeks(3))
    assert measurement_due(weeks(5)) == []
    assert [d.due_date for d in measurement_due(weeks(7))] == [weeks(7)]


def test_never_measured_patient_is_due_4_weeks_after_registration(patient, care_manager):
    registered = patient.created_at.date()
    assert measurement_due(registered + timedelta(days=27)) == []
    assert [d.due_date for d in measurement_due(registered + timedelta(days=28))] == [registered + timedelta(days=28)]


def test_a_gad7_only_plan_is_measured_by_its_gad7(patient, care_manager, care_plan):
    GoalFactory(care_plan=care_plan, target="GAD-7 below 10")
    record(patient, care_manager, "GAD-7", 12, START)
    assert measurement_due(weeks(3)) == []
    assert [d.detail for d in measurement_due(weeks(4))] == ["No GAD-7 for 4 weeks: time to measure again."]


def test_discharged_patients_get_no_measurement_reminder(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 12, START)
    patient.status = PatientStatus.DISCHARGED
    patient.save()
    assert measurement_due(weeks(8)) == []


def test_team_without_care_manager_gets_the_measurement_reminder(prescriber, therapist):
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
    CareTeamMemberFactory(patient=patient, user=therapist, role=TeamRole.THERAPIST)
    record(patient, prescriber, "PHQ-9", 12, START)
    assert {d.recipient_id for d in measurement_due(weeks(6))} == {prescriber.pk, therapist.pk}


def test_not_improving_goes_to_the_prescriber_at_week_8(patient, prescriber, care_manager):
    record(patient, care_manager, "PHQ-9", 18, START)
    record(patient, care_manager, "PHQ-9", 14, weeks(6))
    assert not_improving(weeks(8) - timedelta(days=1)) == []
    drafts = not_improving(weeks(8))
    assert [(d.recipient_id, d.kind, d.due_date) for d in drafts] == [(prescriber.pk, "not_improving", weeks(8))]
    # Still not improving at week 14: the same week-8 row, so no duplicate.
    reminders_write(drafts)
    reminders_write(not_improving(weeks(14)))
    assert Reminder.objects.filter(kind="not_improving").count() == 1


@pytest.mark.parametrize(("latest", "flagged"), [(10, False), (9, False), (4, False), (11, True), (18, True)])
def test_not_improving_only_below_half_reduction_and_outside_remission(patient, care_manager, latest, flagged):
    record(patient, care_manager, "PHQ-9", 20 if latest != 4 else 6, START)
    record(patient, care_manager, "PHQ-9", latest, weeks(9))
    assert bool(not_improving(weeks(11))) is flagged


def test_rules_are_set_based(prescriber, care_manager, django_assert_max_num_queries):
    for n in range(25):
        p = PatientFactory()
        CareTeamMemberFactory(patient=p, user=prescriber, role=TeamRole.PRESCRIBER)
        CareTeamMemberFactory(patient=p, user=care_manager, role=TeamRole.CARE_MANAGER)
        CarePlanFactory(patient=p)
        record(p, care_manager, "PHQ-9", 16, START)
        record(p, care_manager, "PHQ-9", 15 if n % 2 else 5, weeks(2))
    with django_assert_max_num_queries(2):
        due = measurement_due(weeks(12))
    with django_assert_max_num_queries(2):
        stuck = not_improving(weeks(12))
    assert len(due) == 25 and len(stuck) == 12


def test_no_reminders_for_someone_who_left_the_team(patient, prescriber, care_manager):
    record(patient, care_manager, "PHQ-9", 18, START)
    with time_machine.travel(weeks(1)):
        membership = patient.care_team.get(user=prescriber)
        membership.ended_at = membership.started_at + timedelta(days=1)
        membership.save()
    new_prescriber = UserFactory(is_prescriber=True)
    CareTeamMemberFactory(patient=patient, user=new_prescriber, role=TeamRole.PRESCRIBER)
    assert [d.recipient_id for d in not_improving(weeks(11))] == [new_prescriber.pk]


def _as_rows(drafts):  # type: ignore[no-untyped-def]
    return {(d.recipient_id, d.patient_id, d.kind, d.subject_type, d.subject_id, d.due_date, d.detail) for d in drafts}


def test_not_improving_sql_selects_the_reference_rows_at_every_boundary(prescriber, care_manager):
    """The LATERAL statement (issue 14) against the annotate_outcomes reference (`not_improving`):
    an episode restarted by a completed plan, an entered-in-error and a future-dated score, a
    discharged patient, an ended membership, an inactive prescriber, two prescribers, and the
    `patients=` restriction of the incremental rescan."""
    from datetime import UTC, datetime

    from django.utils import timezone

    from careplans.models import CarePlan, CarePlanStatus, CareTeamMember
    from outcomes.models import Assessment

    today = weeks(12)
    flagged = PatientFactory()  # 18 -> 14: flagged at week 8
    restarted = PatientFactory()  # a completed plan at week 3: the episode's baseline is week 4's 8
    in_error = PatientFactory()  # latest 16 entered in error: latest is week 9's 6, not flagged
    future = PatientFactory()  # the 20 dated after today does not count
    discharged = PatientFactory(status=PatientStatus.DISCHARGED)
    two_prescribers = PatientFactory()
    other = UserFactory(is_prescriber=True)
    inactive = UserFactory(is_prescriber=True, is_active=False)
    for p in (flagged, restarted, in_error, future, discharged, two_prescribers):
        CareTeamMemberFactory(patient=p, user=prescriber, role=TeamRole.PRESCRIBER)
        record(p, care_manager, "PHQ-9", 18, START)
    CareTeamMemberFactory(patient=two_prescribers, user=other, role=TeamRole.PRESCRIBER)
    CareTeamMemberFactory(patient=flagged, user=inactive, role=TeamRole.PRESCRIBER)
    ended = CareTeamMemberFactory(patient=flagged, user=other, role=TeamRole.PRESCRIBER)
    CareTeamMember.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    for p in (flagged, two_prescribers):
        record(p, care_manager, "PHQ-9", 14, weeks(6))
    plan = CarePlanFactory(patient=restarted, status=CarePlanStatus.COMPLETED)
    CarePlan.objects.filter(pk=plan.pk).update(updated_at=datetime.combine(weeks(3), datetime.min.time(), tzinfo=UTC))
    record(restarted, care_manager, "PHQ-9", 8, weeks(4))
    record(restarted, care_manager, "PHQ-9", 7, weeks(11))
    record(in_error, care_manager, "PHQ-9", 6, weeks(9))
    error = record(in_error, care_manager, "PHQ-9", 16, weeks(10))
    Assessment.all_records.filter(pk=error.pk).update(entered_in_error_at=datetime(2025, 11, 20, tzinfo=UTC))
    record(future, care_manager, "PHQ-9", 6, weeks(9))
    Assessment.all_records.filter(pk=record(future, care_manager, "PHQ-9", 20, weeks(10)).pk).update(
        administered_on=weeks(13)
    )
    reference = _as_rows(not_improving(today))
    assert {(row[0], row[1]) for row in reference} == {
        (prescriber.pk, flagged.pk),
        (prescriber.pk, restarted.pk),
        (prescriber.pk, two_prescribers.pk),
        (other.pk, two_prescribers.pk),
    }
    assert not_improving_query(today).rows() == reference
    some = Patient.objects.filter(pk__in=[restarted.pk, in_error.pk])
    assert not_improving_query(today, some).rows() == _as_rows(not_improving(today, some))
    assert {row[1] for row in not_improving_query(today, some).rows()} == {restarted.pk}
