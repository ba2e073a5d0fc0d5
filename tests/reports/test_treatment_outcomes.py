"""Report 2: outcomes by treatment combination against a hand-worked cohort.

Period 2025-06-01 to 2025-12-31, today 2026-03-02. Every baseline is on 2025-07-01 (B):
day 56 = 2025-08-26, day 112 = 2025-10-21, day 152 = 2025-11-30, day 212 = 2026-01-29.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medications.models import Regimen
from reports.base import ReportParams
from reports.catalog import report_get
from tests.reports import builders as b

pytestmark = pytest.mark.django_db
B = date(2025, 7, 1)


def day(n: int) -> date:
    return B + timedelta(days=n)


@pytest.fixture
def cohort(team, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    def person(baseline: int, *scores: tuple[int, int], meds: int | None = None, therapy: bool = False, on: date = B):  # type: ignore[no-untyped-def]
        p = b.patient(team=team)
        b.score(p, "PHQ-9", baseline, on, by=care_manager)
        for offset, total in scores:
            b.score(p, "PHQ-9", total, on + timedelta(days=offset), by=care_manager)
        if meds is not None:
            b.regimen(p, "Sertraline", on + timedelta(days=meds), by=prescriber)
        if therapy:
            b.course(p, therapist, "CBT", on - timedelta(days=10))
        return p

    person(20, (84, 8), (182, 4), meds=0)  # M1
    person(10, (62, 9), (111, 7), meds=-30)  # M2: the later score in the window counts
    person(15, meds=0)  # M3: never measured again
    person(12, (84, 6), (182, 3), therapy=True)  # T1
    person(16, (55, 10), (113, 4), therapy=True)  # T2: both scores just outside the window
    person(24, (56, 12), (212, 18), meds=0, therapy=True)  # B1: on the window edges
    person(20, (84, 14), meds=0, therapy=True)  # B3
    b2 = person(10, (112, 4), meds=112)  # B2: regimen from day 112 counts ...
    b.course(b2, therapist, "IPT", date(2025, 1, 1), ended=date(2025, 6, 30))  # ... a course ended before B does not
    person(12, (84, 12))  # N1
    n4 = person(14, (84, 14), meds=0)  # N4: its only regimen was entered in error
    Regimen.all_records.filter(patient=n4).update(entered_in_error_at=b.at(day(90)))
    person(9, (84, 2))  # baseline below 10: not in the cohort
    person(20, (84, 2), on=date(2025, 5, 31))  # baseline before the period: not in the cohort


def _run(admin, today):  # type: ignore[no-untyped-def]
    params = ReportParams(user=admin, start=date(2025, 6, 1), end=date(2025, 12, 31), today=today)
    result = report_get("treatment_outcomes").run(params)
    return [{row["treatment"]: row for row in section.rows} for section in result.sections]


def test_twelve_week_outcomes_by_treatment_match_the_hand_count(clinic_admin, today, cohort):
    weeks_12, _ = _run(clinic_admin, today)
    med = weeks_12["Medication only"]
    # M1 8 (-60 %, response), M2 7 (-30 %), B2 4 (-60 %, response, remission); M3 unmeasured
    assert (med["patients"], med["measured"]) == (4, 3)
    assert (med["response_rate"], med["remission_rate"], med["median_change"]) == (66.7, 33.3, -60.0)
    therapy = weeks_12["Therapy only"]
    # T1 6 from 12: exactly 50 % is a response, not a remission; T2 unmeasured
    assert (
        therapy["patients"],
        therapy["measured"],
        therapy["response_rate"],
        therapy["remission_rate"],
        therapy["median_change"],
    ) == (2, 1, 100.0, 0.0, -50.0)
    both = weeks_12["Medication and therapy"]
    # B1 12 from 24 (-50 %, response), B3 14 from 20 (-30 %): median of two = (-50 + -30) / 2
    assert (both["patients"], both["measured"], both["response_rate"], both["median_change"]) == (2, 2, 50.0, -40.0)
    neither = weeks_12["Neither (care management only)"]
    assert (neither["patients"], neither["measured"], neither["response_rate"], neither["median_change"]) == (
        2,
        2,
        0.0,
        0.0,
    )
    everyone = weeks_12["All patients"]
    # 10 patients, 8 measured; responses M1, B2, T1, B1 = 4/8; remission B2 = 1/8
    # changes -60 -60 -50 -50 | -30 -30 0 0 -> median (-50 + -30) / 2 = -40
    assert (
        everyone["patients"],
        everyone["measured"],
        everyone["response_rate"],
        everyone["remission_rate"],
        everyone["median_change"],
    ) == (10, 8, 50.0, 12.5, -40.0)


def test_six_month_outcomes_by_treatment_match_the_hand_count(clinic_admin, today, cohort):
    _, months_6 = _run(clinic_admin, today)
    # M1 4 from 20 (-80 %), T1 3 from 12 (-75 %), B1 18 from 24 on day 212 (-25 %)
    assert [
        (row["measured"], row["response_rate"], row["remission_rate"], row["median_change"])
        for row in (
            months_6["Medication only"],
            months_6["Therapy only"],
            months_6["Medication and therapy"],
        )
    ] == [(1, 100.0, 100.0, -80.0), (1, 100.0, 100.0, -75.0), (1, 0.0, 0.0, -25.0)]
    assert months_6["Neither (care management only)"]["response_rate"] is None  # nobody measured
    everyone = months_6["All patients"]
    assert (everyone["measured"], everyone["response_rate"], everyone["remission_rate"], everyone["median_change"]) == (
        3,
        66.7,
        66.7,
        -75.0,
    )


def test_query_count_does_not_grow_with_patients(
    client, clinic_admin, today, team, prescriber, therapist, care_manager
):
    client.force_login(clinic_admin)
    url = reverse("reports:report", kwargs={"key": "treatment_outcomes"})

    def add(count):  # type: ignore[no-untyped-def]
        for index in range(count):
            p = b.patient(team=team)
            b.score(p, "PHQ-9", 18, date(2025, 7, 1), by=care_manager)
            b.score(p, "PHQ-9", 6 + index % 7, date(2025, 9, 20), by=care_manager)
            if index % 2:
                b.regimen(p, "Sertraline", date(2025, 7, 1), by=prescriber)
            if index % 3:
                b.course(p, therapist, "CBT", date(2025, 7, 1))

    def count():  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"period": "12m"}).status_code == 200
        return len(queries)

    add(5)
    with_5 = count()
    add(45)
    assert count() == with_5
