"""Monitoring schedules of every shipped protocol, computed at chosen dates (time-machine).

Day 0 is the regimen start, 2026-01-05. Each test names the rule and the source it checks:
ADA/APA 2004 (CLINICAL.md b6), NHS SPS lithium (b7), clozapine PI ANC table (b8), SPS
valproate (b9).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from medications.monitoring import ItemStatus, Observation, Step, lab_flag, monitoring_schedule
from medications.selectors import monitoring_for_patient

START = date(2026, 1, 5)


def day(n: int) -> date:
    return START + timedelta(days=n)


def pending_on(patient, on: date) -> dict[str, tuple[date, str, str]]:  # type: ignore[no-untyped-def]
    """{test: (due date, status, label)} of the next pending item per test, seen on `on`."""
    with time_machine.travel(on, tick=False):
        rows = monitoring_for_patient(patient=patient, today=timezone.localdate())
    return {
        row.item.test: (row.item.due_date, row.item.status, row.item.label)
        for row in rows
        if row.item.status != ItemStatus.DONE
    }


def done_on(patient, on: date) -> list[tuple[str, str, date]]:  # type: ignore[no-untyped-def]
    with time_machine.travel(on, tick=False):
        rows = monitoring_for_patient(patient=patient, today=timezone.localdate())
    return sorted(
        (row.item.test, row.item.label, row.item.done_on) for row in rows if row.item.status == ItemStatus.DONE
    )


SGA_TESTS = ("bmi", "waist", "bp_systolic", "fasting_glucose", "fasting_lipids")

pytestmark = pytest.mark.django_db


# --- Second-generation antipsychotics: ADA/APA 2004 ------------------------------------------


def test_sga_baseline_tests_are_due_on_the_start_day(patient, start_regimen):
    start_regimen(patient, "Olanzapine", "5", start_date=START)
    pending = pending_on(patient, START)
    assert {test: pending[test][:2] for test in SGA_TESTS} == {test: (START, "due") for test in SGA_TESTS}


def test_sga_baseline_becomes_overdue_the_day_after(patient, start_regimen):
    start_regimen(patient, "Olanzapine", "5", start_date=START)
    assert pending_on(patient, day(1))["bmi"] == (START, "overdue", "Baseline")


def test_sga_after_baseline_weight_is_due_at_week_4_and_bp_at_week_12(patient, start_regimen, add_lab):
    start_regimen(patient, "Quetiapine", "50", start_date=START, frequency="twice_daily")
    for test, value in [
        ("bmi", "24"),
        ("waist", "88"),
        ("bp_systolic", "120"),
        ("fasting_glucose", "90"),
        ("fasting_lipids", "110"),
    ]:
        add_lab(patient, test, value, START)
    pending = pending_on(patient, day(20))
    assert pending["bmi"] == (day(28), "due", "Week 4")
    assert pending["bp_systolic"] == (day(84), "due", "Week 12")
    assert pending["fasting_glucose"] == (day(84), "due", "Week 12")
    assert pending["fasting_lipids"] == (day(84), "due", "Week 12")
    assert pending["waist"] == (day(365), "due", "Annually")


def test_sga_missed_week_4_weight_is_overdue_from_its_date(patient, start_regimen, add_lab):
    start_regimen(patient, "Olanzapine", "5", start_date=START)
    add_lab(patient, "bmi", "24", START)
    assert pending_on(patient, day(35))["bmi"] == (day(28), "overdue", "Week 4")


def test_sga_weight_a_few_days_early_counts_for_week_4(patient, start_regimen, add_lab):
    start_regimen(patient, "Olanzapine", "5", start_date=START)
    add_lab(patient, "bmi", "24", START)
    add_lab(patient, "bmi", "24.5", day(25))
    assert pending_on(patient, day(30))["bmi"] == (day(56), "due", "Week 8")
    assert ("bmi", "Week 4", day(25)) in done_on(patient, day(30))


def test_sga_weight_is_quarterly_after_week_12_and_lipids_every_5_years(patient, start_regimen, add_lab):
    start_regimen(patient, "Risperidone", "2", start_date=START)
    for n in (0, 28, 56, 84):
        add_lab(patient, "bmi", "25", day(n))
    add_lab(patient, "fasting_lipids", "120", START)
    add_lab(patient, "fasting_lipids", "125", day(84))
    pending = pending_on(patient, day(90))
    assert pending["bmi"] == (day(84 + 91), "due", "Quarterly")
    assert pending["fasting_lipids"] == (day(84 + 1826), "due", "Every 5 years")


# --- Lithium: NHS SPS / NICE -----------------------------------------------------------------------


def test_lithium_level_is_due_one_week_after_the_start(patient, start_regimen):
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    pending = pending_on(patient, day(1))
    assert pending["lithium_level"][:2] == (day(7), "due")
    for test in ("egfr", "creatinine", "tsh", "calcium", "fbc", "bmi"):
        assert pending[test] == (START, "overdue", "Before starting")


def test_lithium_level_below_range_is_repeated_weekly_until_in_range(patient, start_regimen, add_lab):
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    add_lab(patient, "lithium_level", "0.4", day(7))
    assert pending_on(patient, day(8))["lithium_level"][:2] == (day(14), "due")
    add_lab(patient, "lithium_level", "0.7", day(14))
    # In range: back to every 3 months in the first year.
    assert pending_on(patient, day(15))["lithium_level"] == (day(14 + 91), "due", "Every 3 months in the first year")


def test_lithium_level_is_due_one_week_after_every_dose_change(patient, start_regimen, add_lab, change_dose):
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    add_lab(patient, "lithium_level", "0.7", day(7))
    change_dose(regimen, "600", day(30))
    assert pending_on(patient, day(31))["lithium_level"][:2] == (day(37), "due")
    # A level the day after the change reflects the old dose and does not count.
    add_lab(patient, "lithium_level", "0.65", day(31))
    assert pending_on(patient, day(40))["lithium_level"][:2] == (day(37), "overdue")
    add_lab(patient, "lithium_level", "0.8", day(38))
    assert pending_on(patient, day(40))["lithium_level"][:2] == (day(38 + 91), "due")


def test_lithium_change_overtaken_by_another_change_is_superseded_not_overdue(
    patient, start_regimen, add_lab, change_dose
):
    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    add_lab(patient, "lithium_level", "0.7", day(7))
    change_dose(regimen, "600", day(30))
    change_dose(regimen, "500", day(33), reason_code="side_effect")
    assert pending_on(patient, day(36))["lithium_level"][:2] == (day(40), "due")


def test_lithium_patient_target_range_decides_stability(patient, start_regimen, add_lab):
    start_regimen(
        patient,
        "Lithium carbonate",
        "400",
        start_date=START,
        target_level_low=Decimal("0.8"),
        target_level_high=Decimal("1.0"),
    )
    add_lab(patient, "lithium_level", "0.7", day(7))  # in NICE's default range, below this patient's
    assert pending_on(patient, day(8))["lithium_level"][:2] == (day(14), "due")


def test_lithium_level_every_6_months_after_the_first_year(patient, start_regimen, add_lab):
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    add_lab(patient, "lithium_level", "0.7", day(7))
    add_lab(patient, "lithium_level", "0.7", day(400))
    assert pending_on(patient, day(401))["lithium_level"] == (day(582), "due", "Every 6 months once stable")


def test_lithium_renal_and_thyroid_tests_every_6_months(patient, start_regimen, add_lab):
    start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    add_lab(patient, "egfr", "95", day(-3))  # within a month before the start counts as baseline
    pending = pending_on(patient, day(2))
    assert pending["egfr"] == (day(182), "due", "Every 6 months")  # counted from the start


# --- Clozapine: ANC schedule and neutropenia bands ----------------------------------------------


def _anc(add_lab, patient, *points):  # type: ignore[no-untyped-def]
    for n, value in points:
        add_lab(patient, "anc", value, day(n))


def test_clozapine_anc_weekly_for_the_first_6_months(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "12.5", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (7, "2100"))
    assert pending_on(patient, day(8))["anc"] == (day(14), "due", "Weekly for the first 6 months")


def test_clozapine_anc_every_2_weeks_from_6_to_12_months(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "200", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (190, "2100"))
    assert pending_on(patient, day(191))["anc"] == (day(204), "due", "Every 2 weeks, months 6-12")


def test_clozapine_anc_monthly_after_12_months(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "300", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (400, "2100"))
    assert pending_on(patient, day(401))["anc"] == (day(428), "due", "Monthly after 12 months")


def test_clozapine_weekly_anc_missed_is_overdue(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "100", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (7, "2000"))
    assert pending_on(patient, day(16))["anc"][:2] == (day(14), "overdue")


def test_clozapine_first_mild_anc_is_confirmed_within_24_hours_then_3_times_weekly(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "100", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (7, "2000"), (14, "1200"))
    assert pending_on(patient, day(14))["anc"][:2] == (day(15), "due")
    _anc(add_lab, patient, (15, "1300"))
    assert pending_on(patient, day(15))["anc"][:2] == (day(17), "due")
    _anc(add_lab, patient, (17, "1600"))  # back to normal: back to the weekly interval
    assert pending_on(patient, day(17))["anc"][:2] == (day(24), "due")


def test_clozapine_moderate_neutropenia_daily_then_3_weekly_then_weekly_for_4_weeks(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "300", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (196, "2000"), (200, "800"))
    assert pending_on(patient, day(200))["anc"][:2] == (day(201), "due")  # daily until >= 1000
    _anc(add_lab, patient, (201, "1100"))
    assert pending_on(patient, day(201))["anc"][:2] == (day(203), "due")  # 3x weekly until >= 1500
    _anc(add_lab, patient, (203, "1600"))
    assert pending_on(patient, day(203))["anc"][:2] == (day(210), "due")  # weekly x 4 weeks, not 2-weekly
    _anc(add_lab, patient, (210, "1700"), (217, "1700"), (224, "1700"), (231, "1800"))
    assert pending_on(patient, day(231))["anc"][:2] == (day(245), "due")  # then the last normal interval


def test_clozapine_severe_neutropenia_restarts_monitoring_as_a_new_patient(patient, start_regimen, add_lab):
    start_regimen(patient, "Clozapine", "300", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (196, "2000"), (200, "400"))
    pending = pending_on(patient, day(200))["anc"]
    assert pending[:2] == (day(201), "due")
    _anc(add_lab, patient, (201, "900"), (202, "1200"))
    assert pending_on(patient, day(202))["anc"][:2] == (day(204), "due")
    _anc(add_lab, patient, (204, "1600"))
    # Rechallenge = new patient: weekly again although we are past 6 months.
    assert pending_on(patient, day(204))["anc"] == (day(211), "due", "Weekly for the first 6 months")


def test_clozapine_also_follows_the_metabolic_schedule(patient, start_regimen):
    start_regimen(patient, "Clozapine", "12.5", start_date=START)
    assert set(SGA_TESTS) <= set(pending_on(patient, START))


# --- Valproate: NHS SPS -----------------------------------------------------------------------------


def test_valproate_baseline_then_monthly_lft_for_6_months(patient, start_regimen, add_lab):
    start_regimen(patient, "Divalproex sodium (valproate)", "250", start_date=START, frequency="twice_daily")
    pending = pending_on(patient, START)
    assert {t for t, (due, _, label) in pending.items() if due == START and label == "Before starting"} == {
        "bmi",
        "inr",
        "fbc",
        "platelets",
        "lft",
    }
    add_lab(patient, "lft", "25", START)
    assert pending_on(patient, day(1))["lft"][:2] == (day(30), "due")
    add_lab(patient, "lft", "28", day(30))
    assert pending_on(patient, day(31))["lft"][:2] == (day(60), "due")


def test_valproate_at_6_months_then_annually(patient, start_regimen, add_lab):
    start_regimen(patient, "Divalproex sodium (valproate)", "500", start_date=START, frequency="twice_daily")
    for test in ("bmi", "fbc", "platelets", "lft", "inr"):
        add_lab(patient, test, "1", START)
    assert pending_on(patient, day(170))["fbc"] == (day(182), "due", "At 6 months")
    for test in ("bmi", "fbc", "platelets", "lft"):
        add_lab(patient, test, "1", day(182))
    pending = pending_on(patient, day(183))
    assert pending["fbc"] == (day(182 + 365), "due", "Annually")
    assert pending["lft"] == (day(182 + 365), "due", "Annually")


def test_stopped_and_paused_regimens_have_no_monitoring(patient, start_regimen, prescriber):
    from medications import services

    regimen = start_regimen(patient, "Lithium carbonate", "400", start_date=START)
    with time_machine.travel(day(3), tick=False):
        services.regimen_status_change(regimen=regimen, status="paused", actor=prescriber, reason="Admitted")
    assert pending_on(patient, day(10)) == {}


def test_medication_without_protocol_has_no_monitoring(patient, start_regimen):
    start_regimen(patient, "Sertraline", "50", start_date=START)
    assert pending_on(patient, day(10)) == {}


# --- The pure function and the flags ------------------------------------------------------------------


def test_results_after_today_do_not_count():
    steps = [Step(test="anc", kind="once", offset_days=0, window_days=1, label="Baseline")]
    items = monitoring_schedule(
        steps=steps,
        start_date=START,
        dose_change_dates=[],
        today=START,
        results=[Observation("anc", day(1), Decimal("2000"))],
    )
    assert [(i.status, i.due_date) for i in items] == [(ItemStatus.DUE, START)]


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("0.59", "low"),
        ("0.60", None),
        ("1.00", None),
        ("1.01", "high"),
        ("1.49", "high"),
        ("1.50", "critical"),
    ],
)
def test_lithium_level_flags_against_nice_default_range(value, level):
    flag = lab_flag(test="lithium_level", value=Decimal(value))
    assert (flag.level if flag else None) == level


def test_lithium_level_flag_uses_the_patients_own_range():
    flag = lab_flag(test="lithium_level", value=Decimal("0.7"), target_range=(Decimal("0.8"), Decimal("1.0")))
    assert flag is not None and "0.8-1.0" in flag.text


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1500", None),
        ("1499", "Mild"),
        ("1000", "Mild"),
        ("999", "Moderate"),
        ("500", "Moderate"),
        ("499", "Severe"),
    ],
)
def test_anc_bands(value, words):
    flag = lab_flag(test="anc", value=Decimal(value))
    assert (flag.text.split()[0] if flag else None) == words


@pytest.mark.parametrize(("value", "level"), [("99", None), ("100", "high"), ("125", "high"), ("126", "high")])
def test_fasting_glucose_flags(value, level):
    flag = lab_flag(test="fasting_glucose", value=Decimal(value))
    assert (flag.level if flag else None) == level


def _pause_and_resume(regimen, prescriber, paused: date, resumed: date) -> None:  # type: ignore[no-untyped-def]
    from medications import services

    with time_machine.travel(paused, tick=False):
        services.regimen_status_change(regimen=regimen, status="paused", actor=prescriber, reason="Admitted")
    with time_machine.travel(resumed, tick=False):
        regimen.refresh_from_db()
        services.regimen_status_change(regimen=regimen, status="active", actor=prescriber)


def test_clozapine_interruption_over_30_days_restarts_as_a_new_patient(patient, prescriber, start_regimen, add_lab):
    regimen = start_regimen(patient, "Clozapine", "200", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (196, "2000"))
    _pause_and_resume(regimen, prescriber, day(200), day(240))
    _anc(add_lab, patient, (240, "2100"))
    assert pending_on(patient, day(240))["anc"] == (day(247), "due", "Weekly for the first 6 months")


def test_clozapine_interruption_up_to_30_days_continues_as_before(patient, prescriber, start_regimen, add_lab):
    regimen = start_regimen(patient, "Clozapine", "200", start_date=START)
    _anc(add_lab, patient, (0, "2000"), (196, "2000"))
    _pause_and_resume(regimen, prescriber, day(200), day(230))
    _anc(add_lab, patient, (230, "2100"))
    assert pending_on(patient, day(230))["anc"] == (day(244), "due", "Every 2 weeks, months 6-12")
