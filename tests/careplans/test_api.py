"""The care-plan API contract (DESIGN.md) and who may use it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from careplans.models import CarePlan, CareTeamMember, Goal, Patient, TeamRole
from clinic.models import AuditEvent
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PATIENT = {"mrn": "A-100", "given_name": "Ines", "family_name": "Ortega", "birth_date": "1990-04-02"}


# --- patients -------------------------------------------------------------------------------


def test_clinician_who_creates_a_patient_joins_its_care_team(api, therapist):
    response = api(therapist).post("/api/v1/patients/", NEW_PATIENT, format="json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(public_id=response.json()["id"])
    assert CareTeamMember.objects.filter(patient=patient, user=therapist, role=TeamRole.THERAPIST).exists()
    assert api(therapist).get(f"/api/v1/patients/{patient.public_id}/").status_code == 200


def test_patient_create_requires_the_four_contract_fields(api, prescriber):
    response = api(prescriber).post("/api/v1/patients/", {"mrn": "X"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"given_name", "family_name", "birth_date"}
    assert not Patient.objects.filter(mrn="X").exists()


def test_duplicate_mrn_is_a_field_error(api, prescriber, patient):
    response = api(prescriber).post("/api/v1/patients/", {**NEW_PATIENT, "mrn": patient.mrn}, format="json")
    assert response.status_code == 400
    assert "mrn" in response.json()


def test_patient_list_shows_only_my_caseload(api, prescriber, patient, outsider):
    PatientFactory()  # someone else's patient
    ids = [row["id"] for row in api(prescriber).get("/api/v1/patients/").json()["results"]]
    assert ids == [str(patient.public_id)]
    assert api(outsider).get("/api/v1/patients/").json()["count"] == 0


def test_outsider_gets_404_for_a_patient_and_the_refusal_is_audited(api, outsider, patient):
    response = api(outsider).get(f"/api/v1/patients/{patient.public_id}/")
    assert response.status_code == 404
    denied = AuditEvent.objects.filter(actor=outsider, action="access_denied").get()
    assert denied.object_id == str(patient.public_id) and denied.outcome == "denied"


def test_outsider_cannot_patch_a_patient_and_nothing_changes(api, outsider, patient):
    response = api(outsider).patch(f"/api/v1/patients/{patient.public_id}/", {"family_name": "X"}, format="json")
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.family_name != "X"


def test_clinic_admin_sees_every_patient_demographics(api, clinic_admin, patient):
    PatientFactory()
    assert api(clinic_admin).get("/api/v1/patients/").json()["count"] == 2
    assert api(clinic_admin).get(f"/api/v1/patients/{patient.public_id}/").status_code == 200


def test_anonymous_gets_401(api, patient):
    assert api().get("/api/v1/patients/").status_code == 401


def test_patient_list_query_count_does_not_grow_with_rows(api, prescriber, django_assert_max_num_queries):
    for _ in range(30):
        CareTeamMemberFactory(user=prescriber)
    with django_assert_max_num_queries(4):
        response = api(prescriber).get("/api/v1/patients/")
    assert response.json()["count"] == 30


# --- care team ------------------------------------------------------------------------------


def test_removed_team_member_loses_access_on_the_next_request(api, prescriber, therapist, patient):
    member = CareTeamMember.objects.get(patient=patient, user=therapist)
    assert api(therapist).get(f"/api/v1/patients/{patient.public_id}/").status_code == 200
    response = api(prescriber).delete(f"/api/v1/patients/{patient.public_id}/care-team/{member.public_id}/")
    assert response.status_code == 204
    assert api(therapist).get(f"/api/v1/patients/{patient.public_id}/").status_code == 404
    member.refresh_from_db()
    assert member.ended_at is not None  # the membership is ended, not deleted


def test_admin_adds_a_clinician_to_the_care_team(api, clinic_admin, patient, outsider):
    url = f"/api/v1/patients/{patient.public_id}/care-team/"
    response = api(clinic_admin).post(url, {"user": str(outsider.public_id), "role": "prescriber"}, format="json")
    assert response.status_code == 201, response.content
    assert api(outsider).get(f"/api/v1/patients/{patient.public_id}/").status_code == 200


def test_adding_the_same_member_twice_is_a_field_error(api, clinic_admin, patient, prescriber):
    url = f"/api/v1/patients/{patient.public_id}/care-team/"
    response = api(clinic_admin).post(url, {"user": str(prescriber.public_id), "role": "prescriber"}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()


def test_outsider_cannot_add_themselves_to_a_care_team(api, outsider, patient):
    url = f"/api/v1/patients/{patient.public_id}/care-team/"
    response = api(outsider).post(url, {"user": str(outsider.public_id), "role": "prescriber"}, format="json")
    assert response.status_code == 404
    assert not CareTeamMember.objects.filter(user=outsider).exists()


# --- care plans -------------------------------------------------------------------------------


def test_create_care_plan_needs_only_the_patient(api, care_manager, patient):
    response = api(care_manager).post("/api/v1/care-plans/", {"patient": str(patient.public_id)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1 and body["status"] == "active" and body["diagnoses"] == []


def test_care_plan_for_a_patient_outside_my_team_is_refused(api, prescriber):
    stranger = PatientFactory()
    response = api(prescriber).post("/api/v1/care-plans/", {"patient": str(stranger.public_id)}, format="json")
    assert response.status_code == 400
    assert "patient" in response.json()
    assert not CarePlan.objects.filter(patient=stranger).exists()


def test_second_open_care_plan_is_refused(api, prescriber, care_plan):
    response = api(prescriber).post("/api/v1/care-plans/", {"patient": str(care_plan.patient.public_id)}, format="json")
    assert response.status_code == 400
    assert CarePlan.objects.filter(patient=care_plan.patient).count() == 1


def test_patch_with_current_version_saves_and_bumps_version(api, therapist, care_plan):
    url = f"/api/v1/care-plans/{care_plan.public_id}/"
    body = {"version": 1, "summary": "New formulation", "diagnoses": [{"code": "f32.1", "description": "MDD"}]}
    response = api(therapist).patch(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["diagnoses"] == [{"code": "F32.1", "description": "MDD"}]


def test_stale_version_gets_409_with_the_current_state_and_nothing_is_overwritten(
    api, therapist, prescriber, care_plan
):
    url = f"/api/v1/care-plans/{care_plan.public_id}/"
    assert api(prescriber).patch(url, {"version": 1, "summary": "Prescriber's"}, format="json").status_code == 200
    response = api(therapist).patch(url, {"version": 1, "summary": "Therapist's"}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["summary"] == "Prescriber's"
    assert response.json()["current"]["version"] == 2
    care_plan.refresh_from_db()
    assert care_plan.summary == "Prescriber's"


def test_patch_without_version_is_refused(api, therapist, care_plan):
    response = api(therapist).patch(f"/api/v1/care-plans/{care_plan.public_id}/", {"summary": "x"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()


def test_bad_icd10_code_is_a_field_error(api, therapist, care_plan):
    body = {"version": 1, "diagnoses": [{"code": "DEPRESSION", "description": "x"}]}
    response = api(therapist).patch(f"/api/v1/care-plans/{care_plan.public_id}/", body, format="json")
    assert response.status_code == 400
    assert "diagnoses" in response.json()


def test_care_plan_cannot_be_moved_to_another_patient(api, prescriber, care_plan):
    other = PatientFactory()
    CareTeamMemberFactory(patient=other, user=prescriber)
    url = f"/api/v1/care-plans/{care_plan.public_id}/"
    response = api(prescriber).patch(url, {"version": 1, "patient": str(other.public_id)}, format="json")
    assert response.status_code == 400
    care_plan.refresh_from_db()
    assert care_plan.patient_id != other.pk


def test_invalid_status_transition_is_refused(api, prescriber, care_plan):
    url = f"/api/v1/care-plans/{care_plan.public_id}/"
    assert api(prescriber).patch(url, {"version": 1, "status": "completed"}, format="json").status_code == 200
    response = api(prescriber).patch(url, {"version": 2, "status": "active"}, format="json")
    assert response.status_code == 400 and "status" in response.json()


def test_care_plans_filter_by_patient(api, prescriber, care_plan):
    other = CarePlanFactory()
    CareTeamMemberFactory(patient=other.patient, user=prescriber)
    response = api(prescriber).get(f"/api/v1/care-plans/?patient={care_plan.patient.public_id}")
    assert [row["id"] for row in response.json()["results"]] == [str(care_plan.public_id)]


def test_clinic_admin_cannot_read_care_plans(api, clinic_admin, care_plan):
    assert api(clinic_admin).get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 404
    assert api(clinic_admin).get("/api/v1/care-plans/").json()["count"] == 0


def test_care_plan_list_query_count_is_constant(api, prescriber, django_assert_max_num_queries):
    for _ in range(25):
        plan = CarePlanFactory()
        CareTeamMemberFactory(patient=plan.patient, user=prescriber)
    with django_assert_max_num_queries(4):
        response = api(prescriber).get("/api/v1/care-plans/")
    assert response.json()["count"] == 25


# --- goals ------------------------------------------------------------------------------------


def test_goal_defaults_to_proposed(api, therapist, care_plan):
    url = f"/api/v1/care-plans/{care_plan.public_id}/goals/"
    response = api(therapist).post(
        url,
        {"domain": "functioning", "description": "Back to work", "target": "3 days a week", "due_date": "2027-03-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "proposed"
    assert Goal.objects.get(public_id=response.json()["id"]).status_changed_by == therapist


def test_goal_with_unknown_domain_is_a_field_error(api, therapist, care_plan):
    url = f"/api/v1/care-plans/{care_plan.public_id}/goals/"
    response = api(therapist).post(url, {"domain": "wellness", "description": "x"}, format="json")
    assert response.status_code == 400 and "domain" in response.json()
    assert not Goal.objects.exists()


def test_outsider_gets_404_on_goals(api, outsider, care_plan):
    GoalFactory(care_plan=care_plan)
    url = f"/api/v1/care-plans/{care_plan.public_id}/goals/"
    assert api(outsider).get(url).status_code == 404
    assert api(outsider).post(url, {"domain": "symptom", "description": "x"}, format="json").status_code == 404
    assert Goal.objects.count() == 1


def test_goal_list_query_count_is_constant(api, therapist, care_plan, django_assert_max_num_queries):
    GoalFactory.create_batch(20, care_plan=care_plan, status_changed_by=therapist)
    with django_assert_max_num_queries(6):
        response = api(therapist).get(f"/api/v1/care-plans/{care_plan.public_id}/goals/")
    assert response.json()["count"] == 20


# --- users, tokens, audit ---------------------------------------------------------------------


def test_clinic_admin_creates_a_multi_role_user(api, clinic_admin):
    body = {
        "username": "dr.new",
        "password": "a long enough passphrase",
        "first_name": "New",
        "last_name": "Doctor",
        "email": "new@clinic.test",
        "roles": ["prescriber", "therapist"],
    }
    response = api(clinic_admin).post("/api/v1/users/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["prescriber", "therapist"]
    assert "password" not in response.json()


def test_superuser_counts_as_clinic_admin(api):
    root = UserFactory(is_superuser=True, is_staff=True)
    assert api(root).get("/api/v1/users/").status_code == 200


def test_weak_password_is_a_field_error(api, clinic_admin):
    body = {"username": "weak", "password": "short", "roles": ["therapist"]}
    response = api(clinic_admin).post("/api/v1/users/", body, format="json")
    assert response.status_code == 400 and "password" in response.json()


def test_clinician_cannot_manage_users(api, prescriber):
    assert api(prescriber).get("/api/v1/users/").status_code == 403
    body = {"username": "x", "password": "a long enough passphrase", "roles": ["clinic_admin"]}
    assert api(prescriber).post("/api/v1/users/", body, format="json").status_code == 403


def test_roles_cannot_be_forged_onto_self_by_a_clinician(api, prescriber):
    url = f"/api/v1/users/{prescriber.public_id}/"
    assert api(prescriber).patch(url, {"roles": ["clinic_admin"]}, format="json").status_code == 403
    prescriber.refresh_from_db()
    assert not prescriber.is_clinic_admin


def test_token_login_and_expiry_after_12_hours(api, prescriber, patient):
    from tests.factories import PASSWORD

    response = api().post("/api/v1/auth/token/", {"username": "prescriber", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/patients/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=12, seconds=1)):
        assert client.get("/api/v1/patients/").status_code == 401


def test_token_login_answers_the_same_for_unknown_user_and_wrong_password(api, prescriber):
    wrong_password = api().post(
        "/api/v1/auth/token/", {"username": "prescriber", "password": "nope-nope-nope"}, format="json"
    )
    unknown_user = api().post(
        "/api/v1/auth/token/", {"username": "nobody", "password": "nope-nope-nope"}, format="json"
    )
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert wrong_password.json() == unknown_user.json()


def test_audit_events_for_a_patient_are_for_clinic_admins_only(api, clinic_admin, prescriber, care_plan):
    api(prescriber).patch(f"/api/v1/care-plans/{care_plan.public_id}/", {"version": 1, "summary": "S"}, format="json")
    response = api(clinic_admin).get(f"/api/v1/audit-events/?patient={care_plan.patient.public_id}")
    assert response.status_code == 200
    update = response.json()["results"][0]
    assert update["action"] == "update" and update["actor"] == str(prescriber.public_id)
    # Free text is never in the trail: a keyed hash of each side, different values, different hashes.
    before, after = update["changes"]["summary"]
    assert before.startswith("hmac:") and after.startswith("hmac:") and before != after
    assert "Shared formulation." not in str(update)
    assert api(prescriber).get("/api/v1/audit-events/").status_code == 403


def test_care_team_list_query_count_is_constant(api, prescriber, patient, django_assert_max_num_queries):
    for _ in range(15):
        CareTeamMemberFactory(patient=patient, user=UserFactory(is_therapist=True), role="therapist")
    with django_assert_max_num_queries(4):
        response = api(prescriber).get(f"/api/v1/patients/{patient.public_id}/care-team/")
    assert len(response.json()) == 18


def test_user_list_query_count_is_constant(api, clinic_admin, django_assert_max_num_queries):
    UserFactory.create_batch(30, is_therapist=True)
    with django_assert_max_num_queries(3):
        response = api(clinic_admin).get("/api/v1/users/")
    assert response.json()["count"] == 31


def test_audit_event_list_query_count_is_constant(
    api, clinic_admin, prescriber, care_plan, django_assert_max_num_queries
):
    from clinic.audit import audit_record

    for _ in range(40):
        audit_record(actor=prescriber, action="read", obj=care_plan.patient, patient_id=care_plan.patient.public_id)
    with django_assert_max_num_queries(3):
        response = api(clinic_admin).get(f"/api/v1/audit-events/?patient={care_plan.patient.public_id}")
    assert response.json()["count"] == 40


def test_audit_event_filter_answers_404_for_a_malformed_patient_id(api, clinic_admin):
    response = api(clinic_admin).get("/api/v1/audit-events/?patient=1%20OR%201=1")
    assert response.status_code == 404  # the one ?patient= answer (issue 10)
