"""The incremental rescan (issue 14): the same day, the scan looks only at the patients whose
data changed since the last finished scan (marked by database triggers in the change's own
transaction); a new day, or no finished scan, runs the full scan. SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from careplans.models import TeamRole
from reminders import delivery, outbox
from reminders.models import Reminder, ReminderKind, ReminderScanMark, ReminderScanRun
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():  # type: ignore[no-untyped-def]
    return timezone.localdate()


@pytest.fixture
def later(prescriber, therapist, today):  # type: ignore[no-untyped-def]
    """A second patient whose care plan review is not due yet."""
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
    CareTeamMemberFactory(patient=patient, user=therapist, role=TeamRole.THERAPIST)
    plan = CarePlanFactory(patient=patient, review_date=today + timedelta(days=10))
    return plan


@pytest.fixture
def scanned(patient, later, today):  # type: ignore[no-untyped-def]
    """The patient's review is due; today's full scan ran and finished."""
    CarePlanFactory(patient=patient, review_date=today - timedelta(days=3))
    first = delivery.reminders_scan(today=today)
    assert first.full and first.offered["care_plan_review"] == 3
    assert not ReminderScanMark.objects.exists()  # the scan consumed the marks of the fixtures
    return first


def _rows() -> set[tuple[object, ...]]:
    return set(Reminder.objects.values_list("kind", "patient_id", "recipient_id", "due_date"))


def test_a_rescan_with_nothing_changed_writes_nothing_in_a_fixed_number_of_queries(
    scanned, today, django_assert_num_queries
):
    before, runs = _rows(), ReminderScanRun.objects.count()
    # Marks, the last finished run; the two patient-link rules, which are not incremental,
    # in their own savepoints (schedules due; the portal setting).
    with django_assert_num_queries(8):
        rescan = delivery.reminders_scan(today=today)
    assert not rescan.full and rescan.patients == 0
    assert sum(rescan.offered.values()) == 0 and not rescan.failed
    assert _rows() == before and ReminderScanRun.objects.count() == runs


def test_a_change_to_one_patient_brings_exactly_that_patients_reminder(scanned, later, today, prescriber, therapist):
    before = _rows()
    later.review_date = today
    later.save()
    rescan = delivery.reminders_scan(today=today)
    assert not rescan.full and rescan.patients == 1
    assert _rows() - before == {
        (ReminderKind.CARE_PLAN_REVIEW, later.patient_id, prescriber.pk, today),
        (ReminderKind.CARE_PLAN_REVIEW, later.patient_id, therapist.pk, today),
    }
    assert not ReminderScanMark.objects.exists()


def test_the_rescan_looks_only_at_changed_patients_and_a_new_day_at_everyone(scanned, patient, today):
    # A reminder removed behind the scan's back (no clinical change): the same-day rescan does
    # not look at that patient; the next day's full scan finds the review still due.
    Reminder.objects.filter(patient=patient, kind=ReminderKind.CARE_PLAN_REVIEW).delete()
    rescan = delivery.reminders_scan(today=today)
    assert not rescan.full and rescan.offered["care_plan_review"] == 0
    tomorrow = delivery.reminders_scan(today=today + timedelta(days=1))
    assert tomorrow.full and tomorrow.offered["care_plan_review"] == 3


def test_no_finished_scan_or_a_failed_rule_means_a_full_scan(scanned, patient, today, monkeypatch):
    assert delivery.reminders_scan(today=today, full=True).full

    def broken(day, patients=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("rule broke")

    monkeypatch.setitem(outbox._RULES, "test.broken", broken)
    failed = delivery.reminders_scan(today=today + timedelta(days=1))
    assert failed.full and failed.failed == ["test.broken"]
    monkeypatch.delitem(outbox._RULES, "test.broken")
    assert delivery.reminders_scan(today=today + timedelta(days=1)).full  # the failed one did not finish


def test_a_change_committed_during_the_scan_is_kept_for_the_next_rescan(scanned, later, today, prescriber):
    saved: list[int] = []

    def clinician_saves_meanwhile(day, patients=None):  # type: ignore[no-untyped-def]
        if not saved:  # once: after the care-plan rule ran ("care_plan_review" sorts first)
            later.review_date = today
            later.save()
            saved.append(later.pk)
        return []

    outbox.reminder_rule_register("zz.meanwhile", clinician_saves_meanwhile, incremental=True)
    try:
        later.patient.save()  # a change before the rescan, so the rescan runs the rules
        during = delivery.reminders_scan(today=today)
        assert not during.full and during.offered["care_plan_review"] == 0  # the review was not due yet
        assert ReminderScanMark.objects.filter(patient_id=later.patient_id).exists()  # the change's mark stays
        after = delivery.reminders_scan(today=today)
    finally:
        del outbox._RULES["zz.meanwhile"]
        outbox._INCREMENTAL.discard("zz.meanwhile")
    assert not after.full and after.offered["care_plan_review"] == 2
    assert Reminder.objects.filter(patient=later.patient, recipient=prescriber, due_date=today).exists()
