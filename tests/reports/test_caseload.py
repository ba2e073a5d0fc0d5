"""Report 1, the registry (the care team's, of their own caseload): every column and flag
against a hand-worked fixture (today 2026-03-02), read from the incremental report facts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careplans.models import PatientStatus, TeamRole
from reports.base import ReportParams
from reports.catalog import report_get
from tests.factories import UserFactory
from tests.reports import builders as b
from tests.reports.conftest import JIT_STATEMENTS

pytestmark = pytest.mark.django_db


def _rows(admin, today, **options):  # type: ignore[no-untyped-def]
    clinician = options.pop("clinician", None)
    params = ReportParams(user=admin, start=today, end=today, today=today, clinician=clinician)
    form = report_get("registry").options_form(options)
    assert form.is_valid(), form.errors
    return report_get("registry").run(params, options=form.cleaned_data).sections[0].rows


@pytest.fixture
def registry(team, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    p1 = b.patient(team=team, family_name="Able", given_name="Ann", registered=date(2025, 10, 1))
    b.score(p1, "PHQ-9", 20, date(2025, 11, 3), by=care_manager)
    alert = b.score(p1, "PHQ-9", 16, date(2026, 2, 23), by=care_manager, item9=1)
    b.safety_alert(alert)
    b.score(p1, "GAD-7", 12, date(2025, 11, 3), by=care_manager)
    b.score(p1, "GAD-7", 6, date(2026, 2, 23), by=care_manager)
    b.session(b.course(p1, therapist, "CBT", date(2025, 11, 1)), date(2026, 2, 25))
    b.regimen(p1, "Lithium carbonate", date(2025, 12, 1), by=prescriber)  # no levels taken: overdue

    p2 = b.patient(team=team, family_name="Baker", given_name="Bo", registered=date(2025, 12, 1))
    b.case_review(p2, requested=date(2026, 2, 20), by=care_manager)

    other = UserFactory(username="dr2", first_name="Olu", last_name="Other", is_prescriber=True)
    p3 = b.patient(
        team={TeamRole.PRESCRIBER: other, TeamRole.CARE_MANAGER: care_manager},
        family_name="Cole",
        given_name="Cy",
        registered=date(2026, 2, 1),
    )
    b.score(p3, "PHQ-9", 8, date(2026, 2, 16), by=care_manager)

    b.patient(team=team, family_name="Gone", given_name="Di", status=PatientStatus.DISCHARGED)
    return p1, p2, p3, other


def test_every_column_matches_the_hand_count(care_manager, today, registry, prescriber, therapist):
    p1, p2, p3, _ = registry
    rows = _rows(care_manager, today)
    # Default sort: most flags first. The discharged patient is not listed.
    assert [row["patient"] for row in rows] == ["Able, Ann", "Baker, Bo", "Cole, Cy"]
    ann, bo, cy = rows
    assert ann["care_team"] == (
        f"{prescriber.get_full_name()} (prescriber); {therapist.get_full_name()} "
        f"(therapist); {care_manager.get_full_name()} (care manager)"
    )
    # PHQ-9 baseline 2025-11-03 -> 2026-03-02 is 119 days = 17 weeks
    assert ann["weeks"] == 17
    assert (ann["phq9_first"], ann["phq9_latest"], ann["phq9_change"]) == (20, 16, -20.0)  # (16-20)/20
    assert (ann["gad7_first"], ann["gad7_latest"], ann["gad7_change"]) == (12, 6, -50.0)  # (6-12)/12
    assert ann["last_contact"] == date(2026, 2, 25)  # the attended session, after the last questionnaire
    # PHQ-9: 16 is not <= 20/2 and not < 5, baseline 17 weeks old -> not improving (GAD-7 responded).
    # Safety alert open; lithium level never taken -> monitoring overdue; PHQ-9 7 days ago -> measured.
    assert [key for key, _ in ann["flags"]] == ["safety_alert", "not_improving", "monitoring_overdue"]
    # Bo: no scores, registered 2025-12-01 -> 91 days = 13 weeks; no PHQ-9 for 4 weeks; review requested
    assert (bo["weeks"], bo["phq9_first"], bo["phq9_change"], bo["last_contact"]) == (13, None, None, None)
    assert [key for key, _ in bo["flags"]] == ["measurement_overdue", "discuss_at_review"]
    # Cy: one PHQ-9 of 8 two weeks ago: change 0 %, too early to call, nothing overdue
    assert (cy["weeks"], cy["phq9_first"], cy["phq9_latest"], cy["phq9_change"], cy["flags"]) == (2, 8, 8, 0.0, [])
    assert cy["patient_id"] == str(p3.public_id)


def test_filter_keeps_patients_with_any_ticked_flag(care_manager, today, registry):
    assert [r["patient"] for r in _rows(care_manager, today, flag=["discuss_at_review"])] == ["Baker, Bo"]
    both = _rows(care_manager, today, flag=["discuss_at_review", "safety_alert"])
    assert [r["patient"] for r in both] == ["Able, Ann", "Baker, Bo"]


def test_sorts_by_an_allow_listed_column_with_empty_values_last(care_manager, today, registry):
    rows = _rows(care_manager, today, sort="-phq9_latest")
    assert [r["patient"] for r in rows] == ["Able, Ann", "Cole, Cy", "Baker, Bo"]  # 16, 8, none
    rows = _rows(care_manager, today, sort="weeks")
    assert [r["weeks"] for r in rows] == [2, 13, 17]


def test_per_clinician_lists_only_their_current_patients(care_manager, today, registry):
    *_, other = registry
    assert [r["patient"] for r in _rows(care_manager, today, clinician=other)] == ["Cole, Cy"]


def test_page_shows_flags_and_links_names_to_the_chart(client, care_manager, today, registry):
    p1 = registry[0]
    client.force_login(care_manager)
    response = client.get(reverse("reports:report", kwargs={"key": "registry"}))
    html = response.content.decode()
    assert f'href="/patients/{p1.public_id}/"' in html
    assert "Safety alert open" in html
    assert "Rows 1–3 of 3" in html


def test_sort_outside_the_allow_list_shows_an_error_and_no_rows(client, care_manager, today, registry):
    client.force_login(care_manager)
    response = client.get(reverse("reports:report", kwargs={"key": "registry"}), {"sort": "author__password"})
    assert b"Select a valid choice" in response.content
    assert b"Able, Ann" not in response.content


def _clinic(size, team, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    for index in range(size):
        person = b.patient(team=team, registered=date(2025, 9, 1))
        b.score(person, "PHQ-9", 15, date(2025, 10, 1), by=care_manager)
        b.score(person, "PHQ-9", 9 + index % 5, date(2026, 2, 1), by=care_manager)
        b.score(person, "GAD-7", 10, date(2025, 10, 1), by=care_manager)
        b.session(b.course(person, therapist, "CBT", date(2025, 10, 1)), date(2026, 2, 10))
        if index % 2:
            b.regimen(person, "Quetiapine", date(2025, 11, 1), by=prescriber)
        if index % 3 == 0:
            b.case_review(person, requested=date(2026, 2, 1), by=care_manager)


def _count_queries(client, url, data):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, data).status_code == 200
    return len(queries)


def test_registry_page_query_count_does_not_grow_with_patients(
    client, today, team, prescriber, therapist, care_manager, django_assert_max_num_queries
):
    client.force_login(care_manager)
    url = reverse("reports:report", kwargs={"key": "registry"})
    _clinic(5, team, prescriber, therapist, care_manager)
    with_5 = _count_queries(client, url, {"sort": "-phq9_change"})
    _clinic(45, team, prescriber, therapist, care_manager)
    with_50 = _count_queries(client, url, {"sort": "-phq9_change"})
    assert with_5 == with_50
    # session, user, 5 monitoring (regimens, steps, results, dose changes, monitoring exceptions), the
    # page with its count, clinicians for the form, audit (savepoint, chain head, insert, update,
    # release), session save (3)
    with django_assert_max_num_queries(17 + JIT_STATEMENTS):
        client.get(url, {"flag": ["monitoring_overdue"]})
