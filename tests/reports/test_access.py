"""Who may run clinic reports: clinic admins (a superuser counts as one). Clinicians get 403
(reports are not patient-scoped), anonymous users the login page or a 401."""

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from reports.catalog import report_keys
from reports.models import ReportRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = (
    [("reports:index", {})]
    + [("reports:report", {"key": key}) for key in report_keys()]
    + [("reports:print", {"key": key}) for key in report_keys()]
)
API = ["/api/v1/reports/", "/api/v1/reports/runs/"] + [f"/api/v1/reports/{key}/" for key in report_keys()]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_clinic_admin_opens_every_reports_page(client, clinic_admin, today, name, kwargs):
    client.force_login(clinic_admin)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_superuser_counts_as_clinic_admin(client, today):
    client.force_login(UserFactory(username="root-admin", is_superuser=True, is_staff=True))
    assert client.get(reverse("reports:report", kwargs={"key": "registry"})).status_code == 200


@pytest.mark.parametrize("role", ["prescriber", "therapist", "care_manager", "outsider"])
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_clinicians_get_403_on_reports_pages(client, request, role, name, kwargs):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_is_sent_to_login(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", API)
def test_api_refuses_clinicians_with_403_and_anonymous_with_401(api, prescriber, therapist, care_manager, url):
    assert api().get(url).status_code == 401
    for user in (prescriber, therapist, care_manager):
        assert api(user).get(url).status_code == 403


def test_clinician_cannot_queue_an_export(client, prescriber):
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


def test_reports_link_shows_in_the_header_for_admins_only(client, clinic_admin, prescriber, today):
    client.force_login(clinic_admin)
    assert b'href="/reports/"' in client.get(reverse("careplans:patient_directory")).content
    client.force_login(prescriber)
    assert b'href="/reports/"' not in client.get(reverse("careplans:caseload")).content


def test_refusals_are_audited(client, api, prescriber, today):
    client.force_login(prescriber)
    client.get(reverse("reports:report", kwargs={"key": "registry"}))
    api(prescriber).get("/api/v1/reports/registry/")
    denied = AuditEvent.objects.filter(action="access_denied", object_type="outcomes.report")
    assert [(event.outcome, event.object_id) for event in denied] == [
        ("denied", "/reports/registry/"),
        ("denied", "/api/v1/reports/registry/"),
    ]


def test_bulk_export_raises_an_operator_alert_with_ids_only(client, clinic_admin, today, team, caplog, monkeypatch):
    from reports import runs
    from tests.reports import builders as b

    monkeypatch.setattr(runs, "BULK_EXPORT_ROWS", 1)  # the real threshold is 1,000 records
    b.patient(team=team, family_name="Zzyzx")
    b.patient(team=team, family_name="Qwerty")
    client.force_login(clinic_admin)
    with caplog.at_level("WARNING", logger="reports.runs"):
        client.get(reverse("reports:report", kwargs={"key": "registry"}))
    alerts = [record.getMessage() for record in caplog.records if "bulk export alert" in record.getMessage()]
    assert alerts == [f"bulk export alert: user_id={clinic_admin.pk} report=registry rows=2"]
