"""The inbox page, its row actions and the header badge (issue 3)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from careplans.models import TeamRole
from clinic.models import AuditEvent
from reminders.inbox import REMINDER_TRANSITIONS, inbox_open_count
from reminders.models import Reminder, ReminderKind, ReminderStatus
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory
from tests.reminders.reminder_factories import ReminderFactory

TODAY = timezone.localdate()


@pytest.fixture
def review(patient, prescriber, care_plan):  # type: ignore[no-untyped-def]
    return ReminderFactory(
        recipient=prescriber,
        patient=patient,
        subject_id=str(care_plan.public_id),
        detail="Care plan review due 2026-12-01",
        status=ReminderStatus.SENT,
    )


def test_inbox_shows_kind_patient_due_date_why_and_a_link_to_the_chart(browser_client, review, patient):
    html = browser_client(review.recipient).get("/inbox/").content.decode()
    assert "Care plan review" in html
    assert patient.display_name in html
    assert review.due_date.isoformat() in html
    assert "Care plan review due 2026-12-01" in html
    assert f'href="/patients/{patient.public_id}/"' in html  # the care-plan tab


def test_each_kind_links_to_its_own_chart_tab(browser_client, patient, prescriber):
    message = ReminderFactory(recipient=prescriber, patient=patient, kind=ReminderKind.TEAM_MESSAGE, subject_id="abc")
    follow_up = ReminderFactory(recipient=prescriber, patient=patient, kind=ReminderKind.SESSION_FOLLOW_UP)
    html = browser_client(prescriber).get("/inbox/").content.decode()
    assert f'href="/patients/{patient.public_id}/team/#message-abc"' in html
    from reminders.inbox import reminder_link

    assert reminder_link(follow_up).startswith(f"/patients/{patient.public_id}/")
    assert message.kind == "team_message"


def test_a_user_sees_only_their_own_reminders(browser_client, review, therapist, patient):
    mine = ReminderFactory(recipient=therapist, patient=patient, detail="for the therapist")
    html = browser_client(therapist).get("/inbox/").content.decode()
    assert "for the therapist" in html
    assert "Care plan review due 2026-12-01" not in html
    assert str(review.public_id) not in html and str(mine.public_id) in html


def test_reminders_about_a_patient_whose_team_you_left_disappear(browser_client, review, patient, prescriber):
    member = patient.care_team.get(user=prescriber)
    member.ended_at = timezone.now()
    member.save()
    html = browser_client(prescriber).get("/inbox/").content.decode()
    assert patient.display_name not in html
    assert inbox_open_count(prescriber) == 0


def test_urgent_first_then_newest_due_date(browser_client, patient, prescriber):
    old = ReminderFactory(recipient=prescriber, patient=patient, due_date=TODAY - timedelta(days=5), detail="old one")
    new = ReminderFactory(recipient=prescriber, patient=patient, due_date=TODAY, detail="new one")
    alert = ReminderFactory(
        recipient=prescriber,
        patient=patient,
        kind=ReminderKind.SAFETY_ALERT,
        due_date=TODAY - timedelta(days=9),
        detail="urgent one",
    )
    html = browser_client(prescriber).get("/inbox/").content.decode()
    positions = [html.index(str(r.public_id)) for r in (alert, new, old)]
    assert positions == sorted(positions)


def test_acknowledge_without_javascript_redirects_audits_and_lowers_the_badge(browser_client, review, prescriber):
    client = browser_client(prescriber)
    assert 'id="inbox-badge" class="badge badge-count">1<' in client.get("/inbox/").content.decode()

    response = client.post(f"/inbox/{review.public_id}/acknowledge/")

    assert response.status_code == 302 and response["Location"] == "/inbox/"
    review.refresh_from_db()
    assert review.status == ReminderStatus.ACKNOWLEDGED and review.acknowledged_at is not None
    event = AuditEvent.objects.filter(object_type="reminders.reminder").get()
    assert event.actor == prescriber and event.changes == {"status": ["sent", "acknowledged"]}
    assert event.patient_id == review.patient.public_id
    html = client.get("/inbox/").content.decode()
    assert 'id="inbox-badge" class="badge badge-count" hidden>0<' in html
    assert "Acknowledged" in html  # still listed until done


def test_acknowledge_with_htmx_returns_the_row_and_the_badge_out_of_band(browser_client, review, prescriber):
    response = browser_client(prescriber).post(f"/inbox/{review.public_id}/acknowledge/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<li id="reminder-{review.public_id}"')
    assert 'id="inbox-badge" class="badge badge-count" hx-swap-oob="true" hidden>0<' in html


def test_snooze_to_a_past_date_is_refused_next_to_the_field_keeping_the_input(browser_client, review, prescriber):
    response = browser_client(prescriber).post(f"/inbox/{review.public_id}/snooze/", {"until": "2001-02-03"})
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="until-{review.public_id}-error" class="field-error" role="alert">Choose a date after today.' in html
    assert 'value="2001-02-03"' in html and 'aria-invalid="true"' in html
    review.refresh_from_db()
    assert review.status == ReminderStatus.SENT


@pytest.mark.parametrize(
    ("until", "error"),
    [
        ("", "Choose the date the reminder should come back."),
        ("not-a-date", "Enter a date as YYYY-MM-DD."),
        ((TODAY + timedelta(days=400)).isoformat(), "Snooze for at most 365 days."),
    ],
)
def test_snooze_bad_dates_with_htmx_show_the_error_in_the_row(browser_client, review, prescriber, until, error):
    response = browser_client(prescriber).post(
        f"/inbox/{review.public_id}/snooze/", {"until": until}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200  # htmx swaps the row with its error
    assert error in response.content.decode()


def test_snoozed_reminder_leaves_the_list_and_comes_back_on_its_date(browser_client, review, prescriber):
    client = browser_client(prescriber)
    until = TODAY + timedelta(days=7)
    assert client.post(f"/inbox/{review.public_id}/snooze/", {"until": until.isoformat()}).status_code == 302
    assert str(review.public_id) not in client.get("/inbox/").content.decode()
    assert str(review.public_id) in client.get("/inbox/?view=snoozed").content.decode()
    assert inbox_open_count(prescriber) == 0
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        assert inbox_open_count(prescriber) == 1
        client.force_login(prescriber)  # a week later: a new session
        assert str(review.public_id) in client.get("/inbox/").content.decode()


def test_mark_done_is_final(browser_client, review, prescriber):
    client = browser_client(prescriber)
    assert client.post(f"/inbox/{review.public_id}/done/").status_code == 302
    review.refresh_from_db()
    assert review.status == ReminderStatus.DONE and review.done_at is not None
    assert str(review.public_id) in client.get("/inbox/?view=done").content.decode()
    response = client.post(f"/inbox/{review.public_id}/acknowledge/")
    assert response.status_code == 400
    assert "A done reminder cannot become acknowledged." in response.content.decode()


def test_transition_table_lets_every_open_status_be_dealt_with_and_done_is_final():
    for status in (ReminderStatus.PENDING, ReminderStatus.SENDING, ReminderStatus.SENT, ReminderStatus.FAILED):
        assert REMINDER_TRANSITIONS[status] == {"acknowledged", "snoozed", "done"}
    assert REMINDER_TRANSITIONS[ReminderStatus.DONE] == frozenset()
    assert set(REMINDER_TRANSITIONS) == set(ReminderStatus.values)


def test_someone_elses_reminder_is_a_404_and_stays_untouched(browser_client, review, therapist, outsider):
    for user in (therapist, outsider):
        client = browser_client(user)
        for action in ("acknowledge", "done"):
            assert client.post(f"/inbox/{review.public_id}/{action}/").status_code == 404
        assert client.post(f"/inbox/{review.public_id}/snooze/", {"until": "2099-01-01"}).status_code == 404
    review.refresh_from_db()
    assert review.status == ReminderStatus.SENT
    assert AuditEvent.objects.filter(action="access_denied", object_type="reminders.reminder").count() == 6


def test_inbox_needs_a_login(client, review):
    assert client.get("/inbox/").status_code == 302
    assert client.post(f"/inbox/{review.public_id}/acknowledge/").status_code == 302


def test_empty_inbox_says_so(browser_client, prescriber):
    assert "All caught up" in browser_client(prescriber).get("/inbox/").content.decode()


def test_clinic_admin_gets_no_inbox_link_but_the_delivery_page(browser_client, clinic_admin):
    html = browser_client(clinic_admin).get("/inbox/delivery/").content.decode()
    assert "Reminder delivery" in html and 'href="/inbox/"' not in html


def test_clinicians_see_the_inbox_link_but_may_not_open_the_delivery_page(browser_client, prescriber):
    client = browser_client(prescriber)
    assert 'href="/inbox/"' in client.get("/").content.decode()
    assert client.get("/inbox/delivery/").status_code == 403


def test_delivery_page_lists_overdue_reminder_ids_but_no_patient(browser_client, clinic_admin, patient, prescriber):
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        late = ReminderFactory(recipient=prescriber, patient=patient, detail="secret detail")
    failed = ReminderFactory(recipient=prescriber, patient=patient, status=ReminderStatus.FAILED)
    # A name no generated user has: the header shows the admin's own (random) name, which once
    # was the patient's random family name too.
    patient.given_name, patient.family_name, patient.mrn = "Quillon", "Zephyrine", "MRN-DELIVERY-7"
    patient.save()
    html = browser_client(clinic_admin).get("/inbox/delivery/").content.decode()
    assert "1 reminder overdue" in html
    assert str(late.public_id) in html and str(failed.public_id) in html
    for trace in ("Quillon", "Zephyrine", "MRN-DELIVERY-7", str(patient.public_id), "secret detail"):
        assert trace not in html, trace


def test_badge_is_one_count_query(prescriber, patient, django_assert_num_queries):
    ReminderFactory.create_batch(5, recipient=prescriber, patient=patient)
    with django_assert_num_queries(1) as captured:
        assert inbox_open_count(prescriber) == 5
    # Its cost follows the user's own reminders: the care team is checked per row (EXISTS on the
    # membership and grant indexes), the clinic's patient table is never read (issue 14).
    assert '"careplans_patient"' not in captured.captured_queries[0]["sql"]


def test_badge_counts_only_patients_still_on_the_care_team_or_opened_in_an_emergency(prescriber, patient, outsider):
    from careplans.models import BreakGlassGrant, CareTeamMember

    ReminderFactory(recipient=prescriber, patient=patient)
    ReminderFactory(recipient=outsider, patient=patient)  # addressed to someone not on the team
    ReminderFactory(recipient=prescriber, patient=None)  # a notice about no patient
    assert (inbox_open_count(prescriber), inbox_open_count(outsider)) == (2, 0)
    CareTeamMember.objects.filter(patient=patient, user=prescriber).update(ended_at=timezone.now())
    assert inbox_open_count(prescriber) == 1
    BreakGlassGrant.objects.create(
        patient=patient, user=outsider, reason="on call", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert inbox_open_count(outsider) == 1


def test_inbox_page_query_count_stays_flat_with_many_reminders(
    browser_client, prescriber, django_assert_max_num_queries
):
    client = browser_client(prescriber)
    for _ in range(30):
        patient = PatientFactory()
        CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
        ReminderFactory.create_batch(4, recipient=prescriber, patient=patient)
        ReminderFactory(recipient=prescriber, patient=patient, kind=ReminderKind.TEAM_MESSAGE)
    client.get("/inbox/")  # warm the session
    # session + user, paginator count, page rows (patients joined), tab counts, header badge,
    # and the session save every request does (savepoint, UPDATE, release: SE-1 idle timeout)
    with django_assert_max_num_queries(9):
        response = client.get("/inbox/")
    assert response.content.decode().count('class="inbox-row') == 100  # one full page
    assert Reminder.objects.count() == 150


def test_inbox_of_someone_with_two_roles_and_another_users_reminders_stays_separate(browser_client, patient):
    both = UserFactory(is_prescriber=True, is_therapist=True)
    CareTeamMemberFactory(patient=patient, user=both, role=TeamRole.PSYCHIATRIC_CONSULTANT)
    ReminderFactory(recipient=both, patient=patient, detail="mine")
    ReminderFactory(recipient=UserFactory(is_therapist=True), patient=patient, detail="theirs")
    html = browser_client(both).get("/inbox/").content.decode()
    assert "mine" in html and "theirs" not in html
