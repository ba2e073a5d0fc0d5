"""The browser pages of the foundation: caseload, chart, care-plan editors, care teams, staff."""

import pytest
from django.urls import reverse

from careplans.models import CarePlan, CareTeamMember, Goal, Patient, PlanAgreement
from clinic.models import User
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory

pytestmark = pytest.mark.django_db


def url(name, patient, **kwargs):  # type: ignore[no-untyped-def]
    return reverse(f"careplans:{name}", kwargs={"patient_id": patient.public_id, **kwargs})


def test_caseload_lists_my_patients_with_plan_status(browser_client, prescriber, care_plan):
    PatientFactory(family_name="Notmine")
    page = browser_client(prescriber).get("/caseload/").content.decode()
    assert care_plan.patient.display_name in page and "Active" in page
    assert "Notmine" not in page


def test_empty_caseload_explains_itself(browser_client, outsider):
    page = browser_client(outsider).get("/caseload/").content.decode()
    assert "No patients on your caseload yet" in page


def test_caseload_query_count_is_constant(browser_client, prescriber, django_assert_max_num_queries):
    for _ in range(40):
        plan = CarePlanFactory()
        CareTeamMemberFactory(patient=plan.patient, user=prescriber)
    client = browser_client(prescriber)
    # session, user, caseload, plans, teams, inbox badge, session save (3): constant in the caseload size.
    with django_assert_max_num_queries(9):
        response = client.get("/caseload/")
    assert response.content.decode().count("/patients/") >= 40


def test_chart_shows_header_team_plan_and_goals(browser_client, therapist, care_plan):
    GoalFactory(care_plan=care_plan, description="Back to work three days a week")
    page = browser_client(therapist).get(url("chart", care_plan.patient)).content.decode()
    patient = care_plan.patient
    assert patient.display_name in page and patient.mrn in page and f"Age {patient.age}" in page
    assert "Back to work three days a week" in page
    assert "Therapist" in page and "Prescriber" in page  # the care team in the header


def test_chart_query_count_is_constant_with_many_goals(
    browser_client, therapist, care_plan, django_assert_max_num_queries
):
    GoalFactory.create_batch(30, care_plan=care_plan, status_changed_by=therapist)
    client = browser_client(therapist)
    # session, user, patient, audit (5), team, plan, goals, agreements, session save (3) = 15, plus what
    # other apps add to the tab (safety banner, critical-result banner, tasks panel, case review,
    # therapy goal progress, inbox badge) = 21, whatever the number of goals.
    with django_assert_max_num_queries(21):
        response = client.get(url("chart", care_plan.patient))
    assert response.content.decode().count("badge-proposed") == 30


def test_outsider_and_admin_get_404_on_every_chart_page(client, outsider, clinic_admin, care_plan):
    goal = GoalFactory(care_plan=care_plan)
    patient = care_plan.patient
    pages = [
        url("chart", patient),
        url("care_plan_edit", patient),
        url("relapse_plan_edit", patient),
        url("goal_create", patient),
        url("goal_edit", patient, goal_id=goal.public_id),
        url("agreement_create", patient),
        f"/patients/{patient.public_id}/medications/",
    ]
    for user in (outsider, clinic_admin):
        client.force_login(user)
        for page in pages:
            assert client.get(page).status_code == 404, (user, page)
            assert client.post(page, {"version": 1, "summary": "x"}).status_code == 404, (user, page)
    care_plan.refresh_from_db()
    assert care_plan.summary == "Shared formulation."


def test_care_plan_edit_saves_and_redirects_to_the_chart(browser_client, care_manager, care_plan):
    response = browser_client(care_manager).post(
        url("care_plan_edit", care_plan.patient),
        {
            "version": 1,
            "status": "active",
            "summary": "Low mood after job loss.",
            "diagnoses": "F32.1 Major depressive disorder, moderate\nInsomnia",
            "review_date": "2027-01-15",
        },
    )
    assert response.status_code == 302
    care_plan.refresh_from_db()
    assert care_plan.version == 2
    assert care_plan.diagnoses == [
        {"code": "F32.1", "description": "Major depressive disorder, moderate"},
        {"code": "", "description": "Insomnia"},
    ]


def test_bad_review_date_shows_an_error_next_to_the_field_and_keeps_the_input(browser_client, prescriber, care_plan):
    response = browser_client(prescriber).post(
        url("care_plan_edit", care_plan.patient),
        {"version": 1, "status": "active", "summary": "Typed carefully", "review_date": "next tuesday"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_review_date_error"' in page and "Enter a valid date" in page
    assert "Typed carefully" in page
    care_plan.refresh_from_db()
    assert care_plan.version == 1


def test_stale_edit_shows_the_conflict_and_keeps_my_text(browser_client, prescriber, therapist, care_plan):
    from careplans import services

    services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="Prescriber saved first")
    response = browser_client(therapist).post(
        url("care_plan_edit", care_plan.patient), {"version": 1, "status": "active", "summary": "My therapist text"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved first" in page and "Prescriber saved first" in page and "My therapist text" in page
    care_plan.refresh_from_db()
    assert care_plan.summary == "Prescriber saved first"
    assert 'name="version" value="2"' in page  # saving again is a deliberate overwrite


def test_goal_create_and_status_change_record_who_and_when(browser_client, therapist, care_plan):
    client = browser_client(therapist)
    client.post(
        url("goal_create", care_plan.patient),
        {"domain": "lifestyle", "description": "Walk daily", "target": "30 min", "status": "proposed"},
    )
    goal = Goal.objects.get(description="Walk daily")
    response = client.post(
        url("goal_edit", care_plan.patient, goal_id=goal.public_id),
        {
            "version": goal.version,
            "domain": "lifestyle",
            "description": "Walk daily",
            "target": "30 min",
            "status": "active",
        },
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.status == "active" and goal.status_changed_by == therapist


def test_goal_without_description_is_refused_next_to_the_field(browser_client, therapist, care_plan):
    response = browser_client(therapist).post(
        url("goal_create", care_plan.patient),
        {"domain": "symptom", "description": "", "target": "PHQ-9 < 5", "status": "proposed"},
    )
    assert 'id="id_description_error"' in response.content.decode()
    assert "PHQ-9 &lt; 5" in response.content.decode()
    assert not Goal.objects.exists()


def test_forbidden_goal_transition_is_shown_on_the_status_field(browser_client, therapist, care_plan):
    goal = GoalFactory(care_plan=care_plan, status="discontinued")
    response = browser_client(therapist).post(
        url("goal_edit", care_plan.patient, goal_id=goal.public_id),
        {"version": 1, "domain": "symptom", "description": goal.description, "status": "achieved"},
    )
    assert "Cannot change status from discontinued to achieved" in response.content.decode()


def test_relapse_plan_edit_saves(browser_client, care_manager, care_plan):
    response = browser_client(care_manager).post(
        url("relapse_plan_edit", care_plan.patient),
        {"version": 1, "warning_signs": "Sleeping past noon", "crisis_steps": "Call the crisis line"},
    )
    assert response.status_code == 302
    care_plan.refresh_from_db()
    assert care_plan.relapse_plan.warning_signs == "Sleeping past noon" and care_plan.version == 2


def test_agreement_is_recorded_with_who_and_what(browser_client, prescriber, care_plan):
    browser_client(prescriber).post(
        url("agreement_create", care_plan.patient),
        {
            "kind": "informed_consent",
            "agreed_on": "2026-11-20",
            "participants": "patient, Dr P",
            "agreement": "Consents to start sertraline; risks discussed.",
        },
    )
    record = PlanAgreement.objects.get()
    assert record.recorded_by == prescriber and "sertraline" in record.agreement


def test_start_care_plan_when_there_is_none(browser_client, therapist, patient):
    response = browser_client(therapist).post(url("care_plan_start", patient))
    assert response.status_code == 302
    assert CarePlan.objects.filter(patient=patient).count() == 1


def test_clinic_admin_manages_care_team_without_seeing_the_chart(client, clinic_admin, patient, outsider):
    client.force_login(clinic_admin)
    page = client.get(url("care_team", patient)).content.decode()
    assert "Care team" in page and "Care plan" not in page
    client.post(url("care_team", patient), {"user": str(outsider.public_id), "role": "therapist"})
    member = CareTeamMember.objects.get(user=outsider, ended_at__isnull=True)
    client.post(url("care_team_end", patient, member_id=member.public_id))
    member.refresh_from_db()
    assert member.ended_at is not None


def test_register_patient_as_clinician_opens_the_chart(browser_client, care_manager):
    response = browser_client(care_manager).post(
        reverse("careplans:patient_create"),
        {"given_name": "Ana", "family_name": "Lima", "birth_date": "1991-02-03", "mrn": "Z-1"},
    )
    patient = Patient.objects.get(mrn="Z-1")
    assert response["Location"] == reverse("outcomes:tab", kwargs={"patient_id": patient.public_id})  # Overview first


def test_staff_pages_are_for_clinic_admins(client, clinic_admin, prescriber):
    client.force_login(prescriber)
    assert client.get("/staff/").status_code == 403
    client.force_login(clinic_admin)
    response = client.post(
        "/staff/new/",
        {"username": "t.new", "email": "t.new@clinic.test", "roles": ["therapist", "care_manager"]},
    )
    assert response.status_code == 302
    created = User.objects.get(username="t.new")
    assert created.roles == ["therapist", "care_manager"]
    # Issue 13: the admin types no password; the new user sets one from an e-mailed link.
    assert not created.has_usable_password()


def test_staff_form_errors_keep_the_input(client, clinic_admin):
    client.force_login(clinic_admin)
    page = client.post(
        "/staff/new/", {"username": "t.new", "email": "not-an-address", "first_name": "Kept", "roles": []}
    ).content.decode()
    assert 'value="Kept"' in page and "valid email address" in page and "This field is required" in page
    assert not User.objects.filter(username="t.new").exists()


def test_demographics_edit_is_audited_field_by_field(client, clinic_admin, patient):
    from clinic.models import AuditEvent

    client.force_login(clinic_admin)
    response = client.post(
        url("patient_edit", patient),
        {"given_name": patient.given_name, "family_name": "Newname", "birth_date": "1985-06-15", "mrn": patient.mrn},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="update").get()
    assert set(event.changes) == {"family_name"}


def test_demographics_edit_is_404_for_outsiders(client, outsider, patient):
    client.force_login(outsider)
    assert client.get(url("patient_edit", patient)).status_code == 404
