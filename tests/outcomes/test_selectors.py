"""Treat-to-target summaries at chosen dates: baseline, latest, change, response, remission,
not improving, weeks in treatment; for one chart and for a whole caseload."""

from datetime import date, timedelta

import pytest
import time_machine

from careplans.models import CarePlanStatus, CaseReview
from outcomes import selectors
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory
from tests.outcomes.helpers import record

pytestmark = pytest.mark.django_db
START = date(2025, 9, 1)


def weeks(n: int) -> date:
    return START + timedelta(weeks=n)


def summary(patient, code, today):  # type: ignore[no-untyped-def]
    return selectors.patient_outcome_summaries(patient=patient, today=today)[code]


def test_no_scores_means_no_flags(patient):
    s = summary(patient, "PHQ-9", weeks(12))
    assert (s.baseline, s.latest, s.flags, s.count) == (None, None, None, 0)


def test_response_is_a_reduction_of_at_least_half(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 18, START)
    record(patient, care_manager, "PHQ-9", 10, weeks(4))
    s = summary(patient, "PHQ-9", weeks(4))
    assert (s.baseline.total_score, s.latest.total_score, s.flags.change_percent) == (18, 10, -44.4)
    assert s.flags.response is False
    record(patient, care_manager, "PHQ-9", 9, weeks(6))  # exactly 50 %
    s = summary(patient, "PHQ-9", weeks(6))
    assert (s.flags.change_percent, s.flags.response, s.flags.remission) == (-50.0, True, False)


def test_remission_is_phq9_below_5_and_gad7_below_5(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 16, START)
    record(patient, care_manager, "PHQ-9", 5, weeks(8))
    record(patient, care_manager, "GAD-7", 12, START)
    record(patient, care_manager, "GAD-7", 4, weeks(8))
    assert summary(patient, "PHQ-9", weeks(8)).flags.remission is False
    assert summary(patient, "GAD-7", weeks(8)).flags.remission is True
    record(patient, care_manager, "PHQ-9", 4, weeks(9))
    assert summary(patient, "PHQ-9", weeks(9)).flags.remission is True


def test_not_improving_appears_when_the_baseline_turns_8_weeks_old(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 20, START)
    record(patient, care_manager, "PHQ-9", 15, weeks(6))
    day_before = summary(patient, "PHQ-9", weeks(8) - timedelta(days=1)).flags
    assert (day_before.not_improving, day_before.weeks_in_treatment) == (False, 7)
    at_eight = summary(patient, "PHQ-9", weeks(8)).flags
    assert (at_eight.not_improving, at_eight.weeks_in_treatment, at_eight.change_percent) == (True, 8, -25.0)
    # A later response clears the flag.
    record(patient, care_manager, "PHQ-9", 10, weeks(11))
    later = summary(patient, "PHQ-9", weeks(11)).flags
    assert (later.response, later.not_improving) == (True, False)


def test_a_patient_in_remission_is_never_not_improving(patient, care_manager):
    record(patient, care_manager, "GAD-7", 6, START)
    record(patient, care_manager, "GAD-7", 4, weeks(12))
    flags = summary(patient, "GAD-7", weeks(12)).flags
    assert (flags.response, flags.remission, flags.not_improving) == (False, True, False)


def test_summary_as_of_a_past_date_ignores_later_scores(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 20, START)
    with time_machine.travel(weeks(20), tick=False):
        record(patient, care_manager, "PHQ-9", 4, weeks(20))
    s = summary(patient, "PHQ-9", weeks(12))
    assert s.latest.total_score == 20 and s.flags.not_improving is True


def test_baseline_restarts_after_a_completed_care_plan(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 22, START)
    with time_machine.travel(weeks(30), tick=False):
        CarePlanFactory(patient=patient, status=CarePlanStatus.COMPLETED)
    record(patient, care_manager, "PHQ-9", 14, weeks(31))
    record(patient, care_manager, "PHQ-9", 12, weeks(33))
    s = summary(patient, "PHQ-9", weeks(33))
    assert (s.baseline.total_score, s.count, s.flags.weeks_in_treatment) == (14, 2, 2)


def test_wsas_shows_change_but_no_treat_to_target_flags(patient, care_manager):
    record(patient, care_manager, "WSAS", 30, START)
    record(patient, care_manager, "WSAS", 12, weeks(12))
    flags = summary(patient, "WSAS", weeks(12)).flags
    assert (flags.change_percent, flags.response, flags.remission, flags.not_improving) == (-60.0, None, None, None)


def test_zero_baseline_has_no_change_percent(patient, care_manager):
    record(patient, care_manager, "GAD-7", 0, START)
    record(patient, care_manager, "GAD-7", 3, weeks(2))
    flags = summary(patient, "GAD-7", weeks(2)).flags
    assert (flags.change_percent, flags.response, flags.remission) == (None, False, True)


def build_caseload(prescriber, care_manager):  # type: ignore[no-untyped-def]
    """Four patients: responding, remitting, not improving (with case review), safety alert open."""
    patients = {}
    for name, scores in {"Responding": (18, 8), "Remitting": (16, 3), "Stuck": (17, 15), "Alert": (12, 12)}.items():
        p = PatientFactory(family_name=name)
        CareTeamMemberFactory(patient=p, user=prescriber)
        record(p, care_manager, "PHQ-9", scores[0], START)
        record(p, care_manager, "PHQ-9", scores[1], weeks(11), item9=1 if name == "Alert" else 0)
        patients[name] = p
    CaseReview.objects.create(patient=patients["Stuck"], reason="Not improving", requested_by=care_manager)
    return patients


def test_caseload_flags_match_the_chart_rule(prescriber, care_manager):
    build_caseload(prescriber, care_manager)
    rows = {
        row.patient.family_name: row
        for row in selectors.caseload_outcomes(user=prescriber, today=weeks(12), sort="name")
    }
    assert rows["Responding"].phq9.response and not rows["Responding"].phq9.remission
    assert rows["Remitting"].phq9.remission
    assert rows["Stuck"].phq9.not_improving and rows["Stuck"].case_review_open
    assert rows["Alert"].safety_alert_open and rows["Alert"].phq9.not_improving
    assert rows["Alert"].gad7 is None


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("safety", "Alert"),
        ("review", "Stuck"),
        ("remission", "Remitting"),
        ("response", "Remitting"),
        ("not_improving", "Alert"),
        ("phq9", "Stuck"),
        ("name", "Alert"),
        ("'; DROP TABLE x;--", "Alert"),
    ],
)
def test_caseload_sorts_by_flag(prescriber, care_manager, sort, first):
    build_caseload(prescriber, care_manager)
    rows = selectors.caseload_outcomes(user=prescriber, today=weeks(12), sort=sort)
    assert rows[0].patient.family_name == first


def test_caseload_query_count_does_not_grow_with_patients(prescriber, care_manager, django_assert_max_num_queries):
    build_caseload(prescriber, care_manager)
    for _ in range(20):
        p = PatientFactory()
        CareTeamMemberFactory(patient=p, user=prescriber)
        for n in range(6):
            record(p, care_manager, "PHQ-9", 15 - n, weeks(2 * n))
            record(p, care_manager, "GAD-7", 10, weeks(2 * n))
    # The page (ordered by the sort expression in SQL), then the scores of its rows.
    with django_assert_max_num_queries(2):
        rows = selectors.caseload_outcomes(user=prescriber, today=weeks(12))
    assert len(rows) == 24


def test_caseload_excludes_patients_the_user_is_not_on_the_team_of(prescriber, outsider, care_manager):
    build_caseload(prescriber, care_manager)
    assert selectors.caseload_outcomes(user=outsider, today=weeks(12)) == []
