"""Sign-in with a second factor, enrolment, passwords, held forms (issue 13)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEvent, HeldForm
from tests.clinic.auth_helpers import RECOVERY_CODE, code_for, enrol
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str = PASSWORD, next_url: str = "") -> object:
    url = "/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": username, "password": password, "next": next_url})


# --- Two-step sign-in ------------------------------------------------------------------------------


def test_password_alone_does_not_sign_in_a_user_with_a_device(client, prescriber):
    enrol(prescriber)
    response = sign_in(client, "prescriber")
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # not signed in yet


def test_code_step_signs_in_and_keeps_next(client, prescriber, patient):
    device = enrol(prescriber)
    sign_in(client, "prescriber", next_url="/inbox/")
    page = client.get("/login/code/")
    assert page.status_code == 200 and b'autocomplete="one-time-code"' in page.content
    response = client.post("/login/code/", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="login", object_type="session", actor=prescriber).exists()


def test_recovery_code_signs_in_once(client, prescriber):
    enrol(prescriber)
    sign_in(client, "prescriber")
    assert client.post("/login/code/", {"code": RECOVERY_CODE}).status_code == 302
    assert not StaticToken.objects.filter(token=RECOVERY_CODE).exists()
    client.post("/logout/")
    sign_in(client, "prescriber")
    response = client.post("/login/code/", {"code": RECOVERY_CODE})
    assert response.status_code == 200 and b"not valid" in response.content


def test_wrong_codes_end_the_attempt(client, prescriber):
    enrol(prescriber)
    sign_in(client, "prescriber")
    for _ in range(5):
        response = client.post("/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/login/code/")["Location"] == "/login/"
    assert AuditEvent.objects.filter(action="login_failed", object_id="otp").count() >= 1


def test_code_step_expires(client, prescriber):
    device = enrol(prescriber)
    sign_in(client, "prescriber")
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post("/login/code/", {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_code_page_without_a_password_step_goes_to_login(client):
    assert client.get("/login/code/")["Location"] == "/login/"


# --- Enrolment ---------------------------------------------------------------------------------------


def test_enrolment_shows_qr_svg_and_key_then_recovery_codes_once(client, prescriber):
    client.force_login(prescriber)
    page = client.get("/account/two-step/")
    assert page.status_code == 200
    assert b'src="/account/two-step/qr.svg"' in page.content
    secret = re.search(rb'id="totp-secret">([A-Z2-7 ]+)<', page.content).group(1).decode()
    qr = client.get("/account/two-step/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and qr.content.startswith(b"<svg")
    device = TOTPDevice.objects.get(user=prescriber, confirmed=False)
    assert secret.replace(" ", "") in device.config_url
    wrong = client.post("/account/two-step/", {"code": "000000"})
    assert wrong.status_code == 200 and b"does not match" in wrong.content
    # django-otp throttles a device after a miss (1 s, then 2 s, 4 s, ...).
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        done = client.post("/account/two-step/", {"code": code_for(device)})
    codes = re.findall(rb"<li><code>([a-z2-7]+)</code></li>", done.content)
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=prescriber).confirmed
    assert client.get("/account/").status_code == 200  # this session is verified
    # Shown once: the account page only says how many are left.
    assert codes[0] not in client.get("/account/").content
    event = AuditEvent.objects.get(action="mfa_enrol", outcome="success")
    assert device.key not in str(event.changes) and codes[0].decode() not in str(event.changes)


def test_mfa_required_sends_an_unenrolled_user_to_enrolment(client, prescriber, settings, patient):
    settings.MFA_REQUIRED = True
    sign_in(client, "prescriber")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/account/two-step/"
    assert client.get("/account/two-step/").status_code == 200
    assert client.get("/api/v1/patients/").status_code == 403
    device = TOTPDevice.objects.get(user=prescriber)
    client.post("/account/two-step/", {"code": code_for(device)})
    assert client.get("/").status_code == 200


def test_mfa_optional_by_default_in_the_demo(client, prescriber, patient, settings):
    assert settings.MFA_REQUIRED is False  # DEBUG=true (make run): optional
    sign_in(client, "prescriber")
    assert client.get("/").status_code == 200


# --- Passwords ----------------------------------------------------------------------------------------


def test_change_password_needs_the_old_one_and_the_validators(client, prescriber):
    client.force_login(prescriber)
    wrong_old = client.post(
        "/account/password/",
        {
            "old_password": "not it at all",
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert wrong_old.status_code == 200 and b"incorrect" in wrong_old.content
    short = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert short.status_code == 200 and b"too short" in short.content
    prescriber.refresh_from_db()
    assert prescriber.check_password(PASSWORD)


def test_reset_says_the_same_whether_or_not_the_account_exists(client, prescriber, patient):
    known = client.post("/password-reset/", {"email": prescriber.email})
    unknown = client.post("/password-reset/", {"email": "nobody@clinic.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert patient.family_name not in message.body and patient.given_name not in message.body
    assert "http://127.0.0.1:8000/password-reset/" in message.body


def test_reset_link_is_single_use(client, prescriber):
    client.post("/password-reset/", {"email": prescriber.email})
    link = re.search(r"https?://[^/]+(/password-reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    new = {"new_password1": "reset to this one now", "new_password2": "reset to this one now"}
    assert client.post(form_url, new)["Location"] == "/password-reset/done/"
    again = Client().get(link, follow=True)
    assert b"no longer works" in again.content
    assert AuditEvent.objects.filter(action="password_reset", changes__via="reset").exists()


def test_reset_link_expires(client, prescriber, settings):
    client.post("/password-reset/", {"email": prescriber.email})
    link = re.search(r"https?://[^/]+(/password-reset/\S+)", mail.outbox[0].body).group(1)
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert b"no longer works" in Client().get(link, follow=True).content


def test_admin_sends_a_reset_link_instead_of_typing_a_password(client, clinic_admin, prescriber, patient):
    client.force_login(clinic_admin)
    edit = client.get(f"/staff/{prescriber.public_id}/")
    assert b'type="password"' not in edit.content and b"Send reset link" in edit.content
    response = client.post(f"/staff/{prescriber.public_id}/send-reset-link/")
    assert response.status_code == 302
    assert mail.outbox[0].to == [prescriber.email] and "/password-reset/" in mail.outbox[0].body
    assert patient.family_name not in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="password_reset", actor=clinic_admin).exists()


def test_new_staff_account_gets_a_link_not_a_typed_password(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post("/staff/new/", {"username": "newbie", "email": "newbie@clinic.test", "roles": ["therapist"]})
    assert response.status_code == 302
    assert mail.outbox[0].to == ["newbie@clinic.test"]


# --- Idle sessions: stay signed in, held forms ------------------------------------------------------


def test_keepalive_renews_the_session(client, prescriber, patient):
    sign_in(client, "prescriber")
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=13), tick=False):
        assert client.post("/session/keepalive/", HTTP_X_REQUESTED_WITH="fetch").status_code == 204
    with time_machine.travel(start + timedelta(minutes=27), tick=False):
        assert client.get("/").status_code == 200


def test_pages_carry_the_idle_timing(client, prescriber, patient, settings):
    settings.IDLE_WARNING_SECONDS = 780
    sign_in(client, "prescriber")
    page = client.get("/").content.decode()
    assert 'data-idle-warn="780"' in page and 'data-idle-end="900"' in page
    assert "/static/tandem/idle.js" in page and "<script>" not in page


def test_form_posted_after_expiry_comes_back_for_the_same_user_only(client, prescriber, patient, care_plan):
    sign_in(client, "prescriber")
    url = f"/patients/{patient.public_id}/care-plan/edit/"
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        response = client.post(url, {"summary": "what I typed", "version": "1", "password": "never kept"})
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
        held = HeldForm.objects.get()
        assert held.user == prescriber and held.data["summary"] == ["what I typed"]
        assert "password" not in held.data and "csrfmiddlewaretoken" not in held.data
        sign_in(client, "prescriber", next_url=url)
        page = client.get(url)
        assert b"data-held-form=" in page.content
        data = client.get("/session/held-form/").json()
        assert data["fields"]["summary"] == ["what I typed"]
        assert not HeldForm.objects.exists()  # handed back once
        assert client.get("/session/held-form/").json()["fields"] == {}


def test_held_form_is_not_given_to_another_user(client, prescriber, therapist, patient):
    sign_in(client, "prescriber")
    url = f"/patients/{patient.public_id}/care-plan/edit/"
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        client.post(url, {"summary": "prescriber's words"})
        assert HeldForm.objects.count() == 1
        sign_in(client, "therapist")
        assert client.get("/session/held-form/").json()["fields"] == {}
    assert not HeldForm.objects.exists()


def test_held_form_needs_a_valid_csrf_token(prescriber, patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(prescriber)
    client.get("/")  # the last-user cookie
    client.logout()
    client.cookies.pop("sessionid", None)
    response = client.post(f"/patients/{patient.public_id}/care-plan/edit/", {"summary": "forged"})
    assert response.status_code == 403
    assert not HeldForm.objects.exists()


# --- No way round the second step; the production default ----------------------------------------


def test_django_admin_signs_in_through_tandems_sign_in(client, db):
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/django-admin/"
    posted = client.post("/django-admin/login/", {"username": "x", "password": "y"})
    assert posted.status_code == 302 and "_auth_user_id" not in client.session


def test_enrolled_superuser_needs_the_code_for_the_django_admin(client, db):
    from tests.factories import UserFactory

    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    enrol(boss)
    sign_in(client, "boss", next_url="/django-admin/")
    assert client.get("/django-admin/").status_code == 302  # still on the code step


@pytest.mark.parametrize(("debug", "required"), [("false", "True"), ("true", "False")])
def test_mfa_required_defaults_on_in_production_and_off_in_the_demo(debug, required):
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup();"
            "from django.conf import settings; print(settings.MFA_REQUIRED)",
        ],
        env={
            "DEBUG": debug,
            "SECRET_KEY": "test-only-" + "x" * 50,
            "AUDIT_HMAC_KEY": "test-only-" + "a" * 40,
            "NOTE_ENCRYPTION_KEYS": "ZmVybmV0LXRlc3Qtb25seS1rZXktMDEyMzQ1Njc4OTA=",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.stdout.strip() == required, result.stderr


def test_held_form_expires_after_30_minutes(client, prescriber, patient):
    sign_in(client, "prescriber")
    url = f"/patients/{patient.public_id}/care-plan/edit/"
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        client.post(url, {"summary": "typed"})
    with time_machine.travel(start + timedelta(minutes=51), tick=False):
        sign_in(client, "prescriber", next_url=url)
        assert client.get("/session/held-form/").json()["fields"] == {}


def test_held_form_is_offered_only_on_its_own_page(client, prescriber, patient):
    sign_in(client, "prescriber")
    url = f"/patients/{patient.public_id}/care-plan/edit/"
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        client.post(url, {"summary": "typed"})
        sign_in(client, "prescriber")
        assert b"data-held-form=" not in client.get("/").content
        assert b"data-held-form=" in client.get(url).content


def test_code_step_says_wait_while_the_device_backs_off(client, prescriber):
    device = enrol(prescriber)
    sign_in(client, "prescriber")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = client.post("/login/code/", {"code": "123456"})
        assert b"That code is not valid" in first.content
        second = client.post("/login/code/", {"code": code_for(device)})  # right, but within the back-off
        assert b"wait a few seconds" in second.content
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        assert client.post("/login/code/", {"code": code_for(device)}).status_code == 302
