"""Critical results (issue 11 item 5): every threshold at its boundary (critical.py names the
source of each), the flag table's coverage, the urgent reminder for the prescribers and the
care manager delivered at once with no patient data, and the chart banner until a
prescriber records the action taken."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.celery import app as celery_app
from medications import services
from medications.critical import Context, critical_finding
from medications.models import CriticalResult, LabTest
from medications.monitoring import FLAG_TABLE, lab_flag
from reminders.models import Reminder

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _eager_celery():  # type: ignore[no-untyped-def]
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


# --- Every threshold at its boundary ------------------------------------------------------------

BOUNDARIES = [
    # (test, value, expected code or None)
    ("lithium_level", "1.49", None),
    ("lithium_level", "1.50", "lithium_toxic"),
    ("lithium_level", "1.99", "lithium_toxic"),
    ("lithium_level", "2.00", "lithium_severe_toxicity"),
    ("anc", "1000", None),
    ("anc", "999", "anc_moderate"),
    ("anc", "500", "anc_moderate"),
    ("anc", "499", "anc_severe"),
    ("sodium", "125", None),
    ("sodium", "124.9", "sodium_low"),
    ("sodium", "158", None),
    ("sodium", "158.1", "sodium_high"),
    ("platelets", "50", None),
    ("platelets", "49", "platelets_low"),
    ("platelets", "910", None),
    ("platelets", "911", "platelets_high"),
    ("qtc", "500", None),
    ("qtc", "501", "qtc_over_500"),
    ("calcium", "1.65", None),
    ("calcium", "1.64", "calcium_low"),
    ("calcium", "3.22", None),
    ("calcium", "3.23", "calcium_high"),
    ("fasting_glucose", "46", None),
    ("fasting_glucose", "45", "glucose_low"),
    ("fasting_glucose", "484", None),
    ("fasting_glucose", "485", "glucose_high"),
    ("fbc", "2.0", None),
    ("fbc", "1.9", "wbc_low"),
    ("creatinine", "654", None),
    ("creatinine", "655", "creatinine_high"),
    ("inr", "5.0", None),
    ("inr", "5.1", "inr_high"),
]


@pytest.mark.parametrize(("test", "value", "code"), BOUNDARIES)
def test_critical_threshold_boundary(test, value, code):
    finding = critical_finding(test=test, value=Decimal(value))
    assert (finding.code if finding else None) == code
    if finding:
        assert finding.source and finding.message


@pytest.mark.parametrize(("value", "code"), [("500", None), ("999", None), ("499", "anc_severe")])
def test_benign_ethnic_neutropenia_alerts_only_below_500(value, code):
    finding = critical_finding(test="anc", value=Decimal(value), context=Context(benign_ethnic_neutropenia=True))
    assert (finding.code if finding else None) == code


@pytest.mark.parametrize(
    ("previous", "value", "qt_drugs", "code"),
    [
        ("420", "480", ("Citalopram",), None),  # a rise of exactly 60 ms
        ("420", "481", ("Citalopram",), "qtc_rise_over_60"),
        ("420", "481", (), None),  # not on a QT drug
        (None, "481", ("Citalopram",), None),  # no previous ECG
    ],
)
def test_qtc_rise_over_60_ms_on_a_qt_drug(previous, value, qt_drugs, code):
    context = Context(previous_qtc=Decimal(previous) if previous else None, qt_drugs=qt_drugs)
    finding = critical_finding(test="qtc", value=Decimal(value), context=context)
    assert (finding.code if finding else None) == code


def test_flag_table_covers_every_lab_test_the_catalog_uses():
    assert set(LabTest.values) - {"lithium_level", "anc"} <= set(FLAG_TABLE)
    for test in LabTest.values:  # every test is handled without error
        lab_flag(test=test, value=Decimal("1"))


def test_critical_values_are_flagged_critical_and_glucose_diabetes_range_is_not():
    assert lab_flag(test="sodium", value=Decimal("120")).level == "critical"
    assert lab_flag(test="fasting_glucose", value=Decimal("130")).level == "high"
    assert lab_flag(test="anc", value=Decimal("900")).level == "critical"
    assert lab_flag(test="anc", value=Decimal("900"), benign_ethnic_neutropenia=True).level == "high"


# --- The alert: in the lab result's transaction, urgent, to prescribers and the care manager -------


def test_critical_lithium_alerts_prescriber_and_care_manager_at_once_without_patient_data(
    patient, prescriber, therapist, care_manager, add_lab, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_lab(patient, "lithium_level", "2.1", TODAY, actor=therapist)
    alert = CriticalResult.objects.get()
    assert (alert.code, alert.severity, alert.status) == ("lithium_severe_toxicity", "severe", "open")
    reminders = Reminder.objects.filter(kind="critical_result")
    assert {r.recipient_id for r in reminders} == {prescriber.pk, care_manager.pk}
    assert all(r.urgent and r.subject_id == str(alert.public_id) for r in reminders)
    assert set(reminders.values_list("status", flat=True)) == {"sent"}  # delivered on commit
    assert sorted(a for m in mail.outbox for a in m.to) == sorted([prescriber.email, care_manager.email])
    for message in mail.outbox:
        text = message.subject + message.body
        assert patient.family_name not in text and "lithium" not in text.lower() and "2.1" not in text


def test_value_in_range_raises_nothing(patient, add_lab):
    add_lab(patient, "lithium_level", "0.8", TODAY)
    assert not CriticalResult.objects.exists() and not Reminder.objects.exists()


def test_qtc_rise_on_citalopram_raises_through_the_service(patient, start_regimen, add_lab):
    start_regimen(patient, "Citalopram", "20", start_date=TODAY - timedelta(days=30))
    add_lab(patient, "qtc", "420", TODAY - timedelta(days=29))
    add_lab(patient, "qtc", "485", TODAY)
    assert CriticalResult.objects.get().code == "qtc_rise_over_60"


def test_ben_documented_on_the_patient_changes_the_anc_alert(patient, prescriber, add_lab):
    services.medication_profile_update(
        patient=patient, actor=prescriber, benign_ethnic_neutropenia=True, hla_b1502_risk_ancestry=False
    )
    add_lab(patient, "anc", "800", TODAY)
    assert not CriticalResult.objects.exists()
    add_lab(patient, "anc", "450", TODAY)
    assert CriticalResult.objects.get().code == "anc_severe"


def test_actioned_needs_an_action_in_the_database(patient, add_lab):
    add_lab(patient, "sodium", "120", TODAY)
    alert = CriticalResult.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CriticalResult.objects.filter(pk=alert.pk).update(status="actioned")


# --- Banner, action page and API --------------------------------------------------------------


def test_banner_shows_on_every_chart_tab_until_a_prescriber_records_the_action(
    browser_client, patient, prescriber, therapist, add_lab
):
    add_lab(patient, "lithium_level", "1.6", TODAY)
    alert = CriticalResult.objects.get()
    overview = reverse("outcomes:tab", args=[patient.public_id])
    html = browser_client(therapist).get(overview).content.decode()
    assert "Critical result:" in html and "a prescriber records the action" in html
    action = reverse("medications:critical_action", args=[patient.public_id, alert.public_id])
    assert browser_client(therapist).post(action, {"action_taken": "x"}).status_code == 403
    client = browser_client(prescriber)
    response = client.post(action, {"action_taken": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(action, {"action_taken": "Lithium withheld; repeat level tomorrow"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "actioned" and alert.actioned_by == prescriber
    assert "Critical result:" not in client.get(overview).content.decode()


def test_api_action_taken_role_matrix(api, patient, prescriber, therapist, outsider, add_lab):
    add_lab(patient, "platelets", "30", TODAY)
    alert = CriticalResult.objects.get()
    path = f"/api/v1/critical-results/{alert.public_id}/action-taken/"
    body = {"action_taken": "Valproate stopped; haematology today"}
    assert api(outsider).post(path, body, format="json").status_code == 404
    assert api(therapist).post(path, body, format="json").status_code == 403
    response = api(prescriber).post(path, body, format="json")
    assert response.status_code == 200 and response.json()["status"] == "actioned"
    assert api(prescriber).post(path, body, format="json").status_code == 400  # already recorded
    listed = api(therapist).get("/api/v1/critical-results/", {"patient": str(patient.public_id)}).json()
    assert [r["code"] for r in listed["results"]] == ["platelets_low"]
    assert api(outsider).get(f"/api/v1/critical-results/{alert.public_id}/").status_code == 404


def test_critical_results_list_query_count_is_pinned(api, patient, prescriber, add_lab, django_assert_max_num_queries):
    for n in range(12):
        add_lab(patient, "sodium", "120", date.today() - timedelta(days=n))
    with django_assert_max_num_queries(4):
        response = api(prescriber).get("/api/v1/critical-results/")
    assert response.json()["count"] == 12


@pytest.mark.parametrize(("who", "status"), [("prescriber", 200), ("therapist", 403), ("outsider", 404)])
def test_medication_profile_api_role_matrix(api, request, patient, who, status):
    user = request.getfixturevalue(who)
    path = f"/api/v1/patients/{patient.public_id}/medication-profile/"
    body = {"benign_ethnic_neutropenia": True, "hla_b1502_risk_ancestry": False}
    assert api(user).post(path, body, format="json").status_code == status
    read = api(request.getfixturevalue("therapist")).get(path).json()
    assert read["benign_ethnic_neutropenia"] is (status == 200)
    assert api(request.getfixturevalue("outsider")).get(path).status_code == 404
