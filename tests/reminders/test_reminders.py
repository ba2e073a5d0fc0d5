"""The care-plan review rule and the periodic scan (issue 3): set-based, idempotent."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection

from careplans.models import CarePlanStatus, PatientStatus, TeamRole
from reminders import delivery
from reminders.models import Reminder, ReminderKind
from reminders.outbox import ReminderDraft, reminder_rule_register, reminder_rules, reminders_write
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory, UserFactory

TODAY = date(2026, 12, 1)


def reviews():  # type: ignore[no-untyped-def]
    """Other apps register rules too (e.g. measurement due): look at this rule's rows only."""
    return Reminder.objects.filter(kind=ReminderKind.CARE_PLAN_REVIEW)


@pytest.fixture
def due_plan(care_plan):  # type: ignore[no-untyped-def]
    care_plan.review_date = TODAY
    care_plan.save()
    return care_plan


def test_review_date_reached_reminds_every_active_team_member(due_plan, prescriber, therapist, care_manager):
    delivery.reminders_scan(today=TODAY)

    rows = reviews()
    assert {r.recipient for r in rows} == {prescriber, therapist, care_manager}
    row = rows.get(recipient=therapist)
    assert row.patient == due_plan.patient
    assert row.subject_id == str(due_plan.public_id)
    assert row.due_date == TODAY
    assert row.detail == "Care plan review due 2026-12-01"
    assert row.status == "pending" and not row.urgent


def test_review_date_not_yet_reached_reminds_no_one(due_plan):
    delivery.reminders_scan(today=TODAY - timedelta(days=1))
    assert not reviews().exists()


def test_overdue_review_is_still_reminded_with_its_review_date(due_plan):
    delivery.reminders_scan(today=TODAY + timedelta(days=10))
    assert set(reviews().values_list("due_date", flat=True)) == {TODAY}


def test_completed_plan_discharged_patient_former_and_inactive_members_get_nothing(
    due_plan, patient, prescriber, therapist, care_manager
):
    other = CarePlanFactory(status=CarePlanStatus.COMPLETED, review_date=TODAY)
    CareTeamMemberFactory(patient=other.patient, user=prescriber)
    therapist.is_active = False
    therapist.save()
    member = patient.care_team.get(user=care_manager)
    member.ended_at = member.started_at + timedelta(days=1)
    member.save()
    discharged = CarePlanFactory(patient=PatientFactory(status=PatientStatus.DISCHARGED), review_date=TODAY)
    CareTeamMemberFactory(patient=discharged.patient, user=prescriber)

    delivery.reminders_scan(today=TODAY)

    assert list(reviews().values_list("recipient__username", "subject_id")) == [("prescriber", str(due_plan.public_id))]


def test_clinician_with_two_roles_on_one_team_gets_one_reminder(due_plan, patient, prescriber):
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PSYCHIATRIC_CONSULTANT)
    delivery.reminders_scan(today=TODAY)
    assert reviews().filter(recipient=prescriber).count() == 1


def test_scanning_twice_writes_each_reminder_once(due_plan):
    delivery.reminders_scan(today=TODAY)
    delivery.reminders_scan(today=TODAY)
    delivery.reminders_scan(today=TODAY + timedelta(days=1))
    assert reviews().count() == 3


def test_moving_the_review_date_later_reminds_again_when_the_new_date_comes(due_plan):
    delivery.reminders_scan(today=TODAY)
    due_plan.review_date = TODAY + timedelta(days=90)
    due_plan.save()
    delivery.reminders_scan(today=TODAY + timedelta(days=90))
    assert sorted(set(reviews().values_list("due_date", flat=True))) == [TODAY, TODAY + timedelta(days=90)]


def test_scan_query_count_does_not_grow_with_the_number_of_patients(django_assert_max_num_queries, prescriber):
    for _ in range(40):
        plan = CarePlanFactory(review_date=TODAY)
        CareTeamMemberFactory(patient=plan.patient, user=prescriber)
        CareTeamMemberFactory(patient=plan.patient, user=UserFactory(is_therapist=True), role=TeamRole.THERAPIST)
    # Per rule: savepoint, one SELECT, one bulk INSERT, release; plus whatever other apps' rules cost.
    rules = len(reminder_rules())
    with django_assert_max_num_queries(4 * rules + 4 * (rules - 1)):
        delivery.reminders_scan(today=TODAY)
    assert reviews().count() == 80


def test_a_failing_rule_does_not_stop_the_others(due_plan, caplog):
    def broken(today: date):  # type: ignore[no-untyped-def]
        raise RuntimeError("CANARY-rule-message")

    reminder_rule_register("aaa_broken_for_test", broken)
    try:
        result = delivery.reminders_scan(today=TODAY)
    finally:
        from reminders import outbox

        outbox._RULES.pop("aaa_broken_for_test")
    assert result.failed == ["aaa_broken_for_test"]
    assert result.offered["care_plan_review"] == 3
    assert reviews().count() == 3
    assert "aaa_broken_for_test" in caplog.text and "CANARY" not in caplog.text


def test_session_follow_up_written_by_another_app_is_kept_once(patient, therapist):
    draft = ReminderDraft(
        recipient_id=therapist.pk,
        patient_id=patient.pk,
        kind=ReminderKind.SESSION_FOLLOW_UP,
        subject_type="therapy.therapysession",
        subject_id="session-1",
        due_date=TODAY,
        detail="Follow up the missed session",
    )
    reminders_write([draft])
    reminders_write([draft])
    assert Reminder.objects.get().kind == ReminderKind.SESSION_FOLLOW_UP


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_write_each_reminder_once(prescriber, therapist):
    for _ in range(60):
        plan = CarePlanFactory(review_date=TODAY)
        CareTeamMemberFactory(patient=plan.patient, user=prescriber)
        CareTeamMemberFactory(patient=plan.patient, user=therapist, role=TeamRole.THERAPIST)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait()
            result = delivery.reminders_scan(today=TODAY)
            assert not result.failed
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert reviews().count() == 120


@pytest.mark.postgres
def test_second_scan_offers_nothing_it_already_wrote(due_plan):
    assert delivery.reminders_scan(today=TODAY).offered["care_plan_review"] == 3
    assert delivery.reminders_scan(today=TODAY).offered["care_plan_review"] == 0
    assert reviews().count() == 3
