"""Outcomes actions generated from the one role x action matrix (clinic/access.py, SECURITY.md AC-5).

Each role (and a multi-role user) on the patient's care team tries each outcomes action
through the API: allowed by the matrix -> success; otherwise 403. Clinic admins are never
on care teams: 404 for all of it, as for an outsider of any role.
"""

from datetime import date

import pytest

from careplans.models import CaseReview, TeamRole
from clinic.access import MATRIX, Action
from clinic.models import Role
from tests.factories import CarePlanFactory, CareTeamMemberFactory, UserFactory
from tests.outcomes.helpers import record

pytestmark = pytest.mark.django_db

OUTCOME_ACTIONS = [
    Action.VIEW_CLINICAL,
    Action.ENTER_ASSESSMENT,
    Action.RECORD_SAFETY_FOLLOW_UP,
    Action.FLAG_CASE_REVIEW,
    Action.RECORD_CASE_REVIEW,
]
SUCCESS = {
    Action.VIEW_CLINICAL: 200,
    Action.ENTER_ASSESSMENT: 201,
    Action.RECORD_SAFETY_FOLLOW_UP: 201,
    Action.FLAG_CASE_REVIEW: 201,
    Action.RECORD_CASE_REVIEW: 200,
}
FLAGS = {
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
USERS = [
    (Role.PRESCRIBER,),
    (Role.THERAPIST,),
    (Role.CARE_MANAGER,),
    (Role.CLINIC_ADMIN,),
    (Role.THERAPIST, Role.CARE_MANAGER),
]


def _call(action, client, patient, author):  # type: ignore[no-untyped-def]
    pid = str(patient.public_id)
    if action == Action.VIEW_CLINICAL:
        return client.get(f"/api/v1/patients/{pid}/outcomes/")
    if action == Action.ENTER_ASSESSMENT:
        return client.post(
            "/api/v1/assessments/", {"patient": pid, "instrument": "GAD-7", "responses": [1] * 7}, format="json"
        )
    if action == Action.RECORD_SAFETY_FOLLOW_UP:
        record(patient, author, "PHQ-9", 5, date.today(), item9=1)
        return client.post(
            "/api/v1/safety-follow-ups/",
            {
                "patient": pid,
                "format": "phone",
                "outcome": "no_ideation",
                "plan": "routine",
                "plan_details": "Checked in.",
            },
            format="json",
        )
    if action == Action.FLAG_CASE_REVIEW:
        return client.post("/api/v1/case-reviews/", {"patient": pid, "reason": "Flat"}, format="json")
    review = CaseReview.objects.create(patient=patient, reason="Flat", requested_by=author)
    return client.post(f"/api/v1/case-reviews/{review.public_id}/record/", {"summary": "Reviewed."}, format="json")


@pytest.mark.parametrize("roles", USERS, ids=lambda roles: "+".join(roles))
@pytest.mark.parametrize("action", OUTCOME_ACTIONS)
def test_outcomes_actions_follow_the_matrix(api, action, roles):
    flags = {k: v for role in roles for k, v in FLAGS[role].items()}
    user = UserFactory(**flags)
    author = UserFactory(is_care_manager=True)
    plan = CarePlanFactory()
    CareTeamMemberFactory(patient=plan.patient, user=author, role=TeamRole.CARE_MANAGER)
    on_team = [role for role in roles if role in TEAM_ROLE]
    for role in on_team:
        CareTeamMemberFactory(patient=plan.patient, user=user, role=TEAM_ROLE[role])
    allowed = any(action in MATRIX[role] for role in roles)
    expected = SUCCESS[action] if allowed else (403 if on_team else 404)
    response = _call(action, api(user), plan.patient, author)
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("action", OUTCOME_ACTIONS)
def test_an_outsider_with_every_clinical_role_gets_404(api, action, outsider):
    author = UserFactory(is_care_manager=True)
    plan = CarePlanFactory()
    CareTeamMemberFactory(patient=plan.patient, user=author, role=TeamRole.CARE_MANAGER)
    assert _call(action, api(outsider), plan.patient, author).status_code == 404
