"""Ending a care-team membership can be undone for a short while, by whoever ended it (issue 16 item 9)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from careplans.models import TeamRole
from clinic.models import AuditEvent
from clinic.undo import UNDO_WINDOW
from tests.factories import CareTeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(patient):  # type: ignore[no-untyped-def]
    extra = UserFactory(is_therapist=True, first_name="Noor", last_name="Haddad")
    return CareTeamMemberFactory(patient=patient, user=extra, role=TeamRole.THERAPIST)


def _end(client, member):  # type: ignore[no-untyped-def]
    return client.post(
        reverse(
            "careplans:care_team_end", kwargs={"patient_id": member.patient.public_id, "member_id": member.public_id}
        )
    )


def _undo(client, member):  # type: ignore[no-untyped-def]
    url = reverse(
        "careplans:care_team_end_undo", kwargs={"patient_id": member.patient.public_id, "member_id": member.public_id}
    )
    return client.post(url, follow=True)


def test_end_answers_with_an_undo_offer_and_undo_restores_the_same_membership(browser_client, clinic_admin, member):
    client = browser_client(clinic_admin)
    response = _end(client, member)
    assert response.status_code == 302 and f"?ended={member.public_id}" in response["Location"]
    member.refresh_from_db()
    assert member.ended_at is not None  # access ends at once (AC-6)
    page = client.get(response["Location"]).content.decode()
    assert "is no longer on the care team" in page and "care-team/" in page and "undo-end/" in page

    page = _undo(client, member).content.decode()
    assert "is on the care team again" in page
    member.refresh_from_db()
    assert member.ended_at is None and member.ended_by is None
    actions = list(
        AuditEvent.objects.filter(object_id=str(member.public_id)).order_by("id").values_list("changes", flat=True)
    )
    assert actions[-1]["ended_at"][1] is None  # both steps audited, ids and times only


def test_undo_is_refused_after_the_window(browser_client, clinic_admin, member):
    client = browser_client(clinic_admin)
    _end(client, member)
    with time_machine.travel(timezone.now() + UNDO_WINDOW + timedelta(seconds=1)):
        page = client.get(
            reverse("careplans:care_team", kwargs={"patient_id": member.patient.public_id})
            + f"?ended={member.public_id}"
        ).content.decode()
        assert "undo-end/" not in page  # no offer any more
        page = _undo(client, member).content.decode()
    assert "can no longer be undone" in page
    member.refresh_from_db()
    assert member.ended_at is not None


def test_only_the_one_who_ended_it_may_undo(browser_client, clinic_admin, prescriber, member):
    _end(browser_client(clinic_admin), member)
    other = browser_client(prescriber)  # on the team, may manage it, but did not end this one
    page = other.get(
        reverse("careplans:care_team", kwargs={"patient_id": member.patient.public_id}) + f"?ended={member.public_id}"
    ).content.decode()
    assert "undo-end/" not in page
    assert "can no longer be undone" in _undo(other, member).content.decode()
    member.refresh_from_db()
    assert member.ended_at is not None


def test_undo_of_an_active_membership_id_of_another_patient_is_404(browser_client, clinic_admin, member, outsider):
    from tests.factories import PatientFactory

    stranger = PatientFactory()
    url = reverse(
        "careplans:care_team_end_undo", kwargs={"patient_id": stranger.public_id, "member_id": member.public_id}
    )
    assert browser_client(clinic_admin).post(url).status_code == 404


def test_end_form_asks_for_confirmation(browser_client, clinic_admin, member):
    page = browser_client(clinic_admin).get(
        reverse("careplans:care_team", kwargs={"patient_id": member.patient.public_id})
    )
    assert "data-confirm=\"End Noor Haddad's membership (therapist)? They lose access" in page.content.decode()
