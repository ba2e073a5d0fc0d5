"""Collaborative-care minutes: the care manager logs time on the chart and through the API; the
care team reads it; the monthly report gives the CMS codes per patient and care manager, as a
formula-safe, audited CSV; clinic admins see counts only (today 2026-03-02)."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from careplans.models import TeamRole
from clinic.models import AuditEvent
from cocm.models import CareMinutes
from reports.base import ReportParams
from reports.catalog import report_get
from reports.models import ReportRun
from tests.factories import UserFactory
from tests.reports import builders as b

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


@pytest.fixture
def team(prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    return {TeamRole.PRESCRIBER: prescriber, TeamRole.THERAPIST: therapist, TeamRole.CARE_MANAGER: care_manager}


@pytest.fixture(autouse=True)
def today():  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


def _log(person, by, day, minutes, activity="follow_up"):  # type: ignore[no-untyped-def]
    return CareMinutes.objects.create(patient=person, logged_by=by, day=day, minutes=minutes, activity=activity)


def test_care_manager_logs_time_on_the_chart_and_sees_the_month(client, patient, care_manager):
    client.force_login(care_manager)
    url = reverse("cocm:minutes", kwargs={"patient_id": patient.public_id})
    response = client.post(url, {"day": "2026-03-01", "minutes": "45", "activity": "outreach"})
    assert response.status_code == 302
    client.post(url, {"day": "2026-03-02", "minutes": "25", "activity": "care_planning"})
    page = client.get(url).content.decode()
    assert "2026-03" in page and ">70<" in page and "99492" in page  # 45 + 25 in the first month
    assert "Outreach and engagement" in page
    entry = CareMinutes.objects.order_by("id").first()
    event = AuditEvent.objects.filter(object_type="cocm.careminutes", action="create").order_by("id").first()
    assert event is not None and event.changes == {
        "day": [None, "2026-03-01"],
        "minutes": [None, 45],
        "activity": [None, "outreach"],
    }
    assert entry is not None and entry.logged_by == care_manager


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"day": "2026-03-03", "minutes": "30", "activity": "outreach"}, "day", "cannot be in the future"),
        ({"day": "2025-12-29", "minutes": "30", "activity": "outreach"}, "day", "within 62 days"),
        ({"day": "2026-03-01", "minutes": "0", "activity": "outreach"}, "minutes", "greater than or equal to 1"),
        ({"day": "2026-03-01", "minutes": "241", "activity": "outreach"}, "minutes", "less than or equal to 240"),
        ({"day": "2026-03-01", "minutes": "30", "activity": "golf"}, "activity", "Select a valid choice"),
    ],
)
def test_bad_entries_show_a_field_error_and_keep_what_was_typed(client, patient, care_manager, data, field, message):
    client.force_login(care_manager)
    url = reverse("cocm:minutes", kwargs={"patient_id": patient.public_id})
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'id="id_{field}_error"' in html
    assert f'value="{data["day"]}"' in html
    assert not CareMinutes.objects.exists()


def test_day_boundaries_62_days_back_and_today(client, patient, care_manager):
    client.force_login(care_manager)
    url = reverse("cocm:minutes", kwargs={"patient_id": patient.public_id})
    for day in ("2025-12-30", "2026-03-02"):  # 62 days back, today
        assert client.post(url, {"day": day, "minutes": "10", "activity": "registry"}).status_code == 302
    assert CareMinutes.objects.count() == 2


def test_only_care_managers_log_and_the_whole_team_reads(client, api, patient, prescriber, therapist, care_manager):
    _log(patient, care_manager, date(2026, 2, 10), 40)
    url = reverse("cocm:minutes", kwargs={"patient_id": patient.public_id})
    for user in (prescriber, therapist):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200 and b"Log minutes" not in page.content
        assert client.post(url, {"day": "2026-03-01", "minutes": "5", "activity": "outreach"}).status_code == 403
        body = {"patient": str(patient.public_id), "day": "2026-03-01", "minutes": 5, "activity": "outreach"}
        assert api(user).post("/api/v1/care-minutes/", body, format="json").status_code == 403
        listed = api(user).get("/api/v1/care-minutes/", {"patient": str(patient.public_id)}).json()
        assert [row["minutes"] for row in listed["results"]] == [40]
    assert CareMinutes.objects.count() == 1


def test_outsider_and_admin_get_404(client, api, patient, outsider, clinic_admin):
    entry = _log(patient, UserFactory(is_care_manager=True), date(2026, 2, 10), 40)
    url = reverse("cocm:minutes", kwargs={"patient_id": patient.public_id})
    for user in (outsider, clinic_admin):
        client.force_login(user)
        assert client.get(url).status_code in (403, 404)
        assert api(user).get(f"/api/v1/care-minutes/{entry.public_id}/").status_code == 404
        assert api(user).get("/api/v1/care-minutes/", {"patient": str(patient.public_id)}).status_code == 404
        assert api(user).get("/api/v1/care-minutes/").json()["results"] == []


def test_api_logs_and_withdraws_an_entry(api, patient, care_manager):
    client = api(care_manager)
    body = {"patient": str(patient.public_id), "day": "2026-03-01", "minutes": 31, "activity": "brief_intervention"}
    created = client.post("/api/v1/care-minutes/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["minutes"] == 31
    entry_id = created.json()["id"]
    refused = client.post("/api/v1/care-minutes/", {**body, "minutes": 500}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["minutes"]
    assert client.post(f"/api/v1/care-minutes/{entry_id}/entered-in-error/", {"reason": ""}).status_code == 400
    assert (
        client.post(f"/api/v1/care-minutes/{entry_id}/entered-in-error/", {"reason": "Wrong patient"}).status_code
        == 204
    )
    assert client.get("/api/v1/care-minutes/").json()["results"] == []


def _report(key, user, **dates):  # type: ignore[no-untyped-def]
    start, end = dates.get("start", date(2025, 3, 3)), dates.get("end", TODAY)
    report = report_get(key)
    assert report is not None
    return report.run(ReportParams(user=user, start=start, end=end, today=TODAY)).sections


def test_monthly_report_per_patient_and_care_manager(settings, patient, care_manager, prescriber, team):
    settings.REPORT_SMALL_CELL = 1
    second = UserFactory(username="cm-two", first_name="Cora", last_name="Second", is_care_manager=True)
    patient.care_team.create(user=second, role=TeamRole.CARE_MANAGER, started_at=patient.created_at)
    _log(patient, care_manager, date(2025, 12, 5), 50)  # December: first month, 69 in all -> G2214
    _log(patient, second, date(2025, 12, 20), 19)
    _log(patient, care_manager, date(2026, 1, 7), 31)  # January: 99493 from 31
    _log(patient, care_manager, date(2026, 2, 3), 60)  # February: 90 -> 99493 + 99494
    _log(patient, second, date(2026, 2, 4), 30)
    other = b.patient(team=team, family_name="Other")
    _log(other, second, date(2026, 2, 14), 100)  # first month, 100 -> 99492 + 99494
    rows, managers = _report("cocm_minutes", prescriber)
    mine = sorted((r["month"], r["minutes"], r["episode"], r["codes"], r["care_manager"]) for r in rows.rows)
    name = care_manager.get_full_name()
    assert mine == [
        ("2025-12", 69, "first month", "G2214", name),
        ("2026-01", 31, "subsequent", "99493", name),
        ("2026-02", 90, "subsequent", "99493, 99494", name),
        ("2026-02", 100, "first month", "99492, 99494", "Cora Second"),
    ]
    february = sorted(
        (r for r in managers.rows if r["month"] == "2026-02"), key=lambda r: r["care_manager"] != "Cora Second"
    )
    assert february == [
        {
            "care_manager": "Cora Second",
            "month": "2026-02",
            "patients": 1,
            "minutes": 100,
            "code_99492": 1,
            "code_99493": 0,
            "code_99494": 1,
            "code_G2214": 0,
        },
        {
            "care_manager": name,
            "month": "2026-02",
            "patients": 1,
            "minutes": 90,
            "code_99492": 0,
            "code_99493": 1,
            "code_99494": 1,
            "code_G2214": 0,
        },
    ]
    # The period starts in January: December stays the episode's first month.
    rows, _ = _report("cocm_minutes", prescriber, start=date(2026, 1, 1))
    assert [r["episode"] for r in rows.rows if r["patient"].startswith(patient.family_name)] == [
        "subsequent",
        "subsequent",
    ]


def test_admins_get_counts_per_care_manager_with_small_cells_suppressed(clinic_admin, patient, care_manager):
    _log(patient, care_manager, date(2026, 2, 3), 75)
    (section,) = _report("cocm_summary", clinic_admin)
    assert section.rows == [
        {
            "care_manager": care_manager.get_full_name(),
            "month": "2026-02",
            "patients": "<5",
            "minutes": 75,
            "code_99492": "<5",
            "code_99493": 0,
            "code_99494": 0,
            "code_G2214": 0,
        }
    ]
    assert patient.family_name not in str(section.rows)


def test_csv_export_of_the_monthly_report_is_formula_safe_and_audited(
    client, team, care_manager, eager_celery, django_capture_on_commit_callbacks
):
    person = b.patient(team=team, family_name="=SUM(A1:A9)", given_name="+Eve")
    _log(person, care_manager, date(2026, 2, 3), 40)
    client.force_login(care_manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:export", kwargs={"key": "cocm_minutes"}), {"period": "3m"})
    run = ReportRun.objects.get()
    response = client.get(reverse("reports:run_csv", kwargs={"run_id": run.public_id}))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [
        "'=SUM(A1:A9), +Eve",
        person.mrn,
        "2026-02",
        "40",
        "first month",
        "G2214",
        care_manager.get_full_name(),
    ] in rows
    exports = AuditEvent.objects.filter(action="export", object_type="reports.reportrun")
    assert exports.count() == 2  # queued, downloaded
