"""Report 3: process measures against hand-worked fixtures (today 2026-03-02, period 2025-09-01 to 2026-02-28)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medications.models import AdherenceCheck
from outcomes.models import SafetyFollowUp
from reports.base import ReportParams
from reports.catalog import report_get
from tests.reports import builders as b
from therapy.models import Attendance

pytestmark = pytest.mark.django_db


def _run(admin, today):  # type: ignore[no-untyped-def]
    params = ReportParams(user=admin, start=date(2025, 9, 1), end=date(2026, 2, 28), today=today)
    return report_get("process").run(params).sections


def test_follow_up_within_4_weeks_of_intake(clinic_admin, today, team, therapist, care_manager, prescriber):
    def first(on, via="score"):  # type: ignore[no-untyped-def]
        p = b.patient(team=team)
        if via == "score":
            b.score(p, "GAD-7", 5, on, by=care_manager)
        else:
            b.session(b.course(p, therapist, "CBT", on), on)
        return p

    a = first(date(2025, 10, 1))
    b.session(b.course(a, therapist, "CBT", date(2025, 10, 1)), date(2025, 10, 29))  # day 28: met
    late = first(date(2025, 10, 1), via="session")
    b.score(late, "GAD-7", 5, date(2025, 10, 30), by=care_manager)  # day 29: too late
    c = first(date(2025, 11, 1))
    b.session(b.course(c, therapist, "IPT", date(2025, 11, 1)), date(2025, 11, 10), Attendance.NO_SHOW)  # no contact
    AdherenceCheck.objects.create(
        patient=c, checked_on=date(2025, 11, 20), method="self_report", percent=90, recorded_by=prescriber
    )  # day 19: met
    f = first(date(2025, 12, 1))
    SafetyFollowUp.objects.create(
        patient=f,
        assessed_on=date(2025, 12, 5),
        format="phone",
        outcome="no_ideation",
        plan="routine",
        plan_details="Routine.",
        recorded_by=prescriber,
    )  # day 4: met
    first(date(2026, 2, 10))  # its 4 weeks end on 2026-03-10: still open
    e = first(date(2025, 8, 15))  # intake before the period
    b.score(e, "GAD-7", 5, date(2025, 9, 10), by=care_manager)
    row = _run(clinic_admin, today)[0].rows[0]
    # 5 intakes in the period, 4 with the window closed, 3 followed up (a, c, f): 3 / 4 = 75 %
    assert (row["eligible"], row["met"], row["rate"], row["pending"]) == (4, 3, 75.0, 1)


def test_case_review_in_weeks_8_to_12_for_non_responders(clinic_admin, today, team, prescriber, care_manager):
    def baseline(total, on, family):  # type: ignore[no-untyped-def]
        p = b.patient(team=team, family_name=family)
        b.score(p, "PHQ-9", total, on, by=care_manager)
        return p

    r1 = baseline(20, date(2025, 9, 1), "One")  # day 56 = 2025-10-27, day 84 = 2025-11-24
    b.score(r1, "PHQ-9", 14, date(2025, 10, 20), by=care_manager)  # 14 x 2 > 20: not responding
    b.case_review(
        r1, requested=date(2025, 11, 1), reviewed=date(2025, 11, 10), by=care_manager, reviewer=prescriber
    )  # day 70: met
    r2 = baseline(18, date(2025, 9, 15), "Two")  # no score since: not responding
    b.case_review(
        r2, requested=date(2025, 11, 1), reviewed=date(2025, 11, 9), by=care_manager, reviewer=prescriber
    )  # day 55: before week 8, does not count
    r3 = baseline(16, date(2025, 9, 15), "Three")
    b.score(r3, "PHQ-9", 8, date(2025, 11, 1), by=care_manager)  # day 47, 8 x 2 = 16: responder, not eligible
    r4 = baseline(16, date(2025, 9, 15), "Four")
    b.score(r4, "PHQ-9", 8, date(2025, 11, 12), by=care_manager)  # day 58: after week 8, still a non-responder
    b.case_review(r4, requested=date(2025, 11, 15), by=care_manager)  # requested, never held
    baseline(20, date(2025, 12, 20), "Five")  # week 12 not reached yet (after 2025-12-08)
    baseline(9, date(2025, 9, 15), "Six")  # baseline below 10
    sections = _run(clinic_admin, today)
    row = sections[0].rows[1]
    # non-responders r1, r2, r4; reviewed in weeks 8-12: r1 -> 1 / 3 = 33.3 %
    assert (row["eligible"], row["met"], row["rate"]) == (3, 1, 33.3)
    assert [section.key for section in sections] == ["measures", "phq9_periods"]  # no patient list for admins
    # The care team's list of the same non-responders (tests' patients are all on `team`).
    params = ReportParams(user=care_manager, start=date(2025, 9, 1), end=date(2026, 2, 28), today=today)
    missed = report_get("missed_reviews").run(params).sections[0].rows
    assert [(r["patient"].split(",")[0], r["baseline"], r["week_8"]) for r in missed] == [
        ("Four", 16, 16),
        ("Two", 18, 18),
    ]


def test_phq9_in_each_4_month_period(clinic_admin, today, team, therapist, care_manager):
    def depressed(code):  # type: ignore[no-untyped-def]
        p = b.patient(team=team)
        b.care_plan(p, diagnoses=[{"code": code, "description": "x"}])
        return p

    d1 = depressed("F32.1")
    therapy = b.course(d1, therapist, "CBT", date(2025, 9, 1))
    b.session(therapy, date(2025, 10, 5))
    b.score(d1, "PHQ-9", 12, date(2025, 10, 5), by=care_manager)
    b.session(therapy, date(2026, 1, 10))  # seen in Jan-Apr without a PHQ-9
    b.score(depressed("F33.1"), "PHQ-9", 12, date(2026, 2, 1), by=care_manager)  # seen and measured in Jan-Apr
    d3 = depressed("F41.1")  # anxiety only: not counted
    b.score(d3, "PHQ-9", 12, date(2025, 10, 5), by=care_manager)
    b.score(depressed("F32.0"), "GAD-7", 8, date(2025, 10, 5), by=care_manager)  # seen, no PHQ-9
    sections = _run(clinic_admin, today)
    periods = [(r["window"], r["from"], r["to"], r["eligible"], r["met"], r["rate"]) for r in sections[1].rows]
    assert periods == [
        ("2025 Sep–Dec", date(2025, 9, 1), date(2025, 12, 31), 2, 1, 50.0),  # d1 measured, d4 not
        ("2026 Jan–Apr", date(2026, 1, 1), date(2026, 2, 28), 2, 1, 50.0),  # d2 measured, d1 not
    ]
    assert sections[0].rows[2]["eligible"] == 4 and sections[0].rows[2]["rate"] == 50.0  # 2 of 4 overall


def test_phq9_periods_clipped_by_the_chosen_dates_count_only_contacts_inside_them(
    clinic_admin, today, team, care_manager
):
    """The first and last 4-month periods are cut at the chosen dates: a contact before the start
    or after the end, in the same calendar period, does not count (stored per period, issue 14)."""

    def depressed(*scores):  # type: ignore[no-untyped-def]
        p = b.patient(team=team)
        b.care_plan(p, diagnoses=[{"code": "F32.1", "description": "x"}])
        for instrument, day in scores:
            b.score(p, instrument, 12, day, by=care_manager)
        return p

    depressed(("PHQ-9", date(2025, 10, 1)))  # before the start only: not seen
    depressed(("GAD-7", date(2025, 10, 1)), ("PHQ-9", date(2025, 11, 1)))  # seen, measured
    depressed(("PHQ-9", date(2025, 10, 1)), ("GAD-7", date(2025, 11, 1)))  # seen, its PHQ-9 before the start
    depressed(("PHQ-9", date(2026, 1, 10)), ("PHQ-9", date(2026, 3, 1)))  # Jan-Apr: seen and measured
    depressed(("GAD-7", date(2026, 1, 10)), ("PHQ-9", date(2026, 3, 1)))  # its PHQ-9 after the end
    depressed(("PHQ-9", date(2026, 3, 1)))  # after the end only: not seen

    def periods(start, end):  # type: ignore[no-untyped-def]
        params = ReportParams(user=clinic_admin, start=start, end=end, today=today)
        rows = report_get("process").run(params).sections[1].rows
        return [(r["window"], r["eligible"], r["met"]) for r in rows]

    assert periods(date(2025, 10, 15), date(2026, 2, 28)) == [("2025 Sep–Dec", 2, 1), ("2026 Jan–Apr", 2, 1)]
    # Inside one calendar period, cut at both ends: contacts on either side of it, none inside.
    assert periods(date(2026, 1, 11), date(2026, 2, 28)) == [("2026 Jan–Apr", 0, 0)]
    assert periods(date(2026, 1, 10), date(2026, 2, 28)) == [("2026 Jan–Apr", 2, 1)]


def test_query_count_does_not_grow_with_patients(
    client, clinic_admin, today, team, therapist, care_manager, prescriber
):
    client.force_login(clinic_admin)
    url = reverse("reports:report", kwargs={"key": "process"})

    def add(count):  # type: ignore[no-untyped-def]
        for index in range(count):
            p = b.patient(team=team)
            b.care_plan(p, diagnoses=[{"code": "F32.1", "description": "x"}])
            b.score(p, "PHQ-9", 18, date(2025, 7, 1), by=care_manager)
            b.score(p, "PHQ-9", 12 + index % 5, date(2025, 8, 20), by=care_manager)
            b.session(b.course(p, therapist, "CBT", date(2025, 7, 1)), date(2025, 7, 20))
            if index % 2:
                b.case_review(
                    p, requested=date(2025, 8, 27), reviewed=date(2025, 9, 1), by=care_manager, reviewer=prescriber
                )

    def count():  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"period": "12m"}).status_code == 200
        return len(queries)

    add(5)
    with_5 = count()
    add(45)
    assert count() == with_5
