"""The inbox in real Chromium: a reminder shows, acknowledging it (htmx) updates the badge;
snooze errors show next to the field; the Team tab sends a message into a colleague's inbox."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reminders.models import Reminder, ReminderKind, ReminderStatus
from tests.browser.conftest import ARTIFACTS
from tests.reminders.reminder_factories import ReminderFactory


@pytest.fixture
def reminders(patient, prescriber, care_plan):  # type: ignore[no-untyped-def]
    review = ReminderFactory(
        recipient=prescriber,
        patient=patient,
        status=ReminderStatus.SENT,
        subject_id=str(care_plan.public_id),
        due_date=timezone.localdate(),
        detail=f"Care plan review due {timezone.localdate()}",
    )
    alert = ReminderFactory(
        recipient=prescriber,
        patient=patient,
        kind=ReminderKind.SAFETY_ALERT,
        status=ReminderStatus.SENT,
        due_date=timezone.localdate() - timedelta(days=1),
        detail="PHQ-9 item 9 answered 2 (more than half the days)",
    )
    return review, alert


@pytest.fixture
def shot(page):  # type: ignore[no-untyped-def]
    """Like the shared `screenshot` fixture, but caret="initial": Playwright's default caret
    hiding injects an inline style that the CSP reports on the page's next action, which
    would hide a real violation of ours among its own."""

    def take(name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")

    return take


def _csp_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [m for m in page.console_messages if "Content Security Policy" in m]


def _badge(page):  # type: ignore[no-untyped-def]
    return page.locator("#inbox-badge")


def test_inbox_shows_a_reminder_and_acknowledging_it_updates_the_badge(
    page, login, prescriber, patient, reminders, shot
):
    review, alert = reminders
    login(prescriber)
    page.get_by_role("link", name="Inbox").click()
    page.wait_for_url("**/inbox/")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    assert _badge(page).inner_text().startswith("2")
    rows = page.locator("li.inbox-row")
    assert rows.count() == 2
    assert "Safety alert" in rows.nth(0).inner_text()  # urgent first
    assert patient.display_name in rows.nth(1).inner_text()
    assert f"Care plan review due {timezone.localdate()}" in rows.nth(1).inner_text()
    shot("inbox")

    row = page.locator(f"#reminder-{review.public_id}")
    row.get_by_role("button", name="Acknowledge").click()
    page.locator(f"#reminder-{review.public_id} .badge-acknowledged").wait_for()

    assert _badge(page).inner_text().startswith("1")
    assert page.url.endswith("/inbox/")  # htmx: no page load
    shot("inbox_after_acknowledge")
    assert Reminder.objects.get(pk=review.pk).status == ReminderStatus.ACKNOWLEDGED

    page.once("dialog", lambda dialog: dialog.accept())  # "Mark done" asks first (issue 16 item 9)
    page.locator(f"#reminder-{alert.public_id}").get_by_role("button", name="Mark done").click()
    page.locator(f"#reminder-{alert.public_id} .badge-completed").wait_for()
    assert _badge(page).is_hidden()
    assert not _csp_violations(page)


def test_snooze_with_a_past_date_shows_the_error_next_to_the_field(page, login, prescriber, reminders, shot):
    review, _ = reminders
    login(prescriber)
    page.goto("/inbox/")
    row = page.locator(f"#reminder-{review.public_id}")
    row.get_by_label("Snooze until").fill("2020-01-01")
    row.get_by_role("button", name="Snooze").click()
    error = page.locator(f"#until-{review.public_id}-error")
    error.wait_for()
    assert error.inner_text() == "Choose a date after today."
    assert page.locator(f"#until-{review.public_id}").input_value() == "2020-01-01"
    shot("inbox_snooze_error")

    page.locator(f"#until-{review.public_id}").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    page.locator(f"#reminder-{review.public_id}").get_by_role("button", name="Snooze").click()
    page.locator(f"#reminder-{review.public_id} .badge-on_hold").wait_for()
    assert Reminder.objects.get(pk=review.pk).status == ReminderStatus.SNOOZED
    assert not _csp_violations(page)


def test_team_message_lands_in_the_colleagues_inbox(page, login, prescriber, therapist, patient, care_plan, shot):
    login(therapist)
    page.goto(f"/patients/{patient.public_id}/team/")
    page.get_by_label("To").select_option(label=prescriber.get_full_name())
    page.get_by_label("Message").fill("Did sleep worsen after the sertraline increase?")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Message sent.").wait_for()
    shot("team_thread")

    page.context.clear_cookies()
    login(prescriber)
    assert _badge(page).inner_text().startswith("1")
    page.goto("/inbox/")
    row = page.locator("li.inbox-row").first
    assert "Team message" in row.inner_text() and "Did sleep worsen" in row.inner_text()
    shot("inbox_team_message")
    row.get_by_role("link", name=patient.display_name).click()
    page.wait_for_url(f"**/patients/{patient.public_id}/team/**")
    page.get_by_label("Reply to this thread").fill("Yes, a little. Let us talk on Friday.")
    page.get_by_role("button", name="Reply").click()
    page.get_by_text("Reply sent.").wait_for()
    assert page.locator(".reply").inner_text().count("Let us talk on Friday") == 1
    shot("team_thread_reply")
    assert not _csp_violations(page)


def test_clinic_admin_sees_overdue_reminders_by_id_on_the_delivery_page(
    page, login, clinic_admin, patient, prescriber, shot
):
    import time_machine

    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        late = ReminderFactory(recipient=prescriber, patient=patient, detail="never shown to admins")
    ReminderFactory(recipient=prescriber, patient=patient, status=ReminderStatus.FAILED)
    login(clinic_admin)
    page.get_by_role("link", name="Reminder delivery").click()
    page.get_by_role("heading", name="1 reminder overdue").wait_for()
    assert str(late.public_id) in page.content()
    assert patient.family_name not in page.content() and "never shown" not in page.content()
    assert page.get_by_role("link", name="Inbox").count() == 0
    shot("reminder_delivery")
    assert not _csp_violations(page)
