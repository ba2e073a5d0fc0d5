"""`monitoring_due` reminders: overdue and upcoming monitoring tests reach the prescriber(s)
on the care team, once per test and due date, from a set-based daily rule."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from careplans.models import TeamRole
from careplans.services import care_team_member_end
from medications.reminders import monitoring_due
from reminders.models import Reminder
from reminders.outbox import reminder_rules, reminders_write
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
START = date(2026, 1, 5)


def drafts_on(day: date):  # type: ignore[no-untyped-def]
    with time_machine.travel(day, tick=False):
        return reminder_rules()["medications.monitoring_due"](timezone.localdate())


def test_rule_is_registered_with_the_outbox():
    assert reminder_rules()["medications.monitoring_due"] is monitoring_due


def test_overdue_lithium_level_reminds_the_prescriber_only(patient, prescriber, start_regimen, add_lab):
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    for test in ("egfr", "creatinine", "tsh", "calcium", "fbc", "bmi"):
        add_lab(patient, test, "1", START)
    [draft] = drafts_on(date(2026, 1, 20))
    assert draft.recipient_id == prescriber.pk and draft.patient_id == patient.pk
    assert draft.kind == "monitoring_due" and draft.due_date == date(2026, 1, 12)
    assert draft.subject_id == f"{regimen.public_id}:lithium_level"
    assert draft.detail == "Lithium level (12-h trough) overdue since 2026-01-12 (Lithium carbonate)"


def test_writing_the_daily_scan_twice_creates_one_reminder_per_test(patient, start_regimen):
    start_regimen(patient, "Olanzapine", "5", start_date=START)
    with time_machine.travel(date(2026, 1, 20), tick=False):
        drafts = monitoring_due(timezone.localdate())
        reminders_write(drafts)
        reminders_write(monitoring_due(timezone.localdate()))
    # Five baseline tests overdue, one reminder each.
    assert Reminder.objects.filter(kind="monitoring_due").count() == 5 == len(drafts)


def test_upcoming_test_within_a_week_is_announced_and_later_ones_are_not(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "12.5", start_date=START)
    for test in ("anc", "bmi", "waist", "bp_systolic", "fasting_glucose", "fasting_lipids"):
        add_lab(patient, test, "2000", START)
    assert [(d.subject_id.split(":")[1], d.due_date) for d in drafts_on(START + timedelta(days=1))] == [
        ("anc", date(2026, 1, 12))
    ]
    # Nothing else within the week: the week-4 weight (day 28) is not announced yet.
    assert [d.subject_id.split(":")[1] for d in drafts_on(START + timedelta(days=20))] == ["anc"]
    assert [d.due_date for d in drafts_on(START + timedelta(days=21)) if d.subject_id.endswith(":bmi")] == [
        date(2026, 2, 2)
    ]


def test_every_prescriber_on_the_team_is_reminded(patient, start_regimen):
    second = UserFactory(is_prescriber=True)
    CareTeamMemberFactory(patient=patient, user=second, role=TeamRole.PRESCRIBER)
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    recipients = {d.recipient_id for d in drafts_on(date(2026, 1, 20))}
    assert len(recipients) == 2


def test_prescriber_who_left_the_team_is_not_reminded(patient, prescriber, start_regimen):
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    care_team_member_end(member=patient.care_team.get(user=prescriber), actor=prescriber)
    assert drafts_on(date(2026, 1, 20)) == []


def test_stopped_regimen_is_not_reminded(patient, prescriber, start_regimen):
    from medications import services

    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    with time_machine.travel(date(2026, 1, 6), tick=False):
        services.regimen_status_change(regimen=regimen, status="stopped", actor=prescriber, reason="Rash")
    assert drafts_on(date(2026, 1, 20)) == []


def test_dose_change_writes_the_one_week_level_reminder_at_once(patient, start_regimen, add_lab, change_dose):
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    add_lab(patient, "lithium_level", "0.7", date(2026, 1, 12))
    change_dose(regimen, "600", date(2026, 2, 2))
    assert Reminder.objects.filter(
        kind="monitoring_due", subject_id=f"{regimen.public_id}:lithium_level", due_date=date(2026, 2, 9)
    ).exists()


def test_daily_rule_is_set_based(prescriber, start_regimen, add_lab, django_assert_max_num_queries):
    for _ in range(15):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        start_regimen(patient, "Lithium carbonate", "400", start_date=START)
        start_regimen(patient, "Quetiapine", "50", start_date=START)
        add_lab(patient, "lithium_level", "0.5", date(2026, 1, 12))
    # regimens, steps, results, dose changes, prescribers, exceptions, profiles, and for
    # lithium the patients' birth dates and other drugs: 9 whatever the number of patients;
    # and the next-due dates (medications.monitoring_next_due): the catalog fingerprint (2),
    # future-dated results, lithium birth dates, one upsert: 14.
    with time_machine.travel(date(2026, 3, 1), tick=False), django_assert_max_num_queries(14):
        drafts = monitoring_due(timezone.localdate())
    assert len(drafts) == 15 * (6 + 1 + 5)  # lithium baseline + level, quetiapine baseline
