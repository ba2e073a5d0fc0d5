"""CSV export: formula cells neutralised (SECURITY.md IV-3); background runs with progress to 100
and the CSV kept for download; every export audited."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from reports.csv_export import csv_cell
from reports.models import ReportRun, ReportRunStatus
from reports.runs import report_run_execute
from tests.reports import builders as b

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"]
)
def test_text_cells_that_could_run_as_a_formula_get_a_leading_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Okafor, Chidi", "Okafor, Chidi"),
        (-12.5, "-12.5"),
        (7, "7"),
        (None, ""),
        (True, "yes"),
        (date(2026, 1, 2), "2026-01-02"),
        ([("safety_alert", "Safety alert open")], "Safety alert open"),
        ([("a", "=x")], "'=x"),
    ],
)
def test_other_cells_are_written_as_they_are(value, expected):
    assert csv_cell(value) == expected


def _export(client, key, data, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:export", kwargs={"key": key}), data)
    assert response.status_code == 302
    return ReportRun.objects.get()


def test_export_runs_in_the_background_and_the_csv_is_kept_for_download(
    client, care_manager, today, team, eager_celery, django_capture_on_commit_callbacks
):
    person = b.patient(team=team, given_name='=HYPERLINK("http://evil")', family_name="@Evil")
    client.force_login(care_manager)
    run = _export(client, "registry", {"period": "3m"}, django_capture_on_commit_callbacks)
    assert (run.status, run.progress, run.row_count) == (ReportRunStatus.DONE, 100, 1)
    page = client.get(reverse("reports:run", kwargs={"run_id": run.public_id}))
    assert b"Download CSV" in page.content
    index = client.get(reverse("reports:index")).content.decode()
    assert '<th scope="row">Registry</th>' in index  # listed under "Your recent exports"
    assert f'href="/reports/runs/{run.public_id}/csv/"' in index
    response = client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id}))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="tandem-registry-2026-03-02.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Registry"]
    header = rows.index(
        [
            "Patient",
            "Flags",
            "MRN",
            "Weeks in treatment",
            "PHQ-9 first",
            "PHQ-9 latest",
            "PHQ-9 change %",
            "GAD-7 first",
            "GAD-7 latest",
            "GAD-7 change %",
            "Last contact",
            "Care team",
        ]
    )
    patient_row = rows[header + 1]
    assert patient_row[0] == '\'@Evil, =HYPERLINK("http://evil")'
    assert patient_row[2] == person.mrn
    every_cell = [cell for row in rows for cell in row]
    assert not [cell for cell in every_cell if cell[:1] in ("=", "+", "@", "\t", "\r")]
    downloads = AuditEvent.objects.filter(object_type="reports.reportrun", object_id=str(run.public_id))
    assert [event.action for event in downloads] == ["export", "export"]  # requested, then downloaded
    assert downloads.last().changes["rows"] == 1


def test_progress_polling_returns_the_status_partial_until_done(
    client, clinic_admin, today, django_capture_on_commit_callbacks
):
    client.force_login(clinic_admin)
    with django_capture_on_commit_callbacks(execute=False):  # queued, no worker yet
        client.post(reverse("reports:export", kwargs={"key": "therapy"}), {"period": "3m"})
    run = ReportRun.objects.get()
    url = reverse("reports:run", kwargs={"run_id": run.public_id})
    partial = client.get(url, headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in partial.content
    assert b"<html" not in partial.content
    assert client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id})).status_code == 404
    report_run_execute(run_id=run.pk)  # what the worker does
    done = client.get(url, headers={"HX-Request": "true"})
    assert b"hx-trigger" not in done.content
    assert b"Download CSV" in done.content


def test_progress_is_written_as_the_report_goes(
    clinic_admin, today, django_capture_on_commit_callbacks, client, monkeypatch
):
    client.force_login(clinic_admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("reports:export", kwargs={"key": "therapy"}), {"period": "3m"})
    run = ReportRun.objects.get()
    seen = []
    original = ReportRun.objects.filter

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(ReportRun.objects.values_list("progress", flat=True).get(pk=run.pk))
        return original(*args, **kwargs)

    monkeypatch.setattr(ReportRun.objects, "filter", spy)
    report_run_execute(run_id=run.pk)
    monkeypatch.undo()
    run.refresh_from_db()
    assert run.progress == 100
    assert sorted(seen) == seen  # never goes backwards
    assert {38, 76} <= set(seen)  # the therapy report's 40 % and 80 % steps, scaled to 1-95


def test_a_finished_run_is_not_computed_again(
    clinic_admin, today, client, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(clinic_admin)
    run = _export(client, "therapy", {"period": "3m"}, django_capture_on_commit_callbacks)
    finished = run.finished_at
    report_run_execute(run_id=run.pk)  # a redelivered message
    run.refresh_from_db()
    assert run.finished_at == finished


def test_a_run_fails_cleanly_when_the_admin_lost_the_role(
    clinic_admin, today, client, django_capture_on_commit_callbacks
):
    client.force_login(clinic_admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("reports:export", kwargs={"key": "therapy"}), {"period": "3m"})
    clinic_admin.is_clinic_admin = False
    clinic_admin.save()
    run = ReportRun.objects.get()
    report_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.result_csv) == (ReportRunStatus.FAILED, "")


def test_bad_period_on_export_shows_the_error_next_to_the_field(client, clinic_admin, today):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("reports:export", kwargs={"key": "therapy"}),
        {"period": "custom", "start": "2026-02-01", "end": "2027-01-01"},
    )
    assert response.status_code == 400
    assert b"The period cannot end in the future." in response.content
    assert b'value="2026-02-01"' in response.content  # what the admin typed is kept
    assert not ReportRun.objects.exists()
