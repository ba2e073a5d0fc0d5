"""Goals and the relapse-prevention plan in the API (issue 16 item 5; DESIGN.md API contract)."""

import pytest

from careplans import services
from careplans.models import GoalDomain, GoalStatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(patient, prescriber):  # type: ignore[no-untyped-def]
    return services.care_plan_create(patient=patient, actor=prescriber)


@pytest.fixture
def goal(plan, prescriber):  # type: ignore[no-untyped-def]
    return services.goal_create(care_plan=plan, actor=prescriber, domain=GoalDomain.SYMPTOM, description="PHQ-9 < 5")


def goal_url(plan, goal) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/care-plans/{plan.public_id}/goals/{goal.public_id}/"


def test_goal_status_moves_and_the_history_lists_who_and_when(api, therapist, prescriber, plan, goal):
    response = api(therapist).patch(goal_url(plan, goal), {"status": "active", "version": 1}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active" and body["version"] == 2
    assert [(h["from_status"], h["to_status"]) for h in body["status_history"]] == [
        ("", "proposed"),
        ("proposed", "active"),
    ]
    assert body["status_history"][0]["changed_by"] == str(prescriber.public_id)
    assert body["status_history"][1]["changed_by"] == str(therapist.public_id)
    listed = api(therapist).get(f"/api/v1/care-plans/{plan.public_id}/goals/").json()["results"][0]
    assert len(listed["status_history"]) == 2


def test_a_forbidden_transition_is_a_field_error_and_nothing_is_kept(api, therapist, plan, goal):
    response = api(therapist).patch(goal_url(plan, goal), {"status": "achieved", "version": 1}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    assert GoalStatusChange.objects.filter(goal=goal).count() == 1  # only the creation


def test_goal_patch_needs_the_current_version(api, therapist, plan, goal):
    assert api(therapist).patch(goal_url(plan, goal), {"status": "active"}, format="json").status_code == 400
    api(therapist).patch(goal_url(plan, goal), {"description": "PHQ-9 under 5", "version": 1}, format="json")
    stale = api(therapist).patch(goal_url(plan, goal), {"status": "active", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["description"] == "PHQ-9 under 5"


def test_goal_patch_is_404_off_the_team_and_for_an_admin(api, outsider, clinic_admin, plan, goal):
    for user in (outsider, clinic_admin):
        response = api(user).patch(goal_url(plan, goal), {"status": "active", "version": 1}, format="json")
        assert response.status_code == 404
    goal.refresh_from_db()
    assert goal.status == "proposed"


def test_goal_list_query_count_is_flat(api, therapist, plan, prescriber, django_assert_max_num_queries):
    for n in range(20):
        services.goal_create(care_plan=plan, actor=prescriber, domain=GoalDomain.SYMPTOM, description=f"g{n}")
    with django_assert_max_num_queries(6):
        body = api(therapist).get(f"/api/v1/care-plans/{plan.public_id}/goals/").json()
    assert body["count"] == 20


# --- relapse-prevention plan -----------------------------------------------------------------


def test_relapse_plan_get_and_patch_with_version(api, therapist, plan):
    url = f"/api/v1/care-plans/{plan.public_id}/relapse-plan/"
    read = api(therapist).get(url).json()
    assert read["version"] == 1 and read["warning_signs"] == "" and read["care_plan"] == str(plan.public_id)
    saved = api(therapist).patch(url, {"version": 1, "warning_signs": "Withdrawing from friends"}, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == 2 and saved.json()["warning_signs"] == "Withdrawing from friends"
    assert saved.json()["updated_by"] == str(therapist.public_id)
    plan.refresh_from_db()
    assert plan.version == 2 and plan.relapse_plan.warning_signs == "Withdrawing from friends"


def test_relapse_plan_stale_version_is_409_with_the_current_text(api, therapist, plan):
    url = f"/api/v1/care-plans/{plan.public_id}/relapse-plan/"
    api(therapist).patch(url, {"version": 1, "triggers": "Night shifts"}, format="json")
    stale = api(therapist).patch(url, {"version": 1, "triggers": "Other"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["triggers"] == "Night shifts" and stale.json()["current"]["version"] == 2
    missing = api(therapist).patch(url, {"triggers": "x"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()


def test_relapse_plan_is_404_off_the_team(api, outsider, clinic_admin, plan):
    url = f"/api/v1/care-plans/{plan.public_id}/relapse-plan/"
    for user in (outsider, clinic_admin):
        assert api(user).get(url).status_code == 404
        assert api(user).patch(url, {"version": 1, "triggers": "x"}, format="json").status_code == 404


def test_goal_edit_page_lists_the_status_history(browser_client, therapist, plan, goal):
    services.goal_update(goal=goal, actor=therapist, version=1, status="active")
    url = f"/patients/{plan.patient.public_id}/goals/{goal.public_id}/edit/"
    body = browser_client(therapist).get(url).content.decode()
    assert "Status history" in body and "created as Proposed" in body and "Proposed → Active" in body
    assert str(therapist) in body
