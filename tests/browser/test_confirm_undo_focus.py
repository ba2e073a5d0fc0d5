"""Issue 16 item 9 in real Chromium: "End membership" and "Mark done" ask first and can be undone
(keyboard only), focus lands on the error summary after a failed submit, the no-show form shows
only what a missed session needs, a second session on the same day is flagged. Screenshots at
390, 768 and 1280 px go to test-artifacts/screenshots."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from careplans.models import CareTeamMember, TeamRole
from reminders.models import Reminder, ReminderStatus
from tests.factories import CareTeamMemberFactory, UserFactory
from tests.reminders.reminder_factories import ReminderFactory
from tests.therapy.factories import modality_catalog_ensure
from therapy import services as therapy_services
from therapy.models import Modality, TherapyCourse, TherapySession


def _csp_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [m for m in page.console_messages if "Content Security Policy" in m]


def _focused(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("document.activeElement.outerHTML.slice(0, 200)")


def test_ending_a_membership_asks_first_and_can_be_undone_by_keyboard(page, login, clinic_admin, patient, shots):
    extra = UserFactory(first_name="Noor", last_name="Haddad", is_therapist=True)
    member = CareTeamMemberFactory(patient=patient, user=extra, role=TeamRole.THERAPIST)
    login(clinic_admin)
    page.goto(f"/patients/{patient.public_id}/care-team/")
    button = page.get_by_role("button", name=f"End membership of {extra}")

    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # a dismissed confirm: nothing is posted
    assert dialogs and "lose access" in dialogs[0] and str(extra) in dialogs[0]
    member.refresh_from_db()
    assert member.ended_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    button.focus()
    page.keyboard.press("Enter")
    undo = page.get_by_role("button", name=f"Undo ending the membership of {extra}")
    undo.wait_for()
    member.refresh_from_db()
    assert member.ended_at is not None  # access ends at once
    expect(undo).to_be_focused()  # keyboard users land on the offer
    shots("care_team_undo")

    page.keyboard.press("Enter")
    page.get_by_text(f"Undone: {extra} is on the care team again.").wait_for()
    member.refresh_from_db()
    assert member.ended_at is None
    assert CareTeamMember.objects.filter(patient=patient, user=extra, ended_at__isnull=True).count() == 1
    page.reload()
    assert page.get_by_role("button", name=f"Undo ending the membership of {extra}").count() == 0
    assert not _csp_violations(page)


def test_mark_done_asks_first_and_offers_undo_until_reload(page, login, prescriber, patient, care_plan, shots):
    reminder = ReminderFactory(
        recipient=prescriber,
        patient=patient,
        status=ReminderStatus.SENT,
        subject_id=str(care_plan.public_id),
        due_date=timezone.localdate(),
        detail="Care plan review due",
    )
    login(prescriber)
    page.goto("/inbox/")
    row = page.locator(f"#reminder-{reminder.public_id}")
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Mark done").focus()
    page.keyboard.press("Enter")
    undo = page.locator(f"#reminder-{reminder.public_id} [data-undo]")
    undo.wait_for()
    assert dialogs and "Mark this" in dialogs[0]
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.DONE
    expect(undo).to_be_focused()
    shots("inbox_undo")

    page.keyboard.press("Enter")  # undo, by keyboard
    page.locator(f"#reminder-{reminder.public_id} .badge-acknowledged").wait_for()
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.ACKNOWLEDGED

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#reminder-{reminder.public_id}").get_by_role("button", name="Mark done").click()
    page.locator(f"#reminder-{reminder.public_id} [data-undo]").wait_for()
    page.goto("/inbox/?view=done")  # after a reload the offer is gone
    assert page.locator(f"#reminder-{reminder.public_id}").count() == 1
    assert page.locator("[data-undo]").count() == 0
    assert not _csp_violations(page)


def test_focus_moves_to_the_error_summary_after_a_failed_submit(page, login, care_manager, shots):
    from datetime import timedelta

    login(care_manager)
    page.goto("/patients/new/")
    page.locator("#id_given_name").fill("Ana")
    page.locator("#id_family_name").fill("Lima")
    page.locator("#id_birth_date").fill(str(timezone.localdate() + timedelta(days=1)))  # "Age -1"
    page.locator("#id_mrn").fill("Z-77")
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link")
    assert "cannot be in the future" in link.first.inner_text()
    shots("error_summary_focus")
    link.first.click()
    expect(page.locator("#id_birth_date")).to_be_focused()  # the link takes you to the field
    assert page.locator("#id_family_name").input_value() == "Lima"  # nothing typed is lost
    assert not _csp_violations(page)


@pytest.fixture
def open_course(patient, therapist, care_plan):  # type: ignore[no-untyped-def]
    modality_catalog_ensure()
    return TherapyCourse.objects.create(
        patient=patient, therapist=therapist, modality=Modality.objects.get(code="CBT"), created_by=therapist
    )


def test_no_show_form_shows_only_what_a_missed_session_needs(page, login, therapist, open_course, shots):
    login(therapist)
    page.goto(f"/patients/{open_course.patient.public_id}/therapy/courses/{open_course.public_id}/sessions/new/")
    homework = page.get_by_label("Homework until next session")
    expect(homework).to_be_visible()
    page.get_by_label("No show").check()
    expect(homework).to_be_hidden()
    expect(page.get_by_label("Minutes")).to_be_hidden()
    expect(page.get_by_role("group", name="Format")).to_be_hidden()
    expect(page.get_by_label("Shared summary")).to_be_visible()
    expect(page.get_by_role("group", name="Risk check")).to_be_visible()
    expect(page.get_by_text("A missed session needs only its date")).to_be_visible()
    shots("no_show_form")
    page.get_by_label("Shared summary").fill("Did not attend; left a voicemail.")
    page.get_by_role("button", name="Log session").click()
    page.wait_for_url(f"**/patients/{open_course.patient.public_id}/therapy/")
    session = TherapySession.objects.get(course=open_course)
    assert session.attendance == "no_show" and session.duration_minutes == 0
    assert not _csp_violations(page)


def test_second_session_on_the_same_day_is_flagged_and_can_be_confirmed(page, login, therapist, open_course, shots):
    therapy_services.session_log(course=open_course, actor=therapist, session_date=timezone.localdate())
    login(therapist)
    page.goto(f"/patients/{open_course.patient.public_id}/therapy/courses/{open_course.public_id}/sessions/new/")
    page.get_by_label("Shared summary").fill("Second visit, crisis follow-up")
    page.get_by_role("button", name="Log session").click()
    warning = page.locator(".form-warning")
    warning.wait_for()
    expect(warning).to_be_focused()
    assert "Possible duplicate" in warning.inner_text()
    assert TherapySession.objects.filter(course=open_course).count() == 1  # warned, not saved
    assert page.get_by_label("Shared summary").input_value() == "Second visit, crisis follow-up"
    shots("duplicate_session_warning")
    warning.get_by_role("button", name="Log it anyway").click()
    page.wait_for_url(f"**/patients/{open_course.patient.public_id}/therapy/")
    assert TherapySession.objects.filter(course=open_course).count() == 2
    assert not _csp_violations(page)
