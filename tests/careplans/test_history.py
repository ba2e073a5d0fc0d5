"""Care-plan history (issue 16 item 4): every save kept, a readable diff, restore as a new version."""

import pytest
from django.urls import reverse

from careplans import services
from careplans.history import word_diff
from careplans.models import CarePlanVersion
from clinic.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(patient, prescriber):  # type: ignore[no-untyped-def]
    """A plan saved three times: v1 created, v2 summary written, v3 relapse plan filled in."""
    plan = services.care_plan_create(patient=patient, actor=prescriber)
    plan = services.care_plan_update(care_plan=plan, actor=prescriber, version=1, summary="Low mood since spring.")
    return services.relapse_plan_update(care_plan=plan, actor=prescriber, version=2, warning_signs="Sleeping badly")


def test_every_save_is_kept_with_who_and_when(plan, prescriber):
    kept = list(CarePlanVersion.objects.filter(care_plan=plan).order_by("version"))
    assert [v.version for v in kept] == [1, 2, 3]
    assert [v.summary for v in kept] == ["", "Low mood since spring.", "Low mood since spring."]
    assert kept[2].warning_signs == "Sleeping badly" and all(v.saved_by == prescriber for v in kept)


def test_word_diff_marks_only_the_words_that_changed():
    segments = [(s.op, s.text) for s in word_diff("Low mood since spring.", "Low mood since summer.")]
    assert segments == [("same", "Low mood since "), ("removed", "spring."), ("added", "summer.")]


def test_history_page_shows_who_when_and_a_readable_diff(browser_client, therapist, plan, prescriber):
    body = browser_client(therapist).get(reverse("careplans:care_plan_history", args=[plan.patient.public_id]))
    html = body.content.decode()
    assert "Version 3" in html and "Current" in html and str(prescriber) in html
    assert '<ins><span class="visually-hidden">added: </span>Sleeping badly</ins>' in html
    assert "Restore version 2&#x27;s text" in html or "Restore version 2's text" in html


def test_restoring_an_old_version_saves_a_new_version_and_is_audited(browser_client, therapist, plan):
    client = browser_client(therapist)
    response = client.post(
        reverse("careplans:care_plan_restore", args=[plan.patient.public_id, 1]), {"version": 3}, follow=True
    )
    assert "Version 1&#x27;s text restored as version 4" in response.content.decode()
    plan.refresh_from_db()
    plan.relapse_plan.refresh_from_db()
    assert plan.version == 4 and plan.summary == "" and plan.relapse_plan.warning_signs == ""
    newest = CarePlanVersion.objects.get(care_plan=plan, version=4)
    assert newest.restored_from == 1 and newest.saved_by == therapist
    # The history is never rewritten: version 2 still says what it said.
    assert CarePlanVersion.objects.get(care_plan=plan, version=2).summary == "Low mood since spring."
    event = AuditEvent.objects.filter(actor=therapist, object_type="careplans.careplan", action="update").get()
    assert event.changes["restored_from_version"] == [None, 1]
    assert sorted(event.changes["restored_fields"][1]) == ["summary", "warning_signs"]
    assert "Low mood" not in str(event.changes)  # field names, never the text


def test_a_stale_restore_changes_nothing_and_says_why(browser_client, therapist, plan):
    response = browser_client(therapist).post(
        reverse("careplans:care_plan_restore", args=[plan.patient.public_id, 1]), {"version": 2}, follow=True
    )
    assert "Not restored: the plan was changed" in response.content.decode()
    plan.refresh_from_db()
    assert plan.version == 3 and plan.summary == "Low mood since spring."


def test_restore_needs_an_editing_role_and_the_care_team(client, browser_client, outsider, clinic_admin, plan):
    url = reverse("careplans:care_plan_restore", args=[plan.patient.public_id, 1])
    assert browser_client(outsider).post(url, {"version": 3}).status_code == 404
    client.force_login(clinic_admin)
    assert client.post(url, {"version": 3}).status_code == 404
    assert client.get(reverse("careplans:care_plan_history", args=[plan.patient.public_id])).status_code == 404
    plan.refresh_from_db()
    assert plan.version == 3


# --- the API ---------------------------------------------------------------------------------


def test_api_lists_versions_newest_first(api, therapist, plan):
    body = api(therapist).get(f"/api/v1/care-plans/{plan.public_id}/versions/").json()
    assert [v["version"] for v in body["results"]] == [3, 2, 1]
    assert body["results"][0]["warning_signs"] == "Sleeping badly"


def test_api_restore_and_its_409(api, therapist, plan):
    url = f"/api/v1/care-plans/{plan.public_id}/restore/"
    stale = api(therapist).post(url, {"version": 1, "from_version": 2}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 3
    missing = api(therapist).post(url, {"version": 3, "from_version": 99}, format="json")
    assert missing.status_code == 400 and "from_version" in missing.json()
    done = api(therapist).post(url, {"version": 3, "from_version": 1}, format="json")
    assert done.status_code == 200 and done.json()["version"] == 4 and done.json()["summary"] == ""


def test_api_versions_are_404_for_an_outsider(api, outsider, plan):
    assert api(outsider).get(f"/api/v1/care-plans/{plan.public_id}/versions/").status_code == 404
