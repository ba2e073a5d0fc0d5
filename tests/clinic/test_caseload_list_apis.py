"""The list APIs over a clinician's whole caseload (assessments, therapy courses, reminders)
answer in a number of queries that does not grow with the caseload, and their count stops at
COUNT_LIMIT (`count_exact` false) while the pages still run to the end (issue 14)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careplans.models import TeamRole
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.outcomes.helpers import record
from tests.reminders.reminder_factories import ReminderFactory
from therapy import services as therapy_services
from therapy.models import Modality

pytestmark = pytest.mark.django_db


def _patients(user, n: int, role: str) -> list:  # type: ignore[no-untyped-def]
    patients = []
    for _ in range(n):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=user, role=role)
        patients.append(patient)
    return patients


def _queries(client, url: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.json()


def test_assessment_list_queries_do_not_grow_with_the_caseload(api, care_manager):
    client = api(care_manager)
    for patient in _patients(care_manager, 5, TeamRole.CARE_MANAGER):
        record(patient, care_manager, "PHQ-9", 10, date.today() - timedelta(days=3))
    small, body = _queries(client, "/api/v1/assessments/")
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert (body["count"], body["count_exact"], body["next"]) == (5, True, None)
    for patient in _patients(care_manager, 55, TeamRole.CARE_MANAGER):
        record(patient, care_manager, "PHQ-9", 10, date.today() - timedelta(days=3))
    large, body = _queries(client, "/api/v1/assessments/")
    assert (body["count"], len(body["results"])) == (60, 50) and body["next"].endswith("?page=2")
    assert small == large == 4


def test_therapy_course_list_queries_do_not_grow_with_the_caseload(api, therapist):
    client = api(therapist)
    cbt = Modality.objects.get(code="CBT")

    def open_courses(n: int) -> None:
        for patient in _patients(therapist, n, TeamRole.THERAPIST):
            therapy_services.course_open(
                patient=patient, actor=therapist, modality=cbt, goals=[], started_on=timezone.localdate()
            )

    open_courses(5)
    small, body = _queries(client, "/api/v1/therapy-courses/")
    assert body["count"] == 5
    open_courses(55)
    large, body = _queries(client, "/api/v1/therapy-courses/")
    assert (body["count"], len(body["results"])) == (60, 50)
    assert small == large == 5  # the assessments' four, plus the page's goals (prefetched)


def test_reminder_list_queries_do_not_grow_with_the_caseload(api, prescriber):
    client = api(prescriber)

    def remind(n: int) -> None:
        for patient in _patients(prescriber, n, TeamRole.PRESCRIBER):
            ReminderFactory(recipient=prescriber, patient=patient)

    remind(5)
    small, _ = _queries(client, "/api/v1/reminders/")
    remind(55)
    large, body = _queries(client, "/api/v1/reminders/")
    assert (body["count"], len(body["results"])) == (60, 50)
    assert small == large == 2


def test_count_stops_at_the_limit_and_the_pages_still_reach_the_end(api, care_manager, monkeypatch):
    # COUNT_LIMIT is 10,000 in the clinic; 20 here so the test needs 60 records, not 10,001.
    monkeypatch.setattr("careplans.paging.COUNT_LIMIT", 20)
    for patient in _patients(care_manager, 60, TeamRole.CARE_MANAGER):
        record(patient, care_manager, "GAD-7", 5, date.today() - timedelta(days=1))
    client = api(care_manager)
    first = client.get("/api/v1/assessments/").json()
    assert (first["count"], first["count_exact"]) == (20, False)
    assert first["next"].endswith("page=2") and first["previous"] is None
    second = client.get(first["next"]).json()
    assert second["next"] is None and second["previous"] is not None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 60  # every record once, none missing


def test_the_count_counts_exactly_the_rows_listed(api, care_manager):
    """The assessment and course lists count by the caller's patient ids (count_queryset) while
    their pages check each row: both must name the same rows, break-glass included, and neither
    an ended membership, another team's patient nor a record entered in error."""
    from careplans.models import BreakGlassGrant
    from outcomes import services as outcome_services

    now = timezone.now()
    member, granted, ended, other = (PatientFactory() for _ in range(4))
    CareTeamMemberFactory(patient=member, user=care_manager, role=TeamRole.CARE_MANAGER)
    CareTeamMemberFactory(
        patient=ended, user=care_manager, role=TeamRole.CARE_MANAGER, started_at=now - timedelta(days=9), ended_at=now
    )
    BreakGlassGrant.objects.create(patient=granted, user=care_manager, reason="r", expires_at=now + timedelta(hours=1))
    on = date.today() - timedelta(days=2)
    for patient in (member, granted, ended, other):
        record(patient, care_manager, "PHQ-9", 12, on)
    wrong = record(member, care_manager, "GAD-7", 9, on)
    outcome_services.assessment_enter_in_error(assessment=wrong, actor=care_manager, reason="wrong patient")
    client = api(care_manager)
    body = client.get("/api/v1/assessments/").json()
    listed = {row["patient"] for row in body["results"]}
    assert listed == {str(member.public_id), str(granted.public_id)}
    assert (body["count"], len(body["results"])) == (2, 2)
    one = client.get(f"/api/v1/assessments/?patient={member.public_id}").json()
    assert (one["count"], len(one["results"])) == (1, 1)
    courses = client.get("/api/v1/therapy-courses/").json()
    assert courses["count"] == len(courses["results"]) == 0


def test_a_patient_filter_is_resolved_once_for_the_page_and_its_count(api, care_manager):
    """`?patient=` resolves the patient (one query, an audited 404 if invisible) once, though the
    list and its count (count_queryset) are two filtered querysets."""
    patient = _patients(care_manager, 1, TeamRole.CARE_MANAGER)[0]
    record(patient, care_manager, "PHQ-9", 10, date.today() - timedelta(days=3))
    client = api(care_manager)
    plain, _ = _queries(client, "/api/v1/assessments/")
    filtered, body = _queries(client, f"/api/v1/assessments/?patient={patient.public_id}")
    assert (body["count"], len(body["results"])) == (1, 1)
    # The patient's lookup, once, takes the place of the read audit's query for the patients shown
    # (it names the filtered patient without one); resolved twice, it was plain + 1.
    assert filtered == plain
