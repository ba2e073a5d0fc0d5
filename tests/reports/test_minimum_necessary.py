"""Minimum necessary (issue 12 item 5, SECURITY.md AC-5): admin reports are aggregates with small
cells suppressed; patient-level reports show the caller's own caseload only, and a clinic admin on
no care team reaches none of their rows (page, print, API, CSV)."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from careplans.models import TeamRole
from reports.base import Audience, ReportParams, count_cell, enough, percent
from reports.catalog import report_get, reports_all
from reports.models import ReportRun
from tests.factories import UserFactory
from tests.reports import builders as b

pytestmark = pytest.mark.django_db

ADMIN_REPORTS = [report.key for report in reports_all() if report.audience == Audience.ADMIN]
CARE_TEAM_REPORTS = [report.key for report in reports_all() if report.audience == Audience.CARE_TEAM]


@pytest.fixture
def suppressed(settings):  # type: ignore[no-untyped-def]
    settings.REPORT_SMALL_CELL = 5  # the clinic default (tests/reports/conftest.py turns it off)


@pytest.fixture
def clinic(team, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    """Three patients with something in every report, with names and MRNs to look for."""
    people = []
    for index, name in enumerate(["Zanzibar", "Quixote", "Wolfenden"]):
        person = b.patient(
            team=team, family_name=name, given_name="Canary", mrn=f"CANARY{index}", registered=date(2025, 9, 1)
        )
        b.score(person, "PHQ-9", 18, date(2025, 9, 10), by=care_manager)
        b.score(person, "PHQ-9", 16, date(2025, 11, 10), by=care_manager)
        b.regimen(person, "Lithium carbonate", date(2025, 9, 15), by=prescriber)
        b.session(b.course(person, therapist, "CBT", date(2025, 9, 12)), date(2025, 10, 1))
        people.append(person)
    return people


def _identifiers(people):  # type: ignore[no-untyped-def]
    return [value for p in people for value in (p.family_name, p.mrn, str(p.public_id))]


@pytest.mark.parametrize("key", ADMIN_REPORTS)
def test_admin_reports_name_no_patient_on_the_page_the_print_the_api_or_the_csv(
    client, api, clinic_admin, today, clinic, key, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(clinic_admin)
    bodies = [
        client.get(reverse("reports:report", kwargs={"key": key})).content.decode(),
        client.get(reverse("reports:print", kwargs={"key": key})).content.decode(),
        api(clinic_admin).get(f"/api/v1/reports/{key}/").content.decode(),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", kwargs={"key": key}), {"period": "12m"})
    run = ReportRun.objects.get()
    bodies.append(client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id})).content.decode())
    for body in bodies:
        assert [value for value in _identifiers(clinic) if value in body] == []
    report = report_get(key)
    assert report is not None
    columns = {c.kind for s in report.run(_params(clinic_admin, today)).sections for c in s.columns}
    assert "patient" not in columns and "flags" not in columns


def _params(user, today):  # type: ignore[no-untyped-def]
    return ReportParams(user=user, start=date(2025, 3, 3), end=today, today=today)


@pytest.mark.parametrize(("value", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (12, 12), (None, None)])
def test_counts_from_1_to_4_are_shown_as_under_5(suppressed, value, shown):
    assert count_cell(value) == shown


@pytest.mark.parametrize(("whole", "rate"), [(4, None), (5, 60.0), (0, None)])
def test_rates_over_fewer_than_5_patients_are_not_shown(suppressed, whole, rate):
    assert enough(whole) is (rate is not None)
    assert percent(3, whole) == rate


def test_registry_summary_suppresses_small_counts_on_page_api_and_csv(
    suppressed, client, api, clinic_admin, today, clinic, team, care_manager
):
    rows = report_get("registry_summary").run(_params(clinic_admin, today)).sections[0].rows  # type: ignore[union-attr]
    assert rows[0] == {"measure": "Active patients", "patients": "<5", "share": None}
    assert all(row["share"] is None for row in rows)  # no share of a hidden count
    client.force_login(clinic_admin)
    assert "&lt;5" in client.get(reverse("reports:report", kwargs={"key": "registry_summary"})).content.decode()
    data = api(clinic_admin).get("/api/v1/reports/registry_summary/").json()
    assert data["sections"][0]["rows"][0]["patients"] == "<5"
    # Two more patients: 5 active, shown as 5, and the share of a flag over 5 patients is shown.
    for name in ("Fifth", "Sixth"):
        b.patient(team=team, family_name=name)
    rows = report_get("registry_summary").run(_params(clinic_admin, today)).sections[0].rows  # type: ignore[union-attr]
    assert rows[0]["patients"] == 5
    measurement = next(row for row in rows if row["measure"] == "Measurement overdue")
    # The three canaries' last PHQ-9 is 2025-11-10 and the two new ones have none: all 5 overdue.
    assert (measurement["patients"], measurement["share"]) == (5, 100.0)
    # A flag on 3 of 5 patients: "<5", and its share (60 %) is hidden with it.
    monitoring = next(row for row in rows if row["measure"] == "Monitoring overdue")
    assert (monitoring["patients"], monitoring["share"]) == ("<5", None)


def test_registry_summary_counts_match_the_care_teams_registry(clinic_admin, care_manager, today, clinic):
    summary = report_get("registry_summary").run(_params(clinic_admin, today))  # type: ignore[union-attr]
    registry = report_get("registry").run(_params(care_manager, today)).sections[0].rows  # type: ignore[union-attr]
    flags = {row["measure"]: row["patients"] for row in summary.sections[0].rows}
    assert flags["Active patients"] == len(registry) == 3
    assert flags["Not improving"] == sum(1 for r in registry if ("not_improving", "Not improving") in r["flags"])
    assert flags["Monitoring overdue"] == 3  # lithium levels never taken
    medians = {row["measure"]: row for row in summary.sections[1].rows}
    assert medians["PHQ-9 change %"]["median"] == round((16 - 18) * 100 / 18, 1)
    by_manager = summary.sections[2].rows
    assert [(row["care_manager"], row["patients"]) for row in by_manager] == [(care_manager.get_full_name(), 3)]


def test_care_manager_sees_the_registry_of_their_own_caseload_only(client, api, care_manager, today, clinic):
    other_manager = UserFactory(username="cm2", is_care_manager=True)
    theirs = b.patient(team={TeamRole.CARE_MANAGER: other_manager}, family_name="Elsewhere", mrn="ELSE1")
    rows = report_get("registry").run(_params(care_manager, today)).sections[0].rows  # type: ignore[union-attr]
    assert sorted(row["patient"].split(",")[0] for row in rows) == ["Quixote", "Wolfenden", "Zanzibar"]
    rows = report_get("registry").run(_params(other_manager, today)).sections[0].rows  # type: ignore[union-attr]
    assert [row["patient_id"] for row in rows] == [str(theirs.public_id)]
    client.force_login(care_manager)
    assert b"Elsewhere" not in client.get(reverse("reports:report", kwargs={"key": "registry"})).content
    assert "ELSE1" not in api(care_manager).get("/api/v1/reports/registry/").content.decode()


def test_an_admin_who_is_also_a_care_manager_sees_only_their_own_teams_patients(today, clinic):
    both = UserFactory(username="admin-cm", is_clinic_admin=True, is_care_manager=True)
    mine = b.patient(team={TeamRole.CARE_MANAGER: both}, family_name="Mine")
    for key in CARE_TEAM_REPORTS:
        report = report_get(key)
        assert report is not None
        names = {row.get("patient") for s in report.run(_params(both, today)).sections for row in s.rows}
        assert not names & {f"{p.family_name}, {p.given_name}" for p in clinic}, key
    rows = report_get("registry").run(_params(both, today)).sections[0].rows  # type: ignore[union-attr]
    assert [row["patient_id"] for row in rows] == [str(mine.public_id)]


@pytest.mark.parametrize("key", CARE_TEAM_REPORTS)
def test_a_clinic_admin_reaches_no_patient_rows_through_a_care_managers_export(
    client, clinic_admin, care_manager, today, clinic, key, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(care_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", kwargs={"key": key}), {"period": "12m"})
    run = ReportRun.objects.get()
    client.force_login(clinic_admin)
    assert client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id})).status_code == 404
    assert client.get(f"/api/v1/reports/runs/{run.public_id}/csv/").status_code == 404
    assert client.post(reverse("reports:export", kwargs={"key": key}), {"period": "12m"}).status_code == 403
    assert ReportRun.objects.count() == 1


def test_a_care_manager_who_lost_the_role_cannot_download_their_old_list(
    client, care_manager, today, clinic, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(care_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", kwargs={"key": "registry"}), {"period": "12m"})
    run = ReportRun.objects.get()
    care_manager.is_care_manager = False
    care_manager.save()
    assert client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id})).status_code == 403


def test_the_registry_shows_a_new_score_on_the_next_view(client, care_manager, today, clinic):
    """Report facts are incremental: the write marks the patient, the next view recomputes it."""
    person = clinic[0]
    client.force_login(care_manager)
    url = reverse("reports:report", kwargs={"key": "registry"})
    client.get(url)
    b.score(person, "PHQ-9", 4, date(2026, 2, 27), by=care_manager)
    rows = report_get("registry").run(_params(care_manager, today)).sections[0].rows  # type: ignore[union-attr]
    row = next(r for r in rows if r["patient_id"] == str(person.public_id))
    assert (row["phq9_latest"], row["last_contact"]) == (4, date(2026, 2, 27))


def test_csv_of_the_care_team_registry_is_formula_safe(
    client, care_manager, today, team, eager_celery, django_capture_on_commit_callbacks
):
    b.patient(team=team, family_name="=cmd|' /C calc'!A0", given_name="@x")
    client.force_login(care_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", kwargs={"key": "registry"}), {"period": "12m"})
    run = ReportRun.objects.get()
    text = client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id})).content.decode()
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'=cmd|' /C calc'!A0, @x" in cells
