"""Tests generated from the one role x action matrix in clinic/access.py (SECURITY.md AC-5).

For every role (and a multi-role user), every foundation action is tried through the
API by a member of the patient's care team (clinic admins are never on care teams).
Allowed by the matrix -> success; otherwise 403 for a team member, 404 where the
action needs clinical access the role never has. An outsider of any role gets 404.
"""

import itertools

import pytest

from careplans.models import TeamRole
from clinic.access import MATRIX, NEEDS_CARE_TEAM, Action
from clinic.models import Role
from tests.factories import CarePlanFactory, CareTeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLE_FLAGS = {
    Role.PRESCRIBER: {"is_prescriber": True},
    Role.THERAPIST: {"is_therapist": True},
    Role.CARE_MANAGER: {"is_care_manager": True},
    Role.CLINIC_ADMIN: {"is_clinic_admin": True},
}
TEAM_ROLE = {
    Role.PRESCRIBER: TeamRole.PRESCRIBER,
    Role.THERAPIST: TeamRole.THERAPIST,
    Role.CARE_MANAGER: TeamRole.CARE_MANAGER,
}
COUNTER = itertools.count()


def _request(action, client, plan):  # type: ignore[no-untyped-def]
    """One representative API call per foundation action."""
    patient = plan.patient
    n = next(COUNTER)
    if action == Action.VIEW_CLINICAL:
        return client.get(f"/api/v1/care-plans/{plan.public_id}/")
    if action == Action.EDIT_CARE_PLAN:
        return client.patch(
            f"/api/v1/care-plans/{plan.public_id}/", {"version": plan.version, "summary": "s"}, format="json"
        )
    if action == Action.CREATE_PATIENT:
        return client.post(
            "/api/v1/patients/",
            {"mrn": f"M{n}", "given_name": "A", "family_name": "B", "birth_date": "1990-01-01"},
            format="json",
        )
    if action == Action.VIEW_DEMOGRAPHICS:
        return client.get(f"/api/v1/patients/{patient.public_id}/")
    if action == Action.EDIT_DEMOGRAPHICS:
        return client.patch(f"/api/v1/patients/{patient.public_id}/", {"phone": "555"}, format="json")
    if action == Action.MANAGE_CARE_TEAM:
        colleague = UserFactory(is_therapist=True)
        return client.post(
            f"/api/v1/patients/{patient.public_id}/care-team/",
            {"user": str(colleague.public_id), "role": "therapist"},
            format="json",
        )
    if action == Action.MANAGE_STAFF:
        return client.get("/api/v1/users/")
    assert action == Action.VIEW_AUDIT
    return client.get("/api/v1/audit-events/")


# Actions of the later apps (prescribing, sessions, assessments, ...) have their own matrix tests.
FOUNDATION_ACTIONS = [
    Action.VIEW_CLINICAL,
    Action.EDIT_CARE_PLAN,
    Action.CREATE_PATIENT,
    Action.VIEW_DEMOGRAPHICS,
    Action.EDIT_DEMOGRAPHICS,
    Action.MANAGE_CARE_TEAM,
    Action.MANAGE_STAFF,
    Action.VIEW_AUDIT,
]


def _user_with(roles, plan):  # type: ignore[no-untyped-def]
    flags = {}
    for role in roles:
        flags |= ROLE_FLAGS[role]
    user = UserFactory(**flags)
    for role in roles:
        if role in TEAM_ROLE:
            CareTeamMemberFactory(patient=plan.patient, user=user, role=TEAM_ROLE[role])
    return user


ROLE_SETS = [
    (Role.PRESCRIBER,),
    (Role.THERAPIST,),
    (Role.CARE_MANAGER,),
    (Role.CLINIC_ADMIN,),
    (Role.PRESCRIBER, Role.THERAPIST),
    (Role.CARE_MANAGER, Role.CLINIC_ADMIN),
]


@pytest.mark.parametrize("roles", ROLE_SETS, ids=lambda roles: "+".join(roles))
@pytest.mark.parametrize("action", FOUNDATION_ACTIONS, ids=str)
def test_matrix_decides_every_foundation_action(api, roles, action):
    plan = CarePlanFactory()
    user = _user_with(roles, plan)
    response = _request(action, api(user), plan)
    allowed = any(action in MATRIX[role] for role in roles)
    on_team = any(role in TEAM_ROLE for role in roles)
    if allowed:
        assert 200 <= response.status_code < 300, (roles, action, response.status_code, response.content)
    elif action in NEEDS_CARE_TEAM and not on_team:
        assert response.status_code == 404, (roles, action, response.status_code)
    else:
        assert response.status_code in (403, 404), (roles, action, response.status_code)


@pytest.mark.parametrize(
    "action",
    [
        Action.VIEW_CLINICAL,
        Action.EDIT_CARE_PLAN,
        Action.VIEW_DEMOGRAPHICS,
        Action.EDIT_DEMOGRAPHICS,
        Action.MANAGE_CARE_TEAM,
    ],
    ids=str,
)
def test_outsider_with_every_clinical_role_gets_404(api, outsider, action):
    plan = CarePlanFactory()
    response = _request(action, api(outsider), plan)
    assert response.status_code == 404


def test_clinic_admin_never_has_clinical_actions():
    assert not MATRIX[Role.CLINIC_ADMIN] & NEEDS_CARE_TEAM


def test_only_prescribers_prescribe_and_only_therapists_log_sessions():
    assert [r for r in Role if Action.PRESCRIBE in MATRIX[r]] == [Role.PRESCRIBER]
    assert [r for r in Role if Action.LOG_THERAPY_SESSION in MATRIX[r]] == [Role.THERAPIST]
