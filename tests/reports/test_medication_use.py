"""Report 6: active regimens by class, dose changes per month, side effects (period 2026-01-01 to 2026-02-28)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medications.models import Regimen
from reports.base import ReportParams
from reports.catalog import report_get
from tests.reports import builders as b

pytestmark = pytest.mark.django_db


@pytest.fixture
def medication(team, prescriber):  # type: ignore[no-untyped-def]
    p1, p2, p3, p4 = (b.patient(team=team) for _ in range(4))
    sertraline = b.regimen(p1, "Sertraline", date(2025, 12, 1), by=prescriber)
    b.regimen(p1, "Quetiapine", date(2026, 1, 10), stopped_on=date(2026, 2, 20), by=prescriber)  # stopped
    b.regimen(p2, "Fluoxetine", date(2026, 2, 1), by=prescriber)
    b.regimen(p2, "Lithium carbonate", date(2026, 3, 1), by=prescriber)  # after the period
    wrong = b.regimen(p3, "Escitalopram", date(2025, 12, 1), by=prescriber)
    b.dose_change(wrong, "20", date(2026, 2, 1), by=prescriber)
    Regimen.all_records.filter(pk=wrong.pk).update(entered_in_error_at=b.at(date(2026, 2, 2)))
    b.regimen(p3, "Lithium carbonate", date(2025, 6, 1), stopped_on=date(2026, 2, 28), by=prescriber)  # stopped
    aripiprazole = b.regimen(p4, "Aripiprazole", date(2025, 1, 1), stopped_on=date(2026, 3, 1), by=prescriber)
    b.dose_change(aripiprazole, "10", date(2025, 12, 20), by=prescriber)  # before the period
    b.dose_change(sertraline, "100", date(2026, 1, 15), by=prescriber)
    b.dose_change(sertraline, "50", date(2026, 2, 10), by=prescriber, reason_code="side_effect")
    b.side_effect(p1, sertraline, "mild", date(2026, 1, 20), by=prescriber, effect="=CANARY-effect")
    b.side_effect(p1, sertraline, "moderate", date(2026, 2, 5), by=prescriber)
    b.side_effect(p4, aripiprazole, "severe", date(2026, 2, 15), by=prescriber)
    b.side_effect(p2, None, "mild", date(2026, 1, 5), by=prescriber)
    b.side_effect(p1, sertraline, "severe", date(2025, 12, 5), by=prescriber)  # before the period


def _sections(admin, today):  # type: ignore[no-untyped-def]
    params = ReportParams(user=admin, start=date(2026, 1, 1), end=date(2026, 2, 28), today=today)
    return report_get("medication").run(params).sections


def test_active_regimens_by_class_at_the_period_end(clinic_admin, today, medication):
    active = _sections(clinic_admin, today)[0].rows
    # SSRI: sertraline (p1) + fluoxetine (p2); SGA: aripiprazole (p4, stopped after the end).
    # Quetiapine and p3's lithium stopped by then, p2's lithium started after, escitalopram in error.
    assert [(r["drug_class"], r["regimens"], r["patients"]) for r in active] == [
        ("SSRI antidepressant", 2, 2),
        ("Second-generation antipsychotic", 1, 1),
        ("All classes", 3, 3),
    ]


def test_dose_changes_per_month(clinic_admin, today, medication):
    changes = _sections(clinic_admin, today)[1].rows
    # January: sertraline 50 -> 100; February: 100 -> 50 for a side effect. Starts are not changes;
    # the December change is before the period and the escitalopram change was entered in error.
    assert changes == [
        {"month": "2026-01", "changes": 1, "up": 1, "down": 0, "for_side_effects": 0},
        {"month": "2026-02", "changes": 1, "up": 0, "down": 1, "for_side_effects": 1},
    ]


def test_side_effects_by_class_and_severity_without_their_text(clinic_admin, today, medication):
    effects = _sections(clinic_admin, today)[2].rows
    assert [(r["drug_class"], r["reports"], r["patients"], r["mild"], r["moderate"], r["severe"]) for r in effects] == [
        ("SSRI antidepressant", 2, 1, 1, 1, 0),
        ("Second-generation antipsychotic", 1, 1, 0, 0, 1),
        ("Not linked to a regimen", 1, 1, 1, 0, 0),
        ("All classes", 4, 3, 2, 1, 1),
    ]
    assert "CANARY" not in repr(effects)


def test_query_count_does_not_grow_with_patients(client, clinic_admin, today, team, prescriber):
    client.force_login(clinic_admin)
    url = reverse("reports:report", kwargs={"key": "medication"})

    def add(count):  # type: ignore[no-untyped-def]
        for index in range(count):
            p = b.patient(team=team)
            made = b.regimen(
                p, ["Sertraline", "Quetiapine", "Lithium carbonate"][index % 3], date(2025, 6, 1), by=prescriber
            )
            b.dose_change(made, "75", date(2025, 9, 1), by=prescriber)
            b.side_effect(p, made, "mild", date(2025, 10, 1), by=prescriber)

    def count():  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"period": "12m"}).status_code == 200
        return len(queries)

    add(5)
    with_5 = count()
    add(45)
    assert count() == with_5
