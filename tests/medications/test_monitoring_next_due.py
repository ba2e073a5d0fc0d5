"""The maintained next-due date (medications.monitoring_next_due, issue 14): a new-day scan runs
the monitoring schedule only for regimens that can have something due, and the prescribers get
exactly the reminders a full evaluation gives, day after day."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from careplans.models import Patient, TeamRole
from clinic.models import User
from medications.models import LabResult, MonitoringNextDue, Regimen
from medications.monitoring_next_due import REFRESH_DAYS
from medications.reminders import monitoring_due, monitoring_due_everyone
from reminders.delivery import reminders_scan
from reminders.models import Reminder
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY0 = date(2026, 1, 5)
DAYS = 120
LITHIUM_TESTS = ("egfr", "creatinine", "tsh", "calcium", "fbc", "bmi")
NORMAL = {"egfr": "90", "creatinine": "80", "tsh": "2", "calcium": "2.4", "fbc": "6", "bmi": "24"}
SGA_TESTS = ("bmi", "waist", "bp_systolic", "fasting_glucose", "fasting_lipids")
SGA_NORMAL = {"bmi": "24", "waist": "80", "bp_systolic": "120", "fasting_glucose": "90", "fasting_lipids": "100"}
VALPROATE_TESTS = {"bmi": "24", "inr": "1", "fbc": "6", "platelets": "250", "lft": "30"}


def keys(drafts):  # type: ignore[no-untyped-def]
    return {(d.recipient_id, d.subject_id, d.due_date) for d in drafts}


def outbox() -> set[tuple[int, str, date]]:
    return set(Reminder.objects.filter(kind="monitoring_due").values_list("recipient_id", "subject_id", "due_date"))


def is_refresh_day(regimen: Regimen, day: date) -> bool:
    return (day.toordinal() - regimen.pk) % REFRESH_DAYS == 0


def quiet_day(regimen: Regimen, first: int) -> int:
    """A day offset from `first` on that is not the regimen's refresh day: what happens then is
    the next-due date's doing, not the safety net's."""
    return next(n for n in range(first, first + 3) if not is_refresh_day(regimen, DAY0 + timedelta(days=n)))


def new_patient(prescriber) -> Patient:  # type: ignore[no-untyped-def]
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
    return patient


def stable_lithium(prescriber, start_regimen, add_lab) -> Regimen:  # type: ignore[no-untyped-def]
    """On lithium for 19 months, everything done 80 days before DAY0, every value normal: the
    next level is 6-monthly (day 102), unless a risk group makes it 3-monthly (day 11)."""
    patient = new_patient(prescriber)
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=date(2024, 6, 3))
    for test in LITHIUM_TESTS:
        add_lab(patient, test, NORMAL[test], DAY0 - timedelta(days=80))
    add_lab(patient, "lithium_level", "0.7", DAY0 - timedelta(days=80))
    return regimen


def test_the_shortcut_reminds_exactly_as_a_full_evaluation_over_120_days(
    prescriber, start_regimen, add_lab, change_dose
):
    # Lithium, 65 on day ~40: from the birthday the level is 3-monthly (NHS SPS), so overdue at once.
    turning_65 = stable_lithium(prescriber, start_regimen, add_lab)
    birthday = quiet_day(turning_65, 40)
    born = DAY0 + timedelta(days=birthday)
    Patient.objects.filter(pk=turning_65.patient_id).update(birth_date=born.replace(year=born.year - 65))
    # Lithium with a TSH taken on day ~25 but entered early (an import): abnormal thyroid, 3-monthly.
    future_tsh = stable_lithium(prescriber, start_regimen, add_lab)
    tsh_day = quiet_day(future_tsh, 25)
    LabResult.objects.create(
        patient_id=future_tsh.patient_id,
        test="tsh",
        value=Decimal("8"),
        unit="mIU/L",
        taken_on=DAY0 + timedelta(days=tsh_day),
        recorded_by=prescriber,
    )
    # Lithium started on DAY0: a low level, weekly until in range; a dose change on day 40.
    titrating = new_patient(prescriber)
    titrating_lithium = start_regimen(titrating, "Lithium carbonate", "400", start_date=DAY0)
    # Clozapine: weekly ANCs, a mild neutropenia on day 21 (confirm in 24 h, then 3 times weekly).
    clozapine_patient = new_patient(prescriber)
    start_regimen(clozapine_patient, "Clozapine", "12.5", start_date=DAY0)
    # An antipsychotic's metabolic protocol (ADA 2004), started before DAY0; valproate; carbamazepine.
    olanzapine_patient = new_patient(prescriber)
    start_regimen(olanzapine_patient, "Olanzapine", "5", start_date=DAY0 - timedelta(days=20))
    # Its second prescriber's account is inactive until day 50 (no reminders reach them till then).
    locum = UserFactory(is_prescriber=True, is_active=False)
    CareTeamMemberFactory(patient=olanzapine_patient, user=locum, role=TeamRole.PRESCRIBER)
    valproate_patient = new_patient(prescriber)
    start_regimen(valproate_patient, "Divalproex sodium (valproate)", "500", start_date=DAY0)
    start_regimen(new_patient(prescriber), "Carbamazepine", "200", start_date=DAY0)

    def labs(patient, values):  # type: ignore[no-untyped-def]
        return lambda day: [add_lab(patient, test, value, day) for test, value in values.items()]

    before_scan = {
        0: [
            labs(titrating, NORMAL),
            labs(clozapine_patient, SGA_NORMAL),
            labs(valproate_patient, VALPROATE_TESTS),
        ],
        7: [labs(titrating, {"lithium_level": "0.4"}), labs(clozapine_patient, {"anc": "2100"})],
        14: [labs(titrating, {"lithium_level": "0.7"}), labs(clozapine_patient, {"anc": "2000"})],
        21: [labs(clozapine_patient, {"anc": "1200"})],
        22: [labs(clozapine_patient, {"anc": "1300"})],
        24: [labs(clozapine_patient, {"anc": "1700"})],
        30: [labs(olanzapine_patient, {"bmi": "25"}), labs(valproate_patient, {"lft": "32"})],
        50: [lambda day: User.objects.filter(pk=locum.pk).update(is_active=True)],
        55: [labs(titrating, {"lithium_level": "0.75"})],
    }
    # Changes after the day's scan, picked up by that day's incremental rescan.
    after_scan = {
        40: [lambda day: change_dose(titrating_lithium, "600", day)],
        61: [labs(olanzapine_patient, SGA_NORMAL)],
    }
    written = outbox()  # what the services wrote when the regimens started
    first_written: dict[tuple[int, str, date], date] = {}  # (created_at is the database's clock on PostgreSQL)
    skipped = {turning_65.pk: 0, future_tsh.pk: 0}
    for offset in range(DAYS):
        day = DAY0 + timedelta(days=offset)
        for event in before_scan.get(offset, []):
            event(day)
        with time_machine.travel(day, tick=False):
            expected = keys(monitoring_due_everyone(day))
            reminders_scan(today=day)
            first_written.update((key, day) for key in expected - written)
            written |= expected
            assert outbox() == written, day
            for regimen_id in skipped:
                skipped[regimen_id] += MonitoringNextDue.objects.filter(
                    regimen_id=regimen_id, computed_on__lt=day
                ).count()
            # The rule's own answer leaves out what it wrote before: its reminders are in the outbox.
            assert keys(monitoring_due(day)) <= expected, day
        for event in after_scan.get(offset, []):
            event(day)
        if offset in after_scan:
            with time_machine.travel(day, tick=False):
                rescanned = keys(monitoring_due_everyone(day))
                first_written.update((key, day) for key in rescanned - written)
                written |= rescanned
                assert not reminders_scan(today=day).full
                assert outbox() == written, day
    # The shortcut did skip the quiet regimens on the days before their change (all but the
    # first day and their refresh days)...
    assert skipped[turning_65.pk] >= birthday - 3 and skipped[future_tsh.pk] >= tsh_day - 3
    # ...and still reminded on the day the clinic's rules said so: the locum once re-activated,
    # the 3-monthly lithium level on the 65th birthday and on the day of the abnormal TSH.
    assert DAY0 + timedelta(days=50) in {on for (user_id, _, _), on in first_written.items() if user_id == locum.pk}
    level_due = DAY0 + timedelta(days=11)  # 91 days after the last level
    for regimen, offset in ((turning_65, birthday), (future_tsh, tsh_day)):
        level = (prescriber.pk, f"{regimen.public_id}:lithium_level", level_due)
        assert first_written[level] == DAY0 + timedelta(days=offset)


@pytest.mark.parametrize("patients", [2, 12])
def test_a_new_day_scan_with_nothing_due_takes_the_same_queries_however_many_patients(
    patients, prescriber, start_regimen, add_lab, django_assert_num_queries
):
    start = DAY0 - timedelta(days=40)
    regimens = []
    for _ in range(patients):
        patient = new_patient(prescriber)
        regimens.append(start_regimen(patient, "Lithium carbonate", "400", start_date=start))
        for test in LITHIUM_TESTS:
            add_lab(patient, test, NORMAL[test], start)
        add_lab(patient, "lithium_level", "0.7", start + timedelta(days=7))
    # Nothing due before day 98 (3-monthly levels). A first scan on a day after which no
    # regimen has its refresh day: the next day, none is due.
    first = next(
        day
        for day in (DAY0 + timedelta(days=n) for n in range(REFRESH_DAYS))
        if not any(is_refresh_day(r, day + timedelta(days=1)) for r in regimens)
    )
    with time_machine.travel(first, tick=False):
        reminders_scan(today=first)
    next_day = first + timedelta(days=1)
    reminders = Reminder.objects.count()
    # The scan's own statements and the set-based rules' (their number differs by vendor), and
    # for monitoring_due only the catalog fingerprint (2) and the one query finding no regimen.
    # PostgreSQL: 35 (was 40: each set-based rule's settings are one statement, was two).
    queries = 35 if connection.vendor == "postgresql" else 30
    with time_machine.travel(next_day, tick=False), django_assert_num_queries(queries):
        result = reminders_scan(today=next_day)
    assert result.full and result.offered["medications.monitoring_due"] == 0
    assert Reminder.objects.count() == reminders
