"""Overdue monitoring on Today (issue 14): counted and paged from the stored per-regimen facts, the
monitoring rule (medications.monitoring) run only for the regimens shown. The count is the number of
items the rule shows: at the due-date boundary, after a waiver, for a stopped regimen, and when the
stored facts disagree with the rule."""

from datetime import date, timedelta

import pytest

from medications import services as medication_services
from medications.models import ExceptionKind, LabTest, Regimen, RegimenStatus
from medications.monitoring import ItemStatus
from medications.selectors import monitoring_for_regimens
from reports.models import RegimenReportFacts
from tests.medications.conftest import ensure_catalog
from tests.reports import builders
from tests.today.test_worklist import _team
from today.worklist import worklist_for, worklist_page

pytestmark = pytest.mark.django_db
TODAY = date.today()
KIND = "monitoring_overdue"


def _lithium(prescriber, therapist, care_manager, started):  # type: ignore[no-untyped-def]
    ensure_catalog()
    patient = _team(prescriber, therapist, care_manager)
    return builders.regimen(patient, "Lithium carbonate", started, by=prescriber, dose="600")


def _rule_overdue(regimen: Regimen, today: date) -> list:  # type: ignore[type-arg]
    regimen = Regimen.objects.select_related("medication").get(pk=regimen.pk)
    items = monitoring_for_regimens([regimen], today=today).get(regimen.pk, [])
    return sorted((i for i in items if i.status == ItemStatus.OVERDUE), key=lambda i: i.due_date)


def _shown(user, today=TODAY):  # type: ignore[no-untyped-def]
    page = worklist_page(user, limit=None, today=today)
    return page.by_kind[KIND], [i for i in page.items if i.kind == KIND]


@pytest.mark.parametrize(("days_after_due", "overdue"), [(-1, False), (0, False), (1, True)])
def test_overdue_from_the_day_after_the_due_date(prescriber, therapist, care_manager, days_after_due, overdue):
    """Due yesterday: overdue; due today or tomorrow: not yet (medications.monitoring: due < today)."""
    regimen = _lithium(prescriber, therapist, care_manager, TODAY)
    worklist_for(prescriber)  # the facts, computed today
    items = monitoring_for_regimens([Regimen.objects.select_related("medication").get(pk=regimen.pk)], today=TODAY)
    first_due = min(i.due_date for i in items[regimen.pk] if i.status in (ItemStatus.DUE, ItemStatus.OVERDUE))
    day = first_due + timedelta(days=days_after_due)
    count, shown = _shown(prescriber, today=day)
    rule = _rule_overdue(regimen, day)
    assert count == len(shown) == (1 if overdue else 0)
    assert bool(rule) is overdue
    if overdue:
        assert shown[0].due_date == rule[0].due_date == first_due


def test_a_waived_test_leaves_the_title_and_the_last_one_the_count(prescriber, therapist, care_manager):
    regimen = _lithium(prescriber, therapist, care_manager, TODAY - timedelta(days=180))
    overdue = _rule_overdue(regimen, TODAY)
    assert len({i.test for i in overdue}) > 1
    assert _shown(prescriber)[0] == 1
    for _ in range(30):  # a waiver answers the pending item; the next one of the test may be overdue too
        remaining = _rule_overdue(regimen, TODAY)
        if not remaining:
            break
        medication_services.monitoring_exception_record(
            patient=regimen.patient,
            regimen=regimen,
            test=remaining[0].test,
            kind=ExceptionKind.WAIVED,
            actor=prescriber,
            reason="Declined; discussed the risks",
        )
        remaining = _rule_overdue(regimen, TODAY)
        count, shown = _shown(prescriber)
        assert count == len(shown) == (1 if remaining else 0)
        if remaining:
            assert shown[0].due_date == remaining[0].due_date
            assert all(LabTest(item.test).label in shown[0].title for item in remaining)
    assert _rule_overdue(regimen, TODAY) == []
    assert _shown(prescriber) == (0, [])


def test_a_stopped_regimen_is_not_overdue_though_its_facts_row_stays(prescriber, therapist, care_manager):
    regimen = _lithium(prescriber, therapist, care_manager, TODAY - timedelta(days=180))
    assert _shown(prescriber)[0] == 1
    medication_services.regimen_status_change(
        regimen=regimen, status=RegimenStatus.STOPPED, actor=prescriber, reason="Switched to valproate"
    )
    assert _shown(prescriber) == (0, [])
    # The facts row of the stopped regimen is left behind (reports.facts); the regimen's status decides.
    assert RegimenReportFacts.objects.get(regimen=regimen).monitoring_due_on is not None


def test_facts_the_rule_disagrees_with_are_recomputed_not_shown(prescriber, therapist, care_manager):
    """A regimen the stored facts call overdue but the rule does not (facts from before a change no
    write marked, e.g. a direct SQL fix): neither shown nor counted, and its facts are put right."""
    fresh = _lithium(prescriber, therapist, care_manager, TODAY)
    overdue = _lithium(prescriber, therapist, care_manager, TODAY - timedelta(days=180))
    worklist_for(prescriber)
    RegimenReportFacts.objects.filter(regimen=fresh).update(monitoring_due_on=TODAY - timedelta(days=400))
    count, shown = _shown(prescriber)
    assert (count, [i.patient for i in shown]) == (1, [overdue.patient])
    assert RegimenReportFacts.objects.get(regimen=fresh).monitoring_due_on >= TODAY


def test_the_count_is_every_overdue_regimen_and_the_page_their_first(prescriber, therapist, care_manager):
    regimens = [
        _lithium(prescriber, therapist, care_manager, TODAY - timedelta(days=days)) for days in (30, 180, 90, 0)
    ]
    every = [i for i in worklist_for(prescriber) if i.kind == KIND]
    assert len(every) == sum(1 for r in regimens if _rule_overdue(r, TODAY)) == 3
    assert [i.due_date for i in every] == sorted(i.due_date for i in every)
    page = worklist_page(prescriber, limit=1)
    assert page.by_kind[KIND] == 3
    first = worklist_page(prescriber, limit=None).items[0]
    assert page.items == [first]
