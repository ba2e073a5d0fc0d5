"""Who may run clinic reports: the aggregates clinic admins (a superuser counts as one), the
care teams' patient lists clinicians (their own caseload: tests/reports/test_minimum_necessary.py).
Anyone else 403, anonymous users the login page or a 401."""

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from reports.base import Audience
from reports.catalog import report_get, report_keys
from reports.models import ReportRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN_KEYS = [key for key in report_keys() if report_get(key).audience == Audience.ADMIN]  # type: ignore[union-attr]
CARE_TEAM_KEYS = [key for key in report_keys() if key not in ADMIN_KEYS]
PAGES = (
    [("reports:index", {})]
    + [("reports:report", {"key": key}) for key in ADMIN_KEYS]
    + [("reports:print", {"key": key}) for key in ADMIN_KEYS]
)
CARE_TEAM_PAGES = [("reports:report", {"key": key}) for key in CARE_TEAM_KEYS] + [
    ("reports:print", {"key": key}) for key in CARE_TEAM_KEYS
]
API = [f"/api/v1/reports/{key}/" for key in ADMIN_KEYS]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_clinic_admin_opens_every_reports_page(client, clinic_admin, today, name, kwargs):
    client.force_login(clinic_admin)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_superuser_counts_as_clinic_admin(client, today):
    client.force_login(UserFactory(username="root-admin", is_superuser=True, is_staff=True))
    assert client.get(reverse("reports:report", kwargs={"key": "registry_summary"})).status_code == 200


@pytest.mark.parametrize("role", ["prescriber", "therapist", "care_manager", "outsider"])
@pytest.mark.parametrize(("name", "kwargs"), PAGES[1:])
def test_clinicians_get_403_on_the_aggregate_reports(client, request, role, name, kwargs):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), CARE_TEAM_PAGES)
def test_clinic_admin_gets_403_on_patient_level_reports(client, clinic_admin, today, name, kwargs):
    client.force_login(clinic_admin)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize("role", ["prescriber", "therapist", "care_manager"])
@pytest.mark.parametrize(("name", "kwargs"), [("reports:index", {}), *CARE_TEAM_PAGES])
def test_clinicians_open_their_caseload_reports(client, request, today, role, name, kwargs):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), PAGES + CARE_TEAM_PAGES)
def test_anonymous_is_sent_to_login(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", API)
def test_api_refuses_clinicians_aggregates_with_403_and_anonymous_with_401(
    api, prescriber, therapist, care_manager, url
):
    assert api().get(url).status_code == 401
    for user in (prescriber, therapist, care_manager):
        assert api(user).get(url).status_code == 403


@pytest.mark.parametrize("key", CARE_TEAM_KEYS)
def test_api_refuses_patient_level_reports_to_the_clinic_admin(api, clinic_admin, today, key):
    assert api().get(f"/api/v1/reports/{key}/").status_code == 401
    assert api(clinic_admin).get(f"/api/v1/reports/{key}/").status_code == 403
    queued = api(clinic_admin).post("/api/v1/reports/runs/", {"report": key}, format="json")
    assert queued.status_code == 403
    assert not ReportRun.objects.exists()


def test_api_lists_each_caller_the_reports_their_roles_may_run(api, clinic_admin, care_manager, outsider):
    admin_keys = [r["key"] for r in api(clinic_admin).get("/api/v1/reports/").json()["results"]]
    assert admin_keys == ADMIN_KEYS
    for user in (care_manager, outsider):
        keys = [r["key"] for r in api(user).get("/api/v1/reports/").json()["results"]]
        assert keys == CARE_TEAM_KEYS


def test_clinician_cannot_queue_an_export_of_an_aggregate(client, prescriber):
    client.force_login(prescriber)
    response = client.post(reverse("reports:export", kwargs={"key": "therapy"}), {"period": "3m"})
    assert response.status_code == 403
    assert not ReportRun.objects.exists()


def test_unknown_report_is_404(client, clinic_admin):
    client.force_login(clinic_admin)
    assert client.get("/reports/nonsense/").status_code == 404
    assert client.get("/api/v1/reports/nonsense/").status_code == 404  # not a page: the API answers JSON


def test_another_admins_export_is_404(client, clinic_admin, today, eager_celery, django_capture_on_commit_callbacks):
    other_admin = UserFactory(username="admin2", is_clinic_admin=True)
    client.force_login(other_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", kwargs={"key": "therapy"}), {"period": "3m"})
    run = ReportRun.objects.get()
    client.force_login(clinic_admin)
    assert client.get(reverse("reports:run", kwargs={"run_id": run.public_id})).status_code == 404
    assert client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id})).status_code == 404
    assert client.get(f"/api/v1/reports/runs/{run.public_id}/csv/").status_code == 404


def test_every_report_view_is_audited_as_an_export_with_parameters_and_row_count(client, clinic_admin, today):
    client.force_login(clinic_admin)
    client.get(reverse("reports:report", kwargs={"key": "therapy"}), {"period": "3m"})
    event = AuditEvent.objects.filter(object_type="outcomes.report").get()
    assert event.action == "export"
    assert event.object_id == "therapy"
    assert event.changes["format"] == "html"
    assert event.changes["parameters"] == {"start": "2025-12-03", "end": "2026-03-02"}
    assert event.changes["rows"] == 0


def test_print_view_is_audited_as_a_print(client, clinic_admin, today):
    client.force_login(clinic_admin)
    client.get(reverse("reports:print", kwargs={"key": "therapy"}))
    assert AuditEvent.objects.filter(object_type="outcomes.report").get().action == "print"


def test_reports_link_shows_in_the_header_for_admins_and_clinicians(client, clinic_admin, prescriber, today):
    client.force_login(clinic_admin)
    assert b'href="/reports/"' in client.get(reverse("careplans:patient_directory")).content
    client.force_login(prescriber)
    assert b'href="/reports/"' in client.get(reverse("careplans:caseload")).content


def test_refusals_are_audited(client, api, prescriber, clinic_admin, today):
    client.force_login(prescriber)
    client.get(reverse("reports:report", kwargs={"key": "registry_summary"}))
    api(clinic_admin).get("/api/v1/reports/registry/")
    denied = AuditEvent.objects.filter(action="access_denied", object_type="outcomes.report")
    assert [(event.outcome, event.object_id) for event in denied] == [
        ("denied", "/reports/registry_summary/"),
        ("denied", "/api/v1/reports/registry/"),
    ]


def test_bulk_export_raises_an_operator_alert_with_ids_only(client, care_manager, today, team, caplog, monkeypatch):
    from reports import runs
    from tests.reports import builders as b

    monkeypatch.setattr(runs, "BULK_EXPORT_ROWS", 1)  # the real threshold is 1,000 records
    b.patient(team=team, family_name="Zzyzx")
    b.patient(team=team, family_name="Qwerty")
    client.force_login(care_manager)
    with caplog.at_level("WARNING", logger="reports.runs"):
        client.get(reverse("reports:report", kwargs={"key": "registry"}))
    alerts = [record.getMessage() for record in caplog.records if "bulk export alert" in record.getMessage()]
    assert alerts == [f"bulk export alert: user_id={care_manager.pk} report=registry rows=2"]


def test_a_page_of_a_long_list_is_audited_and_alarmed_as_the_rows_it_shows(
    client, care_manager, today, team, caplog, monkeypatch
):
    """One page of the registry discloses that page, not the caseload: paging through it raises
    no bulk export alarm, its audit row says how many were shown (and of how many)."""
    from reports import paging, runs
    from tests.reports import builders as b

    monkeypatch.setattr(runs, "BULK_EXPORT_ROWS", 2)
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    for name in ("Alder", "Birch", "Cedar", "Damson", "Elm"):
        b.patient(team=team, family_name=name)
    client.force_login(care_manager)
    with caplog.at_level("WARNING", logger="reports.runs"):
        page = client.get(reverse("reports:report", kwargs={"key": "registry"}), {"page": 2})
    assert page.status_code == 200
    assert not [record for record in caplog.records if "bulk export alert" in record.getMessage()]
    event = AuditEvent.objects.filter(object_type="outcomes.report").get()
    assert (event.changes["rows"], event.changes["total_rows"]) == (2, 5)
