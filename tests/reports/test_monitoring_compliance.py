"""Report 4: share of patients on each protocol with tests up to date (admins); the care team's
overdue list, monitoring_overdue (today 2026-03-02)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careplans.models import PatientStatus, TeamRole
from medications.models import Medication
from reports.base import ReportParams
from reports.catalog import report_get
from tests.factories import UserFactory
from tests.reports import builders as b

pytestmark = pytest.mark.django_db
BASELINE_TESTS = ("egfr", "creatinine", "tsh", "calcium", "fbc", "bmi")


def _run(admin, today, clinician=None):  # type: ignore[no-untyped-def]
    return report_get("monitoring").run(
        ReportParams(user=admin, start=today, end=today, today=today, clinician=clinician)
    )


@pytest.fixture
def on_lithium(team, prescriber):  # type: ignore[no-untyped-def]
    started = date(2026, 2, 1)
    done = b.patient(team=team, family_name="Done")
    b.regimen(done, "Lithium carbonate", started, by=prescriber)
    for test in BASELINE_TESTS:
        b.lab(done, test, "1", date(2026, 1, 25), by=prescriber)
    b.lab(done, "lithium_level", "0.8", date(2026, 2, 8), by=prescriber)  # week 1, in range: stable
    other = UserFactory(username="dr-late", first_name="Lee", last_name="Late", is_prescriber=True)
    late = b.patient(team={TeamRole.PRESCRIBER: other}, family_name="Late")
    b.regimen(late, "Lithium carbonate", started, by=other)  # nothing taken
    b.regimen(b.patient(team=team), "Sertraline", started, by=prescriber)  # no protocol
    gone = b.patient(team=team, status=PatientStatus.DISCHARGED)
    b.regimen(gone, "Lithium carbonate", started, by=prescriber)
    return done, late, other


def test_share_up_to_date_and_overdue_list_match_the_hand_count(clinic_admin, today, on_lithium):
    done, late, other = on_lithium
    result = _run(clinic_admin, today)
    protocol = Medication.objects.get(name="Lithium carbonate").monitoring_protocol.name
    # Two active patients on lithium (the discharged one and the sertraline one do not count);
    # one has every baseline test and the week-1 level in range: 1 / 2 = 50 %.
    assert result.sections[0].rows == [
        {"protocol": protocol, "patients": 2, "up_to_date": 1, "overdue": 1, "share_up_to_date": 50.0}
    ]
    assert len(result.sections) == 1  # no patient list for admins
    overdue = report_get("monitoring_overdue").run(ReportParams(user=other, start=today, end=today, today=today))
    overdue = overdue.sections[0].rows
    # The late patient: 6 baseline tests due at the start (2026-02-01) and the level due a week later.
    assert len(overdue) == 7
    assert {row["patient"] for row in overdue} == {late.display_name}
    level = [row for row in overdue if row["due_date"] == date(2026, 2, 8)]
    assert len(level) == 1
    assert level[0]["days_overdue"] == 22  # 2026-02-08 -> 2026-03-02
    assert level[0]["prescriber"] == "Lee Late"
    assert {row["days_overdue"] for row in overdue} == {29, 22}


def test_per_clinician_counts_their_patients_only(clinic_admin, today, on_lithium):
    *_, other = on_lithium
    result = _run(clinic_admin, today, clinician=other)
    assert [(r["patients"], r["up_to_date"]) for r in result.sections[0].rows] == [(1, 0)]


def test_monitoring_page_query_count_does_not_grow_with_patients(client, clinic_admin, today, team, prescriber):
    client.force_login(clinic_admin)
    url = reverse("reports:report", kwargs={"key": "monitoring"})

    def add(count):  # type: ignore[no-untyped-def]
        for _ in range(count):
            person = b.patient(team=team)
            b.regimen(person, "Lithium carbonate", date(2026, 1, 1), by=prescriber)
            b.lab(person, "bmi", "24", date(2026, 1, 1), by=prescriber)

    def count():  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add(5)
    with_5 = count()
    add(45)
    assert count() == with_5
