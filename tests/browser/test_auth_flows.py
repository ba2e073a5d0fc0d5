"""Issue 13 in real Chromium: enrolment, sign-in with a code or a recovery code, the reset link,
the idle warning and a form kept across an expired session."""

import re
from base64 import b32decode

from django.core import mail
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.clinic.auth_helpers import RECOVERY_CODE, code_for, enrol
from tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def no_csp_errors(page) -> None:  # type: ignore[no-untyped-def]
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def both_widths(page, screenshot, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshot(f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def password_step(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_totp_enrolment(page, login, prescriber, screenshot):
    login(prescriber)
    page.goto("/account/")
    page.get_by_role("button", name="Set up two-step sign-in").click()
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    # The SVG from /account/two-step/qr.svg loaded and has a size.
    page.wait_for_function(
        "() => { const i = document.querySelector('.qr img'); return i && i.complete && i.naturalWidth > 0; }"
    )
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    both_widths(page, screenshot, "mfa-enrolment")
    totp = TOTP(b32decode(secret))
    page.get_by_label("Code from the app").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    screenshot("mfa-recovery-codes")
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_text("Recovery codes left: 10")).to_be_visible()
    no_csp_errors(page)


def test_sign_in_with_totp(page, prescriber, patient, screenshot):
    device = enrol(prescriber)
    password_step(page, prescriber)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    both_widths(page, screenshot, "mfa-code-prompt")
    page.get_by_label("Code").fill("111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id_code_error")).to_contain_text("That code is not valid")  # the error sits by the field
    expect(page.locator(".form-errors").get_by_role("link", name="Code: That code is not valid")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp's delay after a miss
    page.get_by_label("Code").fill(code_for(device))
    page.keyboard.press("Enter")  # keyboard only
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()  # clinicians land on Today
    no_csp_errors(page)


def test_sign_in_with_a_recovery_code(page, prescriber, patient):
    enrol(prescriber)
    password_step(page, prescriber)
    page.get_by_label("Code").fill(RECOVERY_CODE)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()  # clinicians land on Today
    expect(page.get_by_text("You used a recovery code; 0 left")).to_be_visible()
    no_csp_errors(page)


def test_reset_link_flow(page, prescriber, patient):
    page.goto("/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("E-mail address").fill(prescriber.email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert patient.family_name not in body
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+)", body).group(1)
    page.goto(link)
    page.get_by_label(re.compile(r"^New password\W*$")).fill("a fresh long passphrase")
    page.get_by_label("New password confirmation").fill("a fresh long passphrase")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    page.goto(link)  # single use
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    page.goto("/login/")
    page.get_by_label("Username").fill(prescriber.username)
    page.get_by_label("Password").fill("a fresh long passphrase")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()  # clinicians land on Today
    no_csp_errors(page)


def test_idle_warning_offers_stay_signed_in(page, login, prescriber, patient, screenshot, settings):
    settings.IDLE_WARNING_SECONDS = 2  # the real page warns at 13 minutes
    login(prescriber)
    dialog = page.get_by_role("dialog", name="Still there?")
    expect(dialog).to_be_visible(timeout=6_000)
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    both_widths(page, screenshot, "idle-warning")
    with page.expect_response(lambda r: "/session/keepalive/" in r.url) as keepalive:
        page.keyboard.press("Enter")
    assert keepalive.value.status == 204
    expect(dialog).to_be_hidden()
    expect(dialog).to_be_visible(timeout=6_000)  # and it comes back after the next quiet spell
    no_csp_errors(page)


def test_form_posted_after_the_session_ended_comes_back_after_sign_in(page, login, prescriber, patient, care_plan):
    login(prescriber)
    page.goto(f"/patients/{patient.public_id}/care-plan/edit/")
    summary = page.get_by_label("Shared formulation")
    summary.fill("Typed before the session ended")
    page.context.clear_cookies(name="sessionid")  # the session ends while the user types
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("what you typed is kept")).to_be_visible()
    page.get_by_label("Username").fill(prescriber.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Shared formulation")).to_have_value("Typed before the session ended")
    expect(page.get_by_text("What you typed is filled back in")).to_be_visible()
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert "Typed before" not in stored  # held on the server, never in the browser's storage
    no_csp_errors(page)
