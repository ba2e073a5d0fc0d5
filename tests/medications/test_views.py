"""The medications pages: what each role sees and may do, forms that keep input and show
errors by the field, the interaction confirmation, stale-version handling, query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from careplans.models import TeamRole
from medications.models import AdherenceCheck, DoseChange, DrugProperty, InteractionRule, LabResult, Regimen, SideEffect
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
    # +5 for issue 11 items 1-4 (longest washout, properties, acknowledgements, profiles x2) and
    # +8 for items 5-8 (injections, profile x2, critical results list + banner, monitoring
    # exceptions, lithium's birth date and co-medication); none grows with the rows.
    with django_assert_max_num_queries(37):
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


def test_interaction_warning_asks_for_an_acknowledgement_with_a_reason(
    browser_client, prescriber, patient, start_regimen
):
    start_regimen(patient, "Sertraline", "50")
    client = browser_client(prescriber)
    response = client.post(url("regimen_start", patient), start_data("Phenelzine", dose="15", indication="TRD"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Phenelzine + Sertraline" in html and "Serotonin syndrome" in html and "Acknowledge and start" in html
    assert 'value="maoi-serotonergic"' in html
    assert Regimen.objects.filter(patient=patient).count() == 1
    assert not response.context["form"].errors  # the panel informs the first time
    ticked_no_reason = client.post(
        url("regimen_start", patient),
        start_data(
            "Phenelzine",
            dose="15",
            indication="TRD",
            acknowledgement_shown="1",
            acknowledged_warnings="maoi-serotonergic",
        ),
    )
    form = ticked_no_reason.context["form"]
    assert "acknowledgement_reason" in form.errors and "acknowledged_warnings" not in form.errors
    html = ticked_no_reason.content.decode()
    assert 'id="id_acknowledgement_reason_error"' in html and "checked" in html and 'value="TRD"' in html
    reason_no_tick = client.post(
        url("regimen_start", patient),
        start_data("Phenelzine", dose="15", acknowledgement_shown="1", acknowledgement_reason="Specialist plan"),
    )
    assert "acknowledged_warnings" in reason_no_tick.context["form"].errors
    assert "Specialist plan" in reason_no_tick.content.decode()
    assert Regimen.objects.filter(patient=patient).count() == 1
    confirmed = client.post(
        url("regimen_start", patient),
        start_data(
            "Phenelzine",
            dose="15",
            acknowledgement_shown="1",
            acknowledged_warnings="maoi-serotonergic",
            acknowledgement_reason="Specialist plan, sertraline stops today",
        ),
    )
    assert confirmed.status_code == 302
    phenelzine = Regimen.objects.get(patient=patient, medication__name="Phenelzine")
    [ack] = phenelzine.acknowledgements.all()
    assert ack.code == "maoi-serotonergic" and ack.acknowledged_by == prescriber
    html = client.get(url("tab", patient)).content.decode()
    assert "interaction-warning" in html and "Acknowledged warning" in html
    assert "Specialist plan, sertraline stops today" in html


def test_a_dose_increase_with_a_major_interaction_asks_for_an_acknowledgement(
    browser_client, prescriber, patient, start_regimen
):
    lithium = start_regimen(patient, "Lithium carbonate", "300", start_date=TODAY - timedelta(days=10))
    start_regimen(patient, "Ibuprofen", "400", start_date=TODAY - timedelta(days=5))
    client = browser_client(prescriber)
    lithium.refresh_from_db()
    data = {
        "version": lithium.version,
        "dose": "400",
        "reason_code": "titration_up",
        "reason": "Level low",
        "effective_on": TODAY.isoformat(),
    }
    asked = client.post(url("dose_change", patient, lithium.public_id), data)
    assert asked.status_code == 200 and 'value="lithium-clearance"' in asked.content.decode()
    saved = client.post(
        url("dose_change", patient, lithium.public_id),
        {
            **data,
            "acknowledgement_shown": "1",
            "acknowledged_warnings": "lithium-clearance",
            "acknowledgement_reason": "Level in 5 days",
        },
    )
    assert saved.status_code == 302
    assert lithium.acknowledgements.filter(code="lithium-clearance", dose_change__isnull=False).exists()


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
    page = client.get(reverse("admin:medications_medication_change", args=[sertraline.pk]))
    assert page.status_code == 200 and "Serotonergic" in page.content.decode()  # its properties, inline
    rule = InteractionRule.objects.get(code="lamotrigine-valproate")
    page = client.get(reverse("admin:medications_interactionrule_change", args=[rule.pk]))
    assert page.status_code == 200 and "Halve the lamotrigine" in page.content.decode()


def test_a_property_the_admin_adds_changes_the_warnings(db):
    # Data, not code: give buspirone (a CYP3A4 substrate) a new role and a rule starts to fire.
    from medications.interactions import Other, interactions_between, rule_book

    def warnings():  # type: ignore[no-untyped-def]
        a, b = med("Buspirone"), med("Quetiapine")
        return interactions_between(medication=a, others=[Other(b)], book=rule_book([a.pk, b.pk]))

    assert warnings() == []
    DrugProperty.objects.create(medication=med("Buspirone"), kind="cyp3a4_inhibitor_strong", source="test")
    assert [w.code for w in warnings()] == ["quetiapine-strong-cyp3a4-inhibitor"]


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


def test_the_prescribing_profile_form_saves_and_warns_when_smoking_stops(
    browser_client, prescriber, patient, start_regimen
):
    client = browser_client(prescriber)
    profile = {"smoking_status": "smoker", "hepatic_impairment": "none", "pregnancy_potential": "no"}
    assert client.post(url("profile_edit", patient), profile).status_code == 302
    start_regimen(patient, "Clozapine", "12.5", start_date=TODAY)
    response = client.post(url("profile_edit", patient), {**profile, "smoking_status": "non_smoker"}, follow=True)
    html = response.content.decode()
    assert "Prescribing profile saved." in html and "Clozapine: Stopping smoking raises its levels" in html
    assert "Does not smoke" in html
    bad = client.post(url("profile_edit", patient), {**profile, "hepatic_impairment": "extreme"})
    assert bad.status_code == 200 and "hepatic_impairment" in bad.context["form"].errors
