"""Separation of duties (issue 12 item 1): nobody grants themselves access, and every grant by a
clinic admin is told to the other admins and the patient's care team (inbox kind access_change).

Attack 1 of issue 12, re-run: a clinic admin gives itself the prescriber and therapist roles,
adds itself to a care team, and reads the care plan. Each step is refused, audited and told.
"""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from careplans.models import CareTeamMember, TeamRole
from clinic.access import SELF_CARE_TEAM_MESSAGE, SELF_ROLE_CHANGE_MESSAGE
from clinic.models import AuditEvent, User
from reminders.models import Reminder, ReminderKind
from tests.factories import UserFactory


@pytest.fixture
def second_admin(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="secondadmin", is_clinic_admin=True)


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def _denials(user: User, object_type: str) -> int:
    return AuditEvent.objects.filter(actor=user, action="access_denied", object_type=object_type).count()


def test_attack_1_admin_cannot_grant_itself_roles_join_a_team_or_read_the_plan(
    api, clinic_admin, second_admin, patient, care_plan
):
    client = api(clinic_admin)
    # 1. Roles for itself: 403 with a clear message, audited, nothing changed.
    response = client.patch(
        f"/api/v1/users/{clinic_admin.public_id}/",
        {"roles": ["clinic_admin", "prescriber", "therapist"]},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == SELF_ROLE_CHANGE_MESSAGE
    clinic_admin.refresh_from_db()
    assert clinic_admin.roles == ["clinic_admin"]
    assert _denials(clinic_admin, "clinic.user") == 1
    # 2. Itself on a care team: 403, audited; the team is unchanged.
    response = client.post(
        f"/api/v1/patients/{patient.public_id}/care-team/",
        {"user": str(clinic_admin.public_id), "role": TeamRole.PRESCRIBER},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == SELF_CARE_TEAM_MESSAGE
    assert not CareTeamMember.objects.filter(patient=patient, user=clinic_admin).exists()
    assert _denials(clinic_admin, "careplans.careteammember") == 1
    # 3. The plan stays out of reach.
    assert client.get(f"/api/v1/care-plans/{care_plan.public_id}/").status_code == 404
    # Nobody was notified of a change that did not happen.
    assert not Reminder.objects.filter(kind=ReminderKind.ACCESS_CHANGE).exists()


def test_unchanged_roles_on_own_account_are_accepted(api, clinic_admin):
    response = api(clinic_admin).patch(
        f"/api/v1/users/{clinic_admin.public_id}/", {"roles": ["clinic_admin"], "first_name": "Ada"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "Ada"


def test_superuser_is_bound_too(api, superuser):
    response = api(superuser).patch(
        f"/api/v1/users/{superuser.public_id}/", {"roles": ["clinic_admin", "prescriber"]}, format="json"
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert not superuser.is_prescriber


def test_role_grant_by_another_admin_notifies_the_other_admins_not_the_actor(
    api, clinic_admin, second_admin, superuser, prescriber
):
    response = api(clinic_admin).patch(
        f"/api/v1/users/{prescriber.public_id}/", {"roles": ["prescriber", "therapist"]}, format="json"
    )
    assert response.status_code == 200
    notices = Reminder.objects.filter(kind=ReminderKind.ACCESS_CHANGE)
    assert set(notices.values_list("recipient__username", flat=True)) == {"secondadmin", "root"}
    notice = notices.first()
    assert notice is not None and notice.patient is None and not notice.urgent
    assert notice.detail == f"Roles of {prescriber} changed by {clinic_admin}: granted therapist."
    # It points at the audit row of the change, which the audit log shows.
    event = AuditEvent.objects.get(pk=int(notice.subject_id))
    assert event.object_id == str(prescriber.public_id) and "is_therapist" in event.changes


def test_new_account_with_roles_notifies_the_other_admins(api, clinic_admin, second_admin):
    response = api(clinic_admin).post(
        "/api/v1/users/",
        {"username": "newdoc", "password": "a long enough passphrase 42", "roles": ["prescriber"]},
        format="json",
    )
    assert response.status_code == 201
    notice = Reminder.objects.get(kind=ReminderKind.ACCESS_CHANGE)
    assert notice.recipient == second_admin
    assert "granted prescriber" in notice.detail


def test_care_team_change_by_admin_notifies_other_admins_and_the_team(
    api, clinic_admin, second_admin, patient, prescriber, therapist, care_manager
):
    newcomer = UserFactory(username="newcomer", is_therapist=True)
    response = api(clinic_admin).post(
        f"/api/v1/patients/{patient.public_id}/care-team/",
        {"user": str(newcomer.public_id), "role": TeamRole.THERAPIST},
        format="json",
    )
    assert response.status_code == 201
    notices = Reminder.objects.filter(kind=ReminderKind.ACCESS_CHANGE)
    by_user = {r.recipient.username: r for r in notices}
    # The team (with the newcomer, now on it) on the patient; the other admin without a patient.
    assert set(by_user) == {"prescriber", "therapist", "caremanager", "newcomer", "secondadmin"}
    assert by_user["prescriber"].patient == patient
    assert by_user["secondadmin"].patient is None
    assert f"{newcomer} added as therapist by {clinic_admin}" in by_user["secondadmin"].detail
    # Ending it is told the same way.
    member = CareTeamMember.objects.get(patient=patient, user=newcomer)
    assert (
        api(clinic_admin).delete(f"/api/v1/patients/{patient.public_id}/care-team/{member.public_id}/").status_code
        == 204
    )
    assert notices.filter(detail__contains="ended as therapist").count() == 4  # newcomer left the team


def test_team_members_changing_their_own_team_are_not_announced(api, patient, prescriber):
    colleague = UserFactory(username="colleague", is_care_manager=True)
    response = api(prescriber).post(
        f"/api/v1/patients/{patient.public_id}/care-team/",
        {"user": str(colleague.public_id), "role": TeamRole.CARE_MANAGER},
        format="json",
    )
    assert response.status_code == 201
    assert not Reminder.objects.filter(kind=ReminderKind.ACCESS_CHANGE).exists()


def test_clinician_cannot_add_itself_to_a_team_it_sees(api, patient, prescriber):
    response = api(prescriber).post(
        f"/api/v1/patients/{patient.public_id}/care-team/",
        {"user": str(prescriber.public_id), "role": TeamRole.CARE_MANAGER},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == SELF_CARE_TEAM_MESSAGE


def test_access_notice_reaches_the_other_admins_inbox_page(client, api, clinic_admin, second_admin, prescriber):
    api(clinic_admin).patch(
        f"/api/v1/users/{prescriber.public_id}/", {"roles": ["prescriber", "therapist"]}, format="json"
    )
    client.force_login(second_admin)
    body = client.get("/inbox/").content.decode()
    assert "Access change" in body and f"Roles of {prescriber} changed by {clinic_admin}" in body


# --- The pages --------------------------------------------------------------------------


def test_staff_page_locks_own_roles_and_refuses_a_forged_post(client, clinic_admin):
    client.force_login(clinic_admin)
    page = client.get(f"/staff/{clinic_admin.public_id}/").content.decode()
    assert "You cannot change your own roles" in page
    assert 'name="roles" value="prescriber"' in page and "disabled" in page
    # A forged post with the field enabled again: the disabled field keeps the old roles.
    client.post(
        f"/staff/{clinic_admin.public_id}/",
        {"first_name": "A", "last_name": "B", "email": "a@clinic.test", "roles": ["prescriber"], "is_active": "on"},
    )
    clinic_admin.refresh_from_db()
    assert clinic_admin.roles == ["clinic_admin"]


def test_care_team_page_does_not_offer_oneself(client, patient, prescriber):
    client.force_login(prescriber)
    page = client.get(f"/patients/{patient.public_id}/care-team/").content.decode()
    assert f'value="{prescriber.pk}"' not in page and f'value="{prescriber.public_id}"' not in page


# --- The Django admin ---------------------------------------------------------------------


def test_django_admin_makes_own_access_fields_read_only(superuser, prescriber):
    user_admin = site._registry[User]
    request = RequestFactory().get("/")
    request.user = superuser
    own = user_admin.get_readonly_fields(request, superuser)
    assert {"is_prescriber", "is_superuser", "is_staff", "groups", "user_permissions"} <= set(own)
    assert "is_prescriber" not in user_admin.get_readonly_fields(request, prescriber)


def test_django_admin_role_change_of_another_user_is_audited_and_told(client, superuser, clinic_admin, prescriber):
    client.force_login(superuser)
    url = f"/django-admin/clinic/user/{prescriber.pk}/change/"
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "username": prescriber.username,
        "first_name": prescriber.first_name,
        "last_name": prescriber.last_name,
        "email": prescriber.email,
        "is_active": "on",
        "is_prescriber": "on",
        "is_therapist": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    prescriber.refresh_from_db()
    assert prescriber.is_therapist
    event = AuditEvent.objects.filter(object_id=str(prescriber.public_id), action="update").latest("id")
    assert event.actor == superuser and event.changes["is_therapist"] == [False, True]
    notice = Reminder.objects.get(kind=ReminderKind.ACCESS_CHANGE, recipient=clinic_admin)
    assert "granted therapist" in notice.detail
