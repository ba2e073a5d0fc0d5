"""/api/v1/reports/...: the same reports for clinic admins, with 400s keyed by field."""

from datetime import date

import pytest

from clinic.models import AuditEvent
from reports.models import ReportRun
from tests.reports import builders as b

pytestmark = pytest.mark.django_db


def test_lists_the_reports(api, clinic_admin, care_manager):
    data = api(clinic_admin).get("/api/v1/reports/").json()
    assert data["count"] == len(data["results"]) >= 3
    first = {"key": "registry_summary", "title": "Registry summary", "audience": "admin"}
    assert first.items() <= data["results"][0].items()
    data = api(care_manager).get("/api/v1/reports/").json()
    assert {"key": "registry", "title": "Registry", "audience": "care_team"}.items() <= data["results"][0].items()


def test_runs_a_report_with_its_parameters_and_audits_it(api, clinic_admin, today, team, therapist):
    person = b.patient(team=team)
    therapy = b.course(person, therapist, "CBT", date(2026, 1, 1))
    b.session(therapy, date(2026, 1, 5))
    response = api(clinic_admin).get(
        "/api/v1/reports/therapy/", {"period": "custom", "start": "2026-01-01", "end": "2026-01-31"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["parameters"] == {"start": "2026-01-01", "end": "2026-01-31", "as_of": "2026-03-02"}
    first = data["sections"][0]
    assert first["columns"][0] == {"key": "therapist", "label": "Therapist", "kind": "text"}
    assert first["rows"][0]["sessions"] == 1
    event = AuditEvent.objects.get(object_type="outcomes.report")
    assert (event.action, event.changes["format"]) == ("export", "json")


def test_bad_parameters_are_a_400_keyed_by_field(api, clinic_admin, today):
    response = api(clinic_admin).get(
        "/api/v1/reports/therapy/", {"period": "custom", "start": "2026-02-10", "end": "2026-02-01"}
    )
    assert response.status_code == 400
    assert response.json() == {"start": ["The period must start on or before its last day."]}
    response = api(clinic_admin).get("/api/v1/reports/therapy/", {"period": "forever"})
    assert list(response.json()) == ["period"]


@pytest.mark.parametrize("sort", ["author__password", "family_name; DROP TABLE x", "'", "-pk"])
def test_sort_outside_the_allow_list_is_refused(api, care_manager, today, sort):
    response = api(care_manager).get("/api/v1/reports/registry/", {"sort": sort})
    assert response.status_code == 400
    assert list(response.json()) == ["sort"]


def test_unknown_parameters_are_refused(api, clinic_admin, today):
    response = api(clinic_admin).get("/api/v1/reports/therapy/", {"ordering": "author__password"})
    assert response.status_code == 400
    assert response.json() == {"ordering": ["Unknown parameter."]}


def test_background_run_through_the_api(
    api, care_manager, today, team, eager_celery, django_capture_on_commit_callbacks
):
    b.patient(team=team)
    client = api(care_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/reports/runs/", {"report": "registry", "options": {"flag": ["measurement_overdue"]}}, format="json"
        )
    assert response.status_code == 202
    run_id = response.json()["id"]
    run = client.get(f"/api/v1/reports/runs/{run_id}/").json()
    assert (run["status"], run["progress"], run["row_count"]) == ("done", 100, 1)
    assert run["parameters"] == {"period": "12m", "options": {"sort": "-flags", "flag": ["measurement_overdue"]}}
    csv_response = client.get(run["csv_url"])
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert client.get("/api/v1/reports/runs/").json()["count"] == 1


def test_background_run_with_bad_options_is_a_400(api, clinic_admin, care_manager, today):
    response = api(care_manager).post(
        "/api/v1/reports/runs/", {"report": "registry", "options": {"flag": ["everything"]}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["flag"]
    response = api(clinic_admin).post("/api/v1/reports/runs/", {"report": "nope"}, format="json")
    assert list(response.json()) == ["report"]
    assert not ReportRun.objects.exists()


def test_api_query_count_does_not_grow_with_patients(api, clinic_admin, today, team, care_manager, prescriber):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(clinic_admin)
    team_client = api(care_manager)

    def add(count):  # type: ignore[no-untyped-def]
        for index in range(count):
            person = b.patient(team=team)
            b.score(person, "PHQ-9", 16, date(2025, 10, 1), by=care_manager)
            b.score(person, "PHQ-9", 6 + index % 9, date(2026, 1, 5), by=care_manager)
            if index % 2:
                b.regimen(person, "Lithium carbonate", date(2025, 12, 1), by=prescriber)

    def count(url, reader=client):  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as queries:
            assert reader.get(url).status_code == 200
        return len(queries)

    def counts():  # type: ignore[no-untyped-def]
        found = {
            key: count(f"/api/v1/reports/{key}/") for key in ("registry_summary", "treatment_outcomes", "monitoring")
        }
        return found | {"registry": count("/api/v1/reports/registry/", team_client)}

    add(5)
    client.get("/api/v1/reports/")  # the first audit row also creates the chain head
    count("/api/v1/reports/therapy/")
    before = counts()
    add(45)
    assert counts() == before
