"""Report 5: sessions, attendance and no-show rate by therapist and modality, by hand."""

from datetime import date

import pytest

from reports.base import ReportParams
from reports.catalog import report_get
from tests.factories import UserFactory
from tests.reports import builders as b
from therapy.models import Attendance

pytestmark = pytest.mark.django_db


def _run(admin, today, **extra):  # type: ignore[no-untyped-def]
    params = ReportParams(user=admin, start=date(2026, 1, 1), end=date(2026, 2, 28), today=today, **extra)
    return report_get("therapy").run(params)


@pytest.fixture
def sessions(team, therapist):  # type: ignore[no-untyped-def]
    other = UserFactory(username="t2", first_name="Bea", last_name="Zed", is_therapist=True)
    p1 = b.patient(team=team)
    p2 = b.patient(team={"therapist": other})
    cbt = b.course(p1, therapist, "CBT", date(2025, 12, 1))
    ipt = b.course(p1, therapist, "IPT", date(2026, 1, 1))
    dbt = b.course(p2, other, "DBT", date(2026, 1, 1))
    # therapist, CBT: 3 attended, 1 no-show, 1 cancelled in the period; one attended before it (not counted)
    for day in (5, 12, 19):
        b.session(cbt, date(2026, 1, day))
    b.session(cbt, date(2026, 1, 26), Attendance.NO_SHOW)
    b.session(cbt, date(2026, 2, 2), Attendance.CANCELLED)
    b.session(cbt, date(2025, 12, 20))
    # therapist, IPT: 1 attended, 1 late cancel
    b.session(ipt, date(2026, 2, 3))
    b.session(ipt, date(2026, 2, 10), Attendance.LATE_CANCEL)
    # other therapist, DBT: 1 attended, 1 no-show; one session entered in error (not counted)
    b.session(dbt, date(2026, 1, 7))
    b.session(dbt, date(2026, 1, 14), Attendance.NO_SHOW)
    wrong = b.session(dbt, date(2026, 1, 21), Attendance.NO_SHOW)
    type(wrong).all_records.filter(pk=wrong.pk).update(entered_in_error_at=b.at(date(2026, 1, 22)))
    return other


def test_counts_and_rates_by_therapist_match_hand_count(clinic_admin, today, sessions, therapist):
    result = _run(clinic_admin, today)
    rows = {row["therapist"]: row for row in result.sections[0].rows}
    mine = rows[therapist.get_full_name()]
    # therapist: CBT 3 attended + 1 no-show + 1 cancelled, IPT 1 attended + 1 late cancel = 7 sessions
    assert (mine["sessions"], mine["attended"], mine["no_show"], mine["cancelled"], mine["late_cancel"]) == (
        7,
        4,
        1,
        1,
        1,
    )
    assert mine["attendance_rate"] == 57.1  # 4 / 7 = 57.14 %
    assert mine["no_show_rate"] == 14.3  # 1 / 7 = 14.29 %
    other = rows["Bea Zed"]
    # DBT: 1 attended + 1 no-show; the session entered in error is left out
    assert (other["sessions"], other["attended"], other["no_show"]) == (2, 1, 1)
    assert other["no_show_rate"] == 50.0  # 1 / 2
    total = rows["All therapists"]
    assert (total["sessions"], total["no_show"]) == (9, 2)
    assert total["no_show_rate"] == 22.2  # 2 / 9 = 22.22 %


def test_modality_rows_split_one_therapist_by_modality(clinic_admin, today, sessions):
    result = _run(clinic_admin, today)
    by_modality = {row["modality"]: row for row in result.sections[1].rows}
    assert by_modality["Cognitive behavioural therapy"]["sessions"] == 5  # 3 + 1 + 1 in the period
    assert by_modality["Interpersonal psychotherapy"]["attendance_rate"] == 50.0  # 1 / 2
    pairs = [(row["therapist"], row["modality"], row["sessions"]) for row in result.sections[2].rows]
    assert ("Bea Zed", "Dialectical behaviour therapy", 2) in pairs
    assert len(pairs) == 3


def test_per_clinician_counts_only_that_clinicians_patients(clinic_admin, today, sessions):
    result = _run(clinic_admin, today, clinician=sessions)
    therapists = [row["therapist"] for row in result.sections[0].rows]
    assert therapists == ["Bea Zed", "All therapists"]


def test_session_summaries_never_appear_in_the_report(clinic_admin, today, team, therapist):
    p = b.patient(team=team)
    b.session(b.course(p, therapist, "CBT", date(2026, 1, 1)), date(2026, 1, 5), summary="CANARY-summary")
    result = _run(clinic_admin, today)
    assert "CANARY" not in repr([section.rows for section in result.sections])


def test_therapy_page_query_count_does_not_grow_with_patients(client, clinic_admin, today, team, therapist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(clinic_admin)
    url = reverse("reports:report", kwargs={"key": "therapy"})

    def add(count):  # type: ignore[no-untyped-def]
        for index in range(count):
            therapy = b.course(b.patient(team=team), therapist, ["CBT", "IPT", "DBT"][index % 3], date(2026, 1, 1))
            b.session(therapy, date(2026, 1, 10))
            b.session(therapy, date(2026, 1, 17), Attendance.NO_SHOW)

    def count():  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add(5)
    with_5 = count()
    add(45)
    assert count() == with_5
