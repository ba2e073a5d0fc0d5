"""Long-acting injectables and PRN (issue 11 item 8): frequencies and per-injection maxima,
schedules, the "next injection due" and "injection missed" reminders (time-machine), the
olanzapine pamoate observation rule, the chart, the API."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from careplans.models import TeamRole
from medications import services
from medications.injections import add_months, missed_on, next_injection_due
from medications.models import Injection
from medications.reminders import injection_reminders
from reminders.delivery import reminders_scan
from reminders.models import Reminder
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.medications.conftest import med

pytestmark = pytest.mark.django_db
START = date(2026, 1, 5)


def _give(regimen, prescriber, on, **extra):  # type: ignore[no-untyped-def]
    with time_machine.travel(on, tick=False):
        return services.injection_record(regimen=regimen, actor=prescriber, given_on=on, site="gluteal", **extra)


@pytest.fixture
def sustenna(patient, start_regimen):  # type: ignore[no-untyped-def]
    return start_regimen(patient, "Paliperidone palmitate 1-monthly", "156", start_date=START, frequency="monthly")


# --- Prescribing -------------------------------------------------------------------------------


def test_lai_start_is_intramuscular_and_per_injection(sustenna):
    assert sustenna.route == "intramuscular" and sustenna.is_injection and sustenna.daily_dose is None


@pytest.mark.parametrize(
    ("name", "frequency", "dose", "field"),
    [
        ("Paliperidone palmitate 1-monthly", "every_3_months", "156", "frequency"),
        ("Paliperidone palmitate 3-monthly", "monthly", "546", "frequency"),
        ("Sertraline", "monthly", "50", "frequency"),
        ("Paliperidone palmitate 1-monthly", "monthly", "235", "dose"),
        ("Paliperidone palmitate 3-monthly", "every_3_months", "820", "dose"),
        ("Paliperidone palmitate 6-monthly", "every_6_months", "1561", "dose"),
        ("Aripiprazole monohydrate LAI", "monthly", "401", "dose"),
        ("Risperidone long-acting injection", "every_2_weeks", "51", "dose"),
        ("Olanzapine pamoate LAI", "every_4_weeks", "406", "dose"),
        ("Fluphenazine decanoate", "every_2_weeks", "101", "dose"),
        ("Haloperidol decanoate", "monthly", "451", "dose"),
    ],
)
def test_lai_frequency_and_per_injection_maximum(patient, start_regimen, name, frequency, dose, field):
    with pytest.raises(ValidationError) as error:
        start_regimen(patient, name, dose, start_date=START, frequency=frequency)
    assert field in error.value.message_dict


@pytest.mark.parametrize(
    ("name", "frequency", "dose"),
    [
        ("Paliperidone palmitate 1-monthly", "monthly", "234"),
        ("Paliperidone palmitate 3-monthly", "every_3_months", "819"),
        ("Paliperidone palmitate 6-monthly", "every_6_months", "1560"),
        ("Aripiprazole monohydrate LAI", "monthly", "400"),
        ("Aripiprazole lauroxil LAI", "monthly", "882"),
        ("Risperidone long-acting injection", "every_2_weeks", "50"),
        ("Olanzapine pamoate LAI", "every_2_weeks", "300"),
        ("Fluphenazine decanoate", "every_4_weeks", "100"),
        ("Haloperidol decanoate", "every_4_weeks", "450"),
    ],
)
def test_lai_at_its_maximum_starts(patient, start_regimen, name, frequency, dose):
    assert start_regimen(patient, name, dose, start_date=START, frequency=frequency).pk


def test_lai_above_maximum_with_an_override_reason_starts(patient, start_regimen):
    regimen = start_regimen(
        patient, "Haloperidol decanoate", "500", start_date=START, frequency="monthly", override_reason="Specialist"
    )
    assert regimen.dose == Decimal("500")


def test_prn_needs_a_maximum_per_day_and_its_daily_total_is_checked(patient, start_regimen):
    with pytest.raises(ValidationError) as error:
        start_regimen(patient, "Lorazepam", "1", start_date=START, frequency="as_needed")
    assert "max_doses_per_day" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        start_regimen(patient, "Lorazepam", "2", start_date=START, frequency="as_needed", max_doses_per_day=6)
    assert "12 mg a day" in error.value.message_dict["dose"][0]
    regimen = start_regimen(patient, "Lorazepam", "2", start_date=START, frequency="as_needed", max_doses_per_day=5)
    assert regimen.daily_dose == Decimal("10")


def test_api_prn_regimen(api, patient, prescriber):
    body = {
        "patient": str(patient.public_id),
        "medication": str(med("Lorazepam").public_id),
        "dose": "1",
        "frequency": "as_needed",
        "max_doses_per_day": 3,
        "start_date": str(date.today()),
    }
    response = api(prescriber).post("/api/v1/regimens/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["max_doses_per_day"] == 3 and response.json()["daily_dose"] == "3.000"


# --- Schedules ---------------------------------------------------------------------------------


def test_schedules():
    assert next_injection_due(frequency="monthly", start_date=START, given=[]) == START
    assert next_injection_due(frequency="monthly", start_date=START, given=[date(2026, 1, 31)]) == date(2026, 2, 28)
    assert next_injection_due(frequency="every_2_weeks", start_date=START, given=[START]) == START + timedelta(14)
    assert next_injection_due(frequency="every_4_weeks", start_date=START, given=[START]) == START + timedelta(28)
    assert next_injection_due(frequency="every_3_months", start_date=START, given=[START]) == date(2026, 4, 5)
    assert next_injection_due(frequency="every_6_months", start_date=START, given=[START]) == date(2026, 7, 5)
    assert next_injection_due(frequency="once_daily", start_date=START, given=[]) is None
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert missed_on(frequency="monthly", due=date(2026, 2, 5)) == date(2026, 2, 13)
    assert missed_on(frequency="every_3_months", due=date(2026, 4, 5)) == date(2026, 4, 20)


def test_injection_record_defaults_to_the_prescribed_dose_and_checks_dates(patient, prescriber, sustenna):
    injection = _give(sustenna, prescriber, START)
    assert injection.dose == Decimal("156") and injection.given_by == prescriber
    with pytest.raises(ValidationError) as error:
        _give(sustenna, prescriber, START - timedelta(days=1))
    assert "given_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _give(sustenna, prescriber, START, dose="300")
    assert "dose" in error.value.message_dict


def test_olanzapine_pamoate_needs_the_3_hour_observation_confirmed(patient, prescriber, start_regimen):
    regimen = start_regimen(patient, "Olanzapine pamoate LAI", "210", start_date=START, frequency="every_2_weeks")
    with pytest.raises(ValidationError) as error:
        _give(regimen, prescriber, START)
    assert "3 hours" in error.value.message_dict["observation_completed"][0]
    assert _give(regimen, prescriber, START, observation_completed=True).observed_until is not None


def test_oral_regimen_takes_no_injections(patient, prescriber, start_regimen):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)
    with pytest.raises(ValidationError) as error:
        _give(regimen, prescriber, START)
    assert "regimen" in error.value.message_dict


# --- Next injection due / injection missed reminders (time-machine) -----------------------------


def _kinds(day: date) -> list[tuple[str, date, int]]:
    with time_machine.travel(day, tick=False):
        reminders_scan(today=day)
    return sorted(Reminder.objects.filter(kind__startswith="injection").values_list("kind", "due_date", "recipient_id"))


def test_next_injection_due_a_week_ahead_then_missed_after_the_window(patient, prescriber, care_manager, sustenna):
    _give(sustenna, prescriber, START)
    due = date(2026, 2, 5)
    assert _kinds(date(2026, 1, 28)) == []  # 8 days ahead: not yet
    assert _kinds(date(2026, 1, 29)) == [("injection_due", due, prescriber.pk)]
    assert _kinds(date(2026, 2, 12)) == [("injection_due", due, prescriber.pk)]  # within the 7-day window
    missed = date(2026, 2, 13)
    assert _kinds(missed) == sorted(
        [
            ("injection_due", due, prescriber.pk),
            ("injection_missed", missed, prescriber.pk),
            ("injection_missed", missed, care_manager.pk),
        ]
    )
    assert _kinds(missed + timedelta(days=3)) == _kinds(missed)  # the scan is idempotent


def test_recording_the_injection_moves_the_next_due_date(patient, prescriber, sustenna):
    _give(sustenna, prescriber, START)
    _give(sustenna, prescriber, date(2026, 2, 6))
    assert [d.due_date for d in injection_reminders(date(2026, 3, 1))] == [date(2026, 3, 6)]


def test_first_injection_is_due_on_the_start_date(patient, prescriber, sustenna):
    assert [(d.kind, d.due_date) for d in injection_reminders(START)] == [("injection_due", START)]


def test_paused_depot_has_no_reminders(patient, prescriber, sustenna):
    with time_machine.travel(START, tick=False):
        services.regimen_status_change(regimen=sustenna, status="paused", actor=prescriber, reason="Admitted")
    assert injection_reminders(date(2026, 3, 1)) == []


def test_injection_rule_is_set_based(prescriber, start_regimen, django_assert_max_num_queries):
    for _ in range(12):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        regimen = start_regimen(
            patient, "Risperidone long-acting injection", "25", start_date=START, frequency="every_2_weeks"
        )
        _give(regimen, prescriber, START)
    with django_assert_max_num_queries(3):
        drafts = injection_reminders(date(2026, 2, 1))
    assert {d.kind for d in drafts} == {"injection_due", "injection_missed"} and len(drafts) == 24


# --- Chart and API -----------------------------------------------------------------------------------


def test_tab_shows_next_injection_missed_badge_and_injections_on_the_chart(
    browser_client, patient, prescriber, sustenna
):
    _give(sustenna, prescriber, START)
    with time_machine.travel(date(2026, 2, 20), tick=False):
        html = browser_client(prescriber).get(reverse("medications:tab", args=[patient.public_id])).content.decode()
    assert "Next injection due 2026-02-05" in html and "Missed" in html
    assert 'class="injection"' in html and "Injection 2026-01-05: 156 mg" in html
    assert "Record injection" in html


def test_tab_query_count_does_not_grow_with_injections(
    browser_client, patient, prescriber, start_regimen, django_assert_max_num_queries
):
    for name, frequency, dose in (
        ("Paliperidone palmitate 1-monthly", "monthly", "100"),
        ("Risperidone long-acting injection", "every_2_weeks", "25"),
    ):
        regimen = start_regimen(patient, name, dose, start_date=START, frequency=frequency)
        for n in range(10):
            _give(regimen, prescriber, START + timedelta(days=14 * n))
    client = browser_client(prescriber)
    # 30 for the injections half, +5 for the interaction half (washout, properties, acknowledgements,
    # profiles x2); the same with 20 injections as with none.
    with time_machine.travel(date(2026, 6, 1), tick=False), django_assert_max_num_queries(35):
        assert client.get(reverse("medications:tab", args=[patient.public_id])).status_code == 200


@pytest.mark.parametrize(("who", "status"), [("prescriber", 201), ("therapist", 403), ("outsider", 404)])
def test_api_injection_role_matrix(api, request, sustenna, who, status):
    user = request.getfixturevalue(who)
    path = f"/api/v1/regimens/{sustenna.public_id}/injections/"
    response = api(user).post(path, {"given_on": str(date.today()), "site": "deltoid"}, format="json")
    assert response.status_code == status
    if status == 201:
        assert response.json()["dose"] == "156.000" and Injection.objects.count() == 1
        assert api(request.getfixturevalue("therapist")).get(path).json()["count"] == 1


def test_page_records_an_injection(browser_client, patient, prescriber, sustenna):
    url = reverse("medications:injection_create", args=[patient.public_id, sustenna.public_id])
    client = browser_client(prescriber)
    assert "Record a Paliperidone palmitate 1-monthly injection" in client.get(url).content.decode()
    response = client.post(url, {"given_on": str(date.today()), "dose": "156", "site": "deltoid"})
    assert response.status_code == 302 and Injection.objects.get().site == "deltoid"


def test_injection_list_query_count_is_pinned(api, patient, prescriber, sustenna, django_assert_max_num_queries):
    for n in range(12):
        _give(sustenna, prescriber, START + timedelta(days=30 * n))
    with django_assert_max_num_queries(5):
        response = api(prescriber).get(f"/api/v1/regimens/{sustenna.public_id}/injections/")
    assert response.json()["count"] == 12
