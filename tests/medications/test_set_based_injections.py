"""The injection reminders as one INSERT ... SELECT (issue 14): on PostgreSQL the set-based rows
must be exactly the Python drafts, at the boundaries a clinician would notice (a month added
to the 31st, the week-ahead announcement, the first missed day, an injection entered in error,
one clinician in two roles)."""

from datetime import date, timedelta

import pytest
import time_machine

from careplans.models import TeamRole
from clinic.entered_in_error import entered_in_error_mark
from medications import services
from medications.reminders import injection_reminders_query
from reminders.delivery import reminders_scan
from reminders.models import Reminder, ReminderKind
from tests.factories import CareTeamMemberFactory, PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
TODAY = date(2026, 2, 21)
MONTHLY = "Paliperidone palmitate 1-monthly"
TWO_WEEKLY = "Risperidone long-acting injection"
FOUR_WEEKLY = "Fluphenazine decanoate"


def _give(regimen, actor, on):  # type: ignore[no-untyped-def]
    with time_machine.travel(on, tick=False):
        return services.injection_record(regimen=regimen, actor=actor, given_on=on, site="gluteal")


def _patient(prescriber, care_manager=None):  # type: ignore[no-untyped-def]
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
    if care_manager is not None:
        CareTeamMemberFactory(patient=patient, user=care_manager, role=TeamRole.CARE_MANAGER)
    return patient


@pytest.fixture
def depots(prescriber, care_manager, start_regimen):  # type: ignore[no-untyped-def]
    """Regimens whose reminders sit on each boundary; returns their public ids by case."""
    cases = {}
    # Given on 31 January: the next is due on 28 February (no 31st), exactly today + 7.
    month_end = start_regimen(
        _patient(prescriber, care_manager), MONTHLY, "156", start_date=date(2025, 12, 31), frequency="monthly"
    )
    _give(month_end, prescriber, date(2026, 1, 31))
    cases["month_end"] = month_end
    # Never injected: the first is due on the start date. Today + 7 is announced, + 8 is not.
    cases["start_in_7"] = start_regimen(
        _patient(prescriber), TWO_WEEKLY, "25", start_date=TODAY + timedelta(days=7), frequency="every_2_weeks"
    )
    cases["start_in_8"] = start_regimen(
        _patient(prescriber), TWO_WEEKLY, "25", start_date=TODAY + timedelta(days=8), frequency="every_2_weeks"
    )
    # Every 4 weeks, missed 8 days after due (7-day window): missed today, and not yet (tomorrow).
    for name, last in (("missed_today", TODAY - timedelta(days=36)), ("missed_tomorrow", TODAY - timedelta(days=35))):
        regimen = start_regimen(
            _patient(prescriber, care_manager), FOUR_WEEKLY, "50", start_date=last, frequency="every_4_weeks"
        )
        _give(regimen, prescriber, last)
        cases[name] = regimen
    # A later injection entered in error: the schedule runs from the one before it.
    erred = start_regimen(
        _patient(prescriber, care_manager), MONTHLY, "156", start_date=date(2025, 12, 1), frequency="monthly"
    )
    _give(erred, prescriber, date(2025, 12, 1))
    wrong = _give(erred, prescriber, date(2026, 2, 1))
    entered_in_error_mark(record=wrong, actor=prescriber, reason="Wrong patient", patient_id=erred.patient.public_id)
    cases["erred"] = erred
    # One clinician as prescriber and care manager: one missed reminder, not two.
    both = _patient(prescriber)
    CareTeamMemberFactory(patient=both, user=prescriber, role=TeamRole.CARE_MANAGER)
    two_roles = start_regimen(both, FOUR_WEEKLY, "50", start_date=TODAY - timedelta(days=40), frequency="every_4_weeks")
    cases["two_roles"] = two_roles
    # Stopped: nothing.
    stopped = start_regimen(
        _patient(prescriber), MONTHLY, "156", start_date=TODAY - timedelta(days=40), frequency="monthly"
    )
    with time_machine.travel(TODAY - timedelta(days=1), tick=False):
        services.regimen_status_change(regimen=stopped, status="stopped", actor=prescriber, reason="Switched")
    cases["stopped"] = stopped
    return {name: str(regimen.public_id) for name, regimen in cases.items()}


def _rows(query) -> set[tuple]:  # type: ignore[no-untyped-def]
    return set(query.queryset)


def _drafts(query) -> set[tuple]:  # type: ignore[no-untyped-def]
    return {
        (d.recipient_id, d.patient_id, d.kind, d.subject_type, d.subject_id, d.due_date, d.detail)
        for d in query.drafts()
    }


def test_set_based_injection_rows_are_the_python_drafts(depots, prescriber, care_manager):
    query = injection_reminders_query(TODAY)
    rows = _rows(query)
    assert rows == _drafts(query)
    by_case = {name: {(r[2], r[0], r[5]) for r in rows if r[4] == public_id} for name, public_id in depots.items()}
    assert by_case["month_end"] == {(ReminderKind.INJECTION_DUE, prescriber.pk, date(2026, 2, 28))}
    assert by_case["start_in_7"] == {(ReminderKind.INJECTION_DUE, prescriber.pk, TODAY + timedelta(days=7))}
    assert by_case["start_in_8"] == set()
    due = TODAY - timedelta(days=8)
    assert by_case["missed_today"] == {
        (ReminderKind.INJECTION_DUE, prescriber.pk, due),
        (ReminderKind.INJECTION_MISSED, prescriber.pk, TODAY),
        (ReminderKind.INJECTION_MISSED, care_manager.pk, TODAY),
    }
    assert by_case["missed_tomorrow"] == {(ReminderKind.INJECTION_DUE, prescriber.pk, due + timedelta(days=1))}
    assert by_case["erred"] == {
        (ReminderKind.INJECTION_DUE, prescriber.pk, date(2026, 1, 1)),
        (ReminderKind.INJECTION_MISSED, prescriber.pk, date(2026, 1, 9)),
        (ReminderKind.INJECTION_MISSED, care_manager.pk, date(2026, 1, 9)),
    }
    start = TODAY - timedelta(days=40)
    assert by_case["two_roles"] == {
        (ReminderKind.INJECTION_DUE, prescriber.pk, start),
        (ReminderKind.INJECTION_MISSED, prescriber.pk, start + timedelta(days=8)),
    }
    assert by_case["stopped"] == set()


def test_only_the_patients_asked_for(depots, prescriber):
    from careplans.models import Patient
    from medications.models import Regimen

    one = Patient.objects.filter(pk=Regimen.objects.get(public_id=depots["month_end"]).patient_id)
    query = injection_reminders_query(TODAY, patients=one)
    assert {row[4] for row in _rows(query)} == {depots["month_end"]}
    assert _rows(query) == _drafts(query)


def test_the_scan_writes_them_once(depots):
    first = reminders_scan(today=TODAY)
    assert first.offered["medications.injections"] == 11
    assert Reminder.objects.filter(kind__startswith="injection_").count() == 11
    assert reminders_scan(today=TODAY).offered["medications.injections"] == 0
