"""Bounded, clean input (issue 12 item 8) and plausible birth dates (issue 16 item 9).

Each boundary through the API and through a page: the limit is accepted, limit + 1 gets a
field error naming the limit, and nothing is saved. Names and identifiers refuse control,
bidi-override and zero-width characters; CSV cells have them stripped.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from careplans.models import CarePlan, Patient
from clinic.models import User
from clinic.validators import LONG_TEXT_MAX_LENGTH, MEDIUM_TEXT_MAX_LENGTH, strip_unsafe_characters
from reports.csv_export import csv_cell

pytestmark = pytest.mark.django_db

NEW_PATIENT = {"mrn": "B-200", "given_name": "Ines", "family_name": "Ortega", "birth_date": "1990-04-02"}
# A right-to-left override, a zero-width space, a zero-width joiner, BOM, a bell, an isolate, a line separator.
UNSAFE = ["\u202e", "\u200b", "\u200d", "\ufeff", "\x07", "\u2067", "\u2028"]


def _plan_url(plan: CarePlan) -> str:
    return f"/api/v1/care-plans/{plan.public_id}/"


# --- maximum lengths --------------------------------------------------------------------------------


def test_care_plan_summary_at_the_limit_saves_through_the_api(api, therapist, care_plan):
    text = "a" * LONG_TEXT_MAX_LENGTH
    response = api(therapist).patch(_plan_url(care_plan), {"version": 1, "summary": text}, format="json")
    assert response.status_code == 200, response.content
    care_plan.refresh_from_db()
    assert len(care_plan.summary) == LONG_TEXT_MAX_LENGTH


def test_care_plan_summary_one_over_the_limit_is_a_field_error_through_the_api(api, therapist, care_plan):
    response = api(therapist).patch(
        _plan_url(care_plan), {"version": 1, "summary": "a" * (LONG_TEXT_MAX_LENGTH + 1)}, format="json"
    )
    assert response.status_code == 400
    assert "20000" in " ".join(response.json()["summary"])
    care_plan.refresh_from_db()
    assert care_plan.version == 1 and care_plan.summary != "a" * (LONG_TEXT_MAX_LENGTH + 1)


@pytest.mark.parametrize(("length", "saved"), [(LONG_TEXT_MAX_LENGTH, True), (LONG_TEXT_MAX_LENGTH + 1, False)])
def test_care_plan_summary_limit_on_the_page(browser_client, prescriber, care_plan, length, saved):
    text = "b" * length
    page = reverse("careplans:care_plan_edit", kwargs={"patient_id": care_plan.patient.public_id})
    response = browser_client(prescriber).post(page, {"version": 1, "status": "active", "summary": text})
    care_plan.refresh_from_db()
    if saved:
        assert response.status_code == 302 and care_plan.summary == text
    else:
        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="id_summary_error"' in body and "at most 20000 characters" in body
        assert text in body  # nothing the user typed is lost
        assert care_plan.version == 1


@pytest.mark.parametrize(("length", "saved"), [(MEDIUM_TEXT_MAX_LENGTH, True), (MEDIUM_TEXT_MAX_LENGTH + 1, False)])
def test_relapse_plan_section_limit_on_the_page(browser_client, prescriber, care_plan, length, saved):
    page = reverse("careplans:relapse_plan_edit", kwargs={"patient_id": care_plan.patient.public_id})
    response = browser_client(prescriber).post(page, {"version": 1, "warning_signs": "w" * length})
    care_plan.refresh_from_db()
    if saved:
        assert response.status_code == 302 and len(care_plan.relapse_plan.warning_signs) == length
    else:
        assert response.status_code == 200 and 'id="id_warning_signs_error"' in response.content.decode()
        assert care_plan.version == 1


def test_the_model_refuses_over_long_text_whoever_calls_it(care_plan):
    """The one central rule: model validation (services call full_clean), not only the forms."""
    from django.core.exceptions import ValidationError

    care_plan.summary = "c" * (LONG_TEXT_MAX_LENGTH + 1)
    with pytest.raises(ValidationError) as error:
        care_plan.full_clean()
    assert "summary" in error.value.message_dict


def test_textareas_tell_the_browser_their_limit(browser_client, prescriber, care_plan):
    page = reverse("careplans:care_plan_edit", kwargs={"patient_id": care_plan.patient.public_id})
    assert f'maxlength="{LONG_TEXT_MAX_LENGTH}"' in browser_client(prescriber).get(page).content.decode()


# --- names and identifiers ------------------------------------------------------------------------


@pytest.mark.parametrize("char", UNSAFE)
@pytest.mark.parametrize("field", ["mrn", "given_name", "family_name"])
def test_patient_identifiers_refuse_invisible_and_control_characters_through_the_api(api, prescriber, field, char):
    body = {**NEW_PATIENT, field: f"Ort{char}ega" if field != "mrn" else f"B-{char}200"}
    response = api(prescriber).post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert "invisible or control characters" in " ".join(response.json()[field])
    assert f"U+{ord(char):04X}" in " ".join(response.json()[field])
    assert not Patient.objects.filter(given_name__startswith="Ines").exists()


def test_ordinary_names_with_accents_apostrophes_and_hyphens_are_accepted(api, prescriber):
    body = {**NEW_PATIENT, "given_name": "Zoë-Anne", "family_name": "O'Brien Núñez 李"}
    assert api(prescriber).post("/api/v1/patients/", body, format="json").status_code == 201


def test_patient_name_with_a_bidi_override_is_a_field_error_on_the_page(browser_client, care_manager):
    response = browser_client(care_manager).post(
        reverse("careplans:patient_create"),
        {"given_name": "Ana", "family_name": "Li\u202ema", "birth_date": "1991-02-03", "mrn": "Z-9"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="id_family_name_error"' in body and "U+202E" in body
    assert not Patient.objects.filter(mrn="Z-9").exists()


def test_staff_names_refuse_zero_width_characters(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        "/staff/new/",
        {"username": "t.zw", "email": "t.zw@clinic.test", "first_name": "Jo\u200bhn", "roles": ["therapist"]},
    )
    assert response.status_code == 200 and "id_first_name_error" in response.content.decode()
    assert not User.objects.filter(username="t.zw").exists()


def test_staff_names_refuse_controls_through_the_api(api, clinic_admin, therapist):
    response = api(clinic_admin).patch(
        f"/api/v1/users/{therapist.public_id}/", {"last_name": "Smith\u202e"}, format="json"
    )
    assert response.status_code == 400 and "last_name" in response.json()


# --- CSV exports --------------------------------------------------------------------------------------


def test_csv_cells_lose_control_bidi_and_zero_width_characters():
    assert csv_cell("Sm\u200bith\u202e, Jo\x07hn") == "Smith, John"
    assert csv_cell("\u200b=HYPERLINK(1)") == "'=HYPERLINK(1)"  # an invisible prefix cannot hide a formula
    assert csv_cell("line one\nline two") == "line one\nline two"  # line breaks in free text are content
    assert strip_unsafe_characters("\ufeffMRN-1\u2066") == "MRN-1"


# --- birth dates (issue 16 item 9) ----------------------------------------------------------------


def _years_ago(years: int):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return today.replace(year=today.year - years) if not (today.month == 2 and today.day == 29) else None


@pytest.mark.parametrize(
    ("offset", "status", "message"),
    [
        (0, 201, None),  # born today: a newborn is a patient
        (1, 400, "cannot be in the future"),
    ],
)
def test_future_birth_dates_are_refused_through_the_api(api, prescriber, offset, status, message):
    born = timezone.localdate() + timedelta(days=offset)
    response = api(prescriber).post("/api/v1/patients/", {**NEW_PATIENT, "birth_date": str(born)}, format="json")
    assert response.status_code == status, response.content
    if message:
        assert message in " ".join(response.json()["birth_date"])


def test_birth_dates_more_than_120_years_ago_are_refused_through_the_api(api, prescriber):
    oldest = _years_ago(120) or pytest.skip("29 February")
    ok = api(prescriber).post("/api/v1/patients/", {**NEW_PATIENT, "birth_date": str(oldest)}, format="json")
    assert ok.status_code == 201, ok.content
    too_old = api(prescriber).post(
        "/api/v1/patients/",
        {**NEW_PATIENT, "mrn": "B-201", "birth_date": str(oldest - timedelta(days=1))},
        format="json",
    )
    assert too_old.status_code == 400 and "120 years" in " ".join(too_old.json()["birth_date"])


def test_future_birth_date_is_a_field_error_on_the_page(browser_client, care_manager):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = browser_client(care_manager).post(
        reverse("careplans:patient_create"),
        {"given_name": "Ana", "family_name": "Lima", "birth_date": str(tomorrow), "mrn": "Z-2"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="id_birth_date_error"' in body and "cannot be in the future" in body
    assert not Patient.objects.filter(mrn="Z-2").exists()


def test_birth_date_change_to_the_future_is_refused_on_edit(api, prescriber, patient):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = api(prescriber).patch(f"/api/v1/patients/{patient.public_id}/", {"birth_date": str(tomorrow)})
    assert response.status_code == 400 and "birth_date" in response.json()
