"""Care-team messages: the chart's Team tab and /api/v1/patients/{id}/messages/ (issue 3)."""

import pytest

from careplans.models import TeamRole
from clinic.models import AuditEvent
from reminders.models import Reminder, ReminderKind, TeamMessage
from reminders.team_messages import team_message_send
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory
from tests.reminders.reminder_factories import TeamMessageFactory


def inbox_of(user):  # type: ignore[no-untyped-def]
    return list(
        Reminder.objects.filter(recipient=user, kind=ReminderKind.TEAM_MESSAGE).values_list("subject_id", flat=True)
    )


def test_message_to_one_colleague_shows_on_the_thread_and_in_their_inbox_only(
    browser_client, patient, prescriber, therapist, care_manager
):
    client = browser_client(therapist)
    response = client.post(
        f"/patients/{patient.public_id}/team/",
        {"recipient": str(prescriber.public_id), "body": "Did sleep worsen after the increase?"},
    )
    message = TeamMessage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.public_id}/team/#message-{message.public_id}"
    assert inbox_of(prescriber) == [str(message.public_id)]
    assert inbox_of(care_manager) == [] and inbox_of(therapist) == []
    detail = Reminder.objects.get(recipient=prescriber).detail
    assert detail.startswith(f"Message from {therapist.get_full_name()}: Did sleep worsen")
    html = browser_client(care_manager).get(f"/patients/{patient.public_id}/team/").content.decode()
    assert "Did sleep worsen after the increase?" in html  # the whole team reads the thread
    assert f"to {prescriber.get_full_name()}" in html


def test_message_to_the_whole_team_reaches_everyone_but_the_author(
    browser_client, patient, prescriber, therapist, care_manager
):
    browser_client(prescriber).post(
        f"/patients/{patient.public_id}/team/", {"recipient": "", "body": "Case review Friday"}
    )
    message = TeamMessage.objects.get()
    assert message.recipient is None
    assert inbox_of(therapist) == inbox_of(care_manager) == [str(message.public_id)]
    assert inbox_of(prescriber) == []
    event = AuditEvent.objects.get(object_type="reminders.teammessage")
    assert event.actor == prescriber and event.patient_id == patient.public_id


def test_reply_stays_in_the_thread_and_goes_back_to_the_other_person(
    browser_client, patient, prescriber, therapist, care_manager
):
    first = team_message_send(patient=patient, actor=therapist, body="Sleep?", recipient=prescriber)
    response = browser_client(prescriber).post(
        f"/patients/{patient.public_id}/team/{first.public_id}/reply/", {"body": "Yes, worse since the increase."}
    )
    reply = TeamMessage.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302
    assert reply.thread == first
    assert inbox_of(therapist) == [str(reply.public_id)]
    assert inbox_of(care_manager) == []
    html = browser_client(therapist).get(f"/patients/{patient.public_id}/team/").content.decode()
    assert html.index("Sleep?") < html.index("Yes, worse since the increase.")
    assert 'class="reply" id="message-' in html


def test_a_reply_to_a_reply_joins_the_same_thread(patient, prescriber, therapist):
    first = team_message_send(patient=patient, actor=therapist, body="One", recipient=prescriber)
    second = team_message_send(patient=patient, actor=prescriber, body="Two", reply_to=first)
    third = team_message_send(patient=patient, actor=therapist, body="Three", reply_to=second)
    assert third.thread == first
    assert set(inbox_of(prescriber)) == {str(first.public_id), str(third.public_id)}
    assert inbox_of(therapist) == [str(second.public_id)]


def test_empty_message_is_refused_next_to_the_field(browser_client, patient, therapist):
    response = browser_client(therapist).post(f"/patients/{patient.public_id}/team/", {"recipient": "", "body": "   "})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_body_error" class="field-error" role="alert">This field is required.' in html
    assert not TeamMessage.objects.exists()


def test_recipient_off_the_team_is_refused_and_the_text_kept(browser_client, patient, therapist, outsider):
    response = browser_client(therapist).post(
        f"/patients/{patient.public_id}/team/", {"recipient": str(outsider.public_id), "body": "Keep this text"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_recipient_error"' in html and "Select a valid choice" in html
    assert "Keep this text</textarea>" in html
    assert not TeamMessage.objects.exists()


def test_empty_reply_is_refused_on_its_thread(browser_client, patient, prescriber, therapist):
    first = team_message_send(patient=patient, actor=therapist, body="Sleep?", recipient=prescriber)
    response = browser_client(prescriber).post(
        f"/patients/{patient.public_id}/team/{first.public_id}/reply/", {"body": ""}
    )
    assert response.status_code == 400
    assert f'id="reply-{first.public_id}-error" class="field-error"' in response.content.decode()


def test_outsider_and_clinic_admin_get_404_on_page_reply_and_api(
    browser_client, api, patient, therapist, outsider, clinic_admin
):
    first = team_message_send(patient=patient, actor=therapist, body="Sleep?")
    for user in (outsider, clinic_admin):
        client = browser_client(user)
        assert client.get(f"/patients/{patient.public_id}/team/").status_code == 404
        assert client.post(f"/patients/{patient.public_id}/team/", {"body": "x"}).status_code == 404
        assert (
            client.post(f"/patients/{patient.public_id}/team/{first.public_id}/reply/", {"body": "x"}).status_code
            == 404
        )
        assert api(user).get(f"/api/v1/patients/{patient.public_id}/messages/").status_code == 404
        assert (
            api(user).post(f"/api/v1/patients/{patient.public_id}/messages/", {"body": "x"}, format="json").status_code
            == 404
        )
    assert TeamMessage.objects.count() == 1


def test_reply_to_another_patients_message_is_404_on_the_page(browser_client, patient, prescriber):
    other = TeamMessageFactory(patient=PatientFactory())
    response = browser_client(prescriber).post(
        f"/patients/{patient.public_id}/team/{other.public_id}/reply/", {"body": "x"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role_user", ["prescriber", "therapist", "care_manager"])
def test_every_clinical_role_on_the_team_may_message(api, patient, role_user, request):
    user = request.getfixturevalue(role_user)
    response = api(user).post(f"/api/v1/patients/{patient.public_id}/messages/", {"body": "Hello team"}, format="json")
    assert response.status_code == 201
    assert response.data["author"] == str(user.public_id) and response.data["recipient"] is None


def test_api_message_to_a_colleague_and_reply(api, patient, prescriber, therapist):
    client = api(therapist)
    url = f"/api/v1/patients/{patient.public_id}/messages/"
    first = client.post(url, {"body": "Sleep?", "recipient": str(prescriber.public_id)}, format="json")
    assert first.status_code == 201 and first.data["recipient"] == str(prescriber.public_id)
    reply = api(prescriber).post(url, {"body": "Worse.", "reply_to": first.data["id"]}, format="json")
    assert reply.status_code == 201 and reply.data["thread"] == first.data["id"]
    listed = client.get(url).data["results"]
    assert [m["body"] for m in listed] == ["Sleep?", "Worse."]
    assert listed[1]["author_name"] == prescriber.get_full_name()
    assert "reply_to" not in listed[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 1001}, "body"),
        ({"body": "hi", "recipient": "not-a-uuid"}, "recipient"),
        ({"body": "hi", "reply_to": "00000000-0000-0000-0000-000000000000"}, "reply_to"),
    ],
)
def test_api_bad_input_is_400_on_the_field(api, patient, therapist, body, field):
    response = api(therapist).post(f"/api/v1/patients/{patient.public_id}/messages/", body, format="json")
    assert response.status_code == 400
    assert field in response.data


def test_api_ids_of_things_the_caller_cannot_see_are_refused(api, patient, therapist, outsider):  # AC-3
    foreign = TeamMessageFactory(patient=PatientFactory())
    url = f"/api/v1/patients/{patient.public_id}/messages/"
    response = api(therapist).post(url, {"body": "hi", "recipient": str(outsider.public_id)}, format="json")
    assert response.status_code == 400 and "recipient" in response.data
    response = api(therapist).post(url, {"body": "hi", "reply_to": str(foreign.public_id)}, format="json")
    assert response.status_code == 400 and "reply_to" in response.data
    assert not TeamMessage.objects.filter(patient=patient).exists()


def test_api_author_cannot_be_forged(api, patient, therapist, prescriber):
    response = api(therapist).post(
        f"/api/v1/patients/{patient.public_id}/messages/",
        {"body": "hi", "author": str(prescriber.public_id)},
        format="json",
    )
    assert response.status_code == 201 and response.data["author"] == str(therapist.public_id)


def test_team_tab_and_api_query_counts_stay_flat(
    browser_client, api, patient, prescriber, therapist, django_assert_max_num_queries
):
    colleagues = [UserFactory(is_therapist=True) for _ in range(3)]
    for user in colleagues:
        CareTeamMemberFactory(patient=patient, user=user, role=TeamRole.THERAPIST)
    for n in range(20):
        root = TeamMessageFactory(patient=patient, author=colleagues[n % 3], body=f"thread {n}")
        for k in range(2):
            TeamMessageFactory(patient=patient, author=prescriber, thread=root, body=f"reply {n}.{k}")
    client = browser_client(therapist)
    client.get(f"/patients/{patient.public_id}/team/")
    # session, user, patient (visibility), audit of the chart open (4), care team, colleagues,
    # threads + replies (2), badge, session save (3) = 16, plus what other apps add to the
    # shared chart header (e.g. the safety-alert banner). None of it grows with the thread.
    with django_assert_max_num_queries(19):
        html = client.get(f"/patients/{patient.public_id}/team/").content.decode()
    assert html.count('class="thread"') == 20 and html.count('class="reply"') == 40
    with django_assert_max_num_queries(4):  # patient, count, page with authors joined, the read audit row
        response = api(therapist).get(f"/api/v1/patients/{patient.public_id}/messages/")
    assert response.data["count"] == 60
