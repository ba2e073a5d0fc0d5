"""The medications pages: what each role sees and may do, forms that keep input and show
errors by the field, the interaction confirmation, stale-version handling, query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from careplans.models import TeamRole
from medications.models import AdherenceCheck, DoseChange, LabResult, Regimen, SideEffect
from tests.factories import CareTeamMemberFactory
from tests.medications.conftest import med

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def url(name, patient, *args):  # type: ignore[no-untyped-def]
    return reverse(f"medications:{name}", args=[patient.public_id, *args])


@pytest.fixture
def regimen(patient, start_regimen):  # type: ignore[no-untyped-def]
    return start_regimen(
        patient, "Lithium carbonate", "400", start_date=TODAY - timedelta(days=40), frequency="twice_daily"
    )


# --- The tab ----------------------------------------------------------------------------------


def test_tab_shows_current_dose_chart_monitoring_and_flagged_labs(
    browser_client, prescriber, patient, regimen, change_dose, add_lab
):
    change_dose(regimen, "600", TODAY - timedelta(days=20))
    add_lab(patient, "lithium_level", "1.6", TODAY - timedelta(days=12))
    response = browser_client(prescriber).get(url("tab", patient))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lithium carbonate" in html and "<strong>600 mg</strong> twice daily" in html
    assert "(1200 mg/day, oral)" in html
    assert '<path class="step"' in html and "400 mg from" in html
    assert "lab-flag-critical" in html and "Toxic range" in html
    assert "monitoring-overdue" in html and "Before starting" in html
    assert "Adjust dose" in html and "Start a medication" in html


@pytest.mark.parametrize("user", ["therapist", "care_manager"])
def test_therapist_and_care_manager_see_everything_but_no_prescribing_buttons(
    browser_client, request, patient, regimen, user
):
    html = browser_client(request.getfixturevalue(user)).get(url("tab", patient)).content.decode()
    assert "Lithium carbonate" in html and "Dose history" in html
    assert "Adjust dose" not in html and "Start a medication" not in html and ">Stop<" not in html
    assert "Enter lab result" in html and "Record side effect" in html


@pytest.mark.parametrize("user", ["outsider", "clinic_admin"])
def test_tab_and_forms_are_404_off_the_care_team(browser_client, request, patient, regimen, user):
    client = browser_client(request.getfixturevalue(user))
    for page in (
        url("tab", patient),
        url("regimen_start", patient),
        url("dose_change", patient, regimen.public_id),
        url("regimen_stop", patient, regimen.public_id),
        url("lab_create", patient),
        url("side_effect_create", patient),
        url("adherence_create", patient),
    ):
        assert client.get(page).status_code == 404, page
    assert client.post(url("dose_change", patient, regimen.public_id), {"dose": "1"}).status_code == 404


def test_empty_tab_explains_what_to_do(browser_client, prescriber, patient):
    html = browser_client(prescriber).get(url("tab", patient)).content.decode()
    assert "No current medications." in html and "No lab results yet." in html


def test_tab_query_count_is_pinned(
    browser_client, prescriber, patient, start_regimen, change_dose, add_lab, django_assert_max_num_queries
):
    for name, dose in (
        ("Lithium carbonate", "300"),
        ("Clozapine", "25"),
        ("Quetiapine", "50"),
        ("Sertraline", "25"),
        ("Divalproex sodium (valproate)", "250"),
    ):
        regimen = start_regimen(patient, name, dose, start_date=TODAY - timedelta(days=200))
        for n in range(8):
            change_dose(regimen, str(int(dose) + 5 * (n + 1)), TODAY - timedelta(days=190 - n * 20))
    for n in range(40):
        add_lab(patient, "anc", "2000", TODAY - timedelta(days=n * 4))
        add_lab(patient, "lithium_level", "0.7", TODAY - timedelta(days=n * 4))
    client = browser_client(prescriber)
    # +8 for issue 11: injections, profile (x2), critical results (list + banner), monitoring
    # exceptions, lithium's birth date and co-medication; none grows with the rows.
    with django_assert_max_num_queries(32):
        response = client.get(url("tab", patient))
    assert response.status_code == 200


# --- Starting a regimen ----------------------------------------------------------------------------


def start_data(name="Sertraline", **extra):  # type: ignore[no-untyped-def]
    return {
        "medication": str(med(name).public_id),
        "dose": "50",
        "unit": "mg",
        "frequency": "once_daily",
        "route": "oral",
        "start_date": TODAY.isoformat(),
        **extra,
    }


def test_prescriber_starts_a_medication_from_the_form(browser_client, prescriber, patient):
    response = browser_client(prescriber).post(url("regimen_start", patient), start_data())
    assert response.status_code == 302
    assert Regimen.objects.get(patient=patient).medication.name == "Sertraline"


@pytest.mark.parametrize("user", ["therapist", "care_manager"])
def test_non_prescribers_get_403_on_prescribing_pages(browser_client, request, patient, regimen, user):
    client = browser_client(request.getfixturevalue(user))
    assert client.get(url("regimen_start", patient)).status_code == 403
    assert client.post(url("regimen_start", patient), start_data()).status_code == 403
    assert (
        client.post(
            url("dose_change", patient, regimen.public_id),
            {
                "version": 1,
                "dose": "500",
                "reason_code": "titration_up",
                "reason": "x",
                "effective_on": TODAY.isoformat(),
            },
        ).status_code
        == 403
    )
    assert (
        client.post(url("regimen_stop", patient, regimen.public_id), {"version": 1, "reason": "x"}).status_code == 403
    )
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("400") and regimen.status == "active"


@pytest.mark.parametrize(
    ("extra", "field", "text"),
    [
        ({"dose": "0"}, "dose", "Enter a dose above zero."),
        ({"dose": "-5"}, "dose", "Enter a dose above zero."),
        ({"dose": "200.01"}, "dose", "above the usual maximum"),
        ({"dose": "abc"}, "dose", "Enter a number."),
        ({"unit": "mcg"}, "unit", "Sertraline is dosed in mg, not mcg."),
    ],
)
def test_start_form_shows_errors_next_to_the_field_and_keeps_input(
    browser_client, prescriber, patient, extra, field, text
):
    response = browser_client(prescriber).post(
        url("regimen_start", patient), start_data(indication="Low mood since spring", **extra)
    )
    assert response.status_code == 200
    assert text in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and 'value="Low mood since spring"' in html
    assert not Regimen.objects.exists()


def test_interaction_warning_names_both_drugs_and_needs_confirmation(
    browser_client, prescriber, patient, start_regimen
):
    start_regimen(patient, "Sertraline", "50")
    client = browser_client(prescriber)
    response = client.post(url("regimen_start", patient), start_data("Phenelzine", dose="15"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Phenelzine + Sertraline" in html and "Serotonin syndrome" in html and "Start anyway" in html
    assert Regimen.objects.filter(patient=patient).count() == 1
    assert not response.context["form"].errors  # the warning is not an error the first time
    unticked = client.post(url("regimen_start", patient), start_data("Phenelzine", dose="15", interactions_shown="1"))
    assert "confirm_interactions" in unticked.context["form"].errors
    assert Regimen.objects.filter(patient=patient).count() == 1
    confirmed = client.post(
        url("regimen_start", patient), start_data("Phenelzine", dose="15", confirm_interactions="on")
    )
    assert confirmed.status_code == 302
    assert Regimen.objects.filter(patient=patient, medication__name="Phenelzine").exists()
    html = client.get(url("tab", patient)).content.decode()
    assert "interaction-warning" in html


# --- Dose adjustment -------------------------------------------------------------------------------------


def dose_data(regimen, **extra):  # type: ignore[no-untyped-def]
    return {
        "version": regimen.version,
        "dose": "500",
        "reason_code": "titration_up",
        "reason": "Level 0.5 at one week",
        "effective_on": TODAY.isoformat(),
        **extra,
    }


def test_dose_form_shows_current_dose_and_history_beside_it(browser_client, prescriber, patient, regimen):
    html = browser_client(prescriber).get(url("dose_change", patient, regimen.public_id)).content.decode()
    assert "Current dose: <strong>400 mg</strong>" in html and "Dose history" in html and "Start" in html


def test_prescriber_adjusts_the_dose(browser_client, prescriber, patient, regimen):
    response = browser_client(prescriber).post(url("dose_change", patient, regimen.public_id), dose_data(regimen))
    assert response.status_code == 302
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("500")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"dose": "0"}, "dose"),
        ({"dose": "-1"}, "dose"),
        ({"dose": "900.01"}, "dose"),
        ({"dose": "x"}, "dose"),
        ({"reason": ""}, "reason"),
        ({"dose": "400"}, "dose"),
    ],
)
def test_dose_form_errors_keep_the_input(browser_client, prescriber, patient, regimen, extra, field):
    response = browser_client(prescriber).post(
        url("dose_change", patient, regimen.public_id), dose_data(regimen, **extra)
    )
    assert response.status_code == 200 and field in response.context["form"].errors
    assert "Level 0.5 at one week" in response.content.decode() or extra.get("reason") == ""
    assert DoseChange.objects.filter(regimen=regimen).count() == 1


def test_over_max_dose_with_override_reason_is_saved(browser_client, prescriber, patient, regimen):
    response = browser_client(prescriber).post(
        url("dose_change", patient, regimen.public_id),
        dose_data(regimen, dose="1000", override_reason="Level still 0.5 at 1800 mg/day, consultant agrees"),
    )
    assert response.status_code == 302
    assert DoseChange.objects.filter(regimen=regimen).last().override_reason.startswith("Level still")


def test_stale_version_shows_a_clear_message_and_keeps_the_input(
    browser_client, prescriber, patient, regimen, change_dose
):
    stale = dose_data(regimen, dose="450", reason="My reasoning here")
    change_dose(regimen, "500", TODAY)
    response = browser_client(prescriber).post(url("dose_change", patient, regimen.public_id), stale)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved first" in html and "Not saved" in html
    assert 'value="450"' in html and "My reasoning here" in html
    assert "The current dose is now <strong>500 mg</strong>" in html
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("500")
    # Saving again from the rebased form goes through.
    resent = browser_client(prescriber).post(
        url("dose_change", patient, regimen.public_id), {**stale, "version": regimen.version}
    )
    assert resent.status_code == 302


def test_latest_dose_change_can_be_marked_entered_in_error(browser_client, prescriber, patient, regimen, change_dose):
    wrong = change_dose(regimen, "800", TODAY)
    regimen.refresh_from_db()
    response = browser_client(prescriber).post(
        url("dose_change_error", patient, regimen.public_id, wrong.public_id),
        {"version": regimen.version, "reason": "Wrong patient's order"},
    )
    assert response.status_code == 302
    regimen.refresh_from_db()
    assert regimen.dose == Decimal("400")
    assert DoseChange.all_records.get(pk=wrong.pk).entered_in_error_reason == "Wrong patient's order"


def test_pause_needs_a_reason_and_stop_records_it(browser_client, prescriber, patient, regimen):
    client = browser_client(prescriber)
    response = client.post(url("regimen_pause", patient, regimen.public_id), {"version": regimen.version})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert (
        client.post(
            url("regimen_stop", patient, regimen.public_id), {"version": regimen.version, "reason": "Toxicity"}
        ).status_code
        == 302
    )
    regimen.refresh_from_db()
    assert regimen.status == "stopped" and regimen.status_reason == "Toxicity"
    html = client.get(url("tab", patient)).content.decode()
    assert "Stopped medications" in html and "stopped: Toxicity" in html


# --- Side effects, adherence, labs (any team member) ------------------------------------------------------------


@pytest.mark.parametrize("user", ["prescriber", "therapist", "care_manager"])
def test_any_team_member_records_side_effects_adherence_and_labs(browser_client, request, patient, regimen, user):
    client = browser_client(request.getfixturevalue(user))
    rid = str(regimen.public_id)
    assert (
        client.post(
            url("side_effect_create", patient),
            {"regimen": rid, "effect": "Tremor", "severity": "mild", "onset": TODAY.isoformat()},
        ).status_code
        == 302
    )
    assert (
        client.post(
            url("adherence_create", patient), {"checked_on": TODAY.isoformat(), "method": "pill_count", "percent": "80"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            url("lab_create", patient),
            {"regimen": rid, "test": "lithium_level", "value": "0.8", "taken_on": TODAY.isoformat()},
        ).status_code
        == 302
    )
    assert (SideEffect.objects.count(), AdherenceCheck.objects.count(), LabResult.objects.count()) == (1, 1, 1)


@pytest.mark.parametrize(
    ("page", "data", "field"),
    [
        ("lab_create", {"test": "lithium_level", "value": "-1"}, "value"),
        ("lab_create", {"test": "", "value": "1"}, "test"),
        ("lab_create", {"test": "anc", "value": "2000", "taken_on": "2999-01-01"}, "taken_on"),
        ("adherence_create", {"method": "pill_count", "percent": "120"}, "percent"),
        ("side_effect_create", {"effect": "Rash", "severity": "mild", "onset": "2999-01-01"}, "onset"),
    ],
)
def test_record_forms_show_errors_by_the_field(browser_client, therapist, patient, page, data, field):
    defaults = {"taken_on": TODAY.isoformat(), "checked_on": TODAY.isoformat()}
    response = browser_client(therapist).post(url(page, patient), {**defaults, **data})
    assert response.status_code == 200 and field in response.context["form"].errors


def test_record_form_refuses_another_patients_regimen(browser_client, prescriber, patient, start_regimen):
    from tests.factories import PatientFactory

    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=prescriber, role=TeamRole.PRESCRIBER)
    foreign = start_regimen(other, "Sertraline", "50")
    response = browser_client(prescriber).post(
        url("lab_create", patient),
        {"regimen": str(foreign.public_id), "test": "anc", "value": "2000", "taken_on": TODAY.isoformat()},
    )
    assert response.status_code == 200 and "regimen" in response.context["form"].errors
    assert not LabResult.objects.exists()


def test_lab_form_prefills_the_test_from_the_monitoring_link(browser_client, prescriber, patient, regimen):
    response = browser_client(prescriber).get(url("lab_create", patient) + "?test=lithium_level")
    assert response.context["form"].initial["test"] == "lithium_level"


def test_clinic_admin_edits_the_catalog_in_django_admin(client, clinic_admin):
    clinic_admin.is_staff = True
    clinic_admin.save()
    client.force_login(clinic_admin)
    sertraline = med("Sertraline")
    assert client.get(reverse("admin:medications_medication_changelist")).status_code == 200
    protocol = med("Lithium carbonate").monitoring_protocol
    page = client.get(reverse("admin:medications_monitoringprotocol_change", args=[protocol.pk]))
    assert page.status_code == 200 and "Lithium level" in page.content.decode()
    assert client.get(reverse("admin:medications_interactionrule_changelist")).status_code == 200
    assert client.get(reverse("admin:medications_medication_change", args=[sertraline.pk])).status_code == 200


def test_clinicians_cannot_edit_the_catalog(client, prescriber):
    prescriber.is_staff = True
    prescriber.save()
    client.force_login(prescriber)
    assert client.get(reverse("admin:medications_medication_changelist")).status_code == 403


def test_dose_form_query_count_is_pinned(
    browser_client, prescriber, patient, regimen, change_dose, django_assert_max_num_queries
):
    for n in range(20):
        change_dose(regimen, str(410 + n * 10), TODAY - timedelta(days=30 - n))
    client = browser_client(prescriber)
    with django_assert_max_num_queries(10):
        response = client.get(url("dose_change", patient, regimen.public_id))
    assert response.status_code == 200 and response.content.decode().count("<tr>") >= 21
