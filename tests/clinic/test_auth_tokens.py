"""API tokens end when they should (issue 13, SECURITY.md SE-1, SE-2, AU-4)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import AuditEvent
from clinic.services import user_update
from tests.clinic.auth_helpers import RECOVERY_CODE, code_for, enrol
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def token_for(user, **extra) -> str:  # type: ignore[no-untyped-def]
    response = APIClient().post(TOKEN_URL, {"username": user.username, "password": PASSWORD, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def answers(token: str) -> int:
    return with_token(token).get("/api/v1/patients/").status_code


# --- Every revocation path makes the old token 401 -------------------------------------------


def test_logout_revokes_the_calling_token_only(prescriber):
    first, second = token_for(prescriber), token_for(prescriber)
    assert with_token(first).post("/api/v1/auth/logout/").status_code == 204
    assert answers(first) == 401
    assert answers(second) == 200
    assert AuditEvent.objects.filter(action="logout", object_type="knox.authtoken").exists()


def test_logout_all_revokes_every_token_of_the_user(prescriber, therapist):
    first, second, other = token_for(prescriber), token_for(prescriber), token_for(therapist)
    assert with_token(first).post("/api/v1/auth/logout-all/").status_code == 204
    assert answers(first) == answers(second) == 401
    assert answers(other) == 200


def test_logout_needs_a_token(prescriber):
    assert APIClient().post("/api/v1/auth/logout/").status_code == 401
    assert APIClient().post("/api/v1/auth/logout-all/").status_code == 401


def test_password_change_revokes_tokens_and_other_sessions(prescriber, client):
    token = token_for(prescriber)
    other = Client()
    other.force_login(prescriber)
    client.force_login(prescriber)
    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert answers(token) == 401
    assert other.get("/").status_code == 302  # the other browser is signed out
    assert client.get("/").status_code == 200  # the one that changed it stays in
    event = AuditEvent.objects.get(action="password_change")
    assert "a brand new passphrase" not in str(event.changes)


def test_password_reset_revokes_tokens_and_sessions(prescriber, client):
    token = token_for(prescriber)
    other = Client()
    other.force_login(prescriber)
    client.post("/password-reset/", {"email": prescriber.email})
    link = [line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line][0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form = client.get(path, follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "reset to this one now", "new_password2": "reset to this one now"}
    )
    assert response.status_code == 302
    assert answers(token) == 401
    assert other.get("/").status_code == 302


def test_admin_setting_a_password_revokes_tokens(prescriber, clinic_admin):
    token = token_for(prescriber)
    response = APIClient()
    response.force_authenticate(clinic_admin)
    r = response.patch(f"/api/v1/users/{prescriber.public_id}/", {"password": "admin set this one"}, format="json")
    assert r.status_code == 200
    assert answers(token) == 401


def test_deactivation_revokes_tokens_and_sessions(prescriber, clinic_admin):
    token = token_for(prescriber)
    browser = Client()
    browser.force_login(prescriber)
    user_update(user=prescriber, actor=clinic_admin, is_active=False)
    assert answers(token) == 401
    assert browser.get("/").status_code == 302
    assert not AuthToken.objects.filter(user=prescriber).exists()


def test_role_change_revokes_tokens_and_sessions(prescriber, clinic_admin):
    token = token_for(prescriber)
    browser = Client()
    browser.force_login(prescriber)
    user_update(user=prescriber, actor=clinic_admin, roles=["therapist"])
    assert answers(token) == 401
    assert browser.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="revoke", changes__cause="role change").exists()


def test_name_change_keeps_tokens(prescriber, clinic_admin):
    token = token_for(prescriber)
    user_update(user=prescriber, actor=clinic_admin, first_name="Renamed")
    assert answers(token) == 200


def test_mfa_reset_revokes_tokens_and_sessions_and_tells_the_user(
    prescriber, clinic_admin, patient, django_capture_on_commit_callbacks
):
    device = enrol(prescriber)
    token = token_for(prescriber, otp=code_for(device))
    browser = Client()
    browser.force_login(prescriber)
    admin = Client()
    admin.force_login(clinic_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/staff/{prescriber.public_id}/reset-mfa/")
    assert response.status_code == 302
    assert answers(token) == 401
    assert browser.get("/").status_code == 302
    assert not prescriber.totpdevice_set.exists() and not prescriber.staticdevice_set.exists()
    event = AuditEvent.objects.get(action="mfa_reset")
    assert event.actor == clinic_admin and event.object_id == str(prescriber.public_id)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [prescriber.email]
    assert patient.family_name not in mail.outbox[0].body and patient.given_name not in mail.outbox[0].body


def test_mfa_reset_is_for_clinic_admins_only(prescriber, therapist):
    enrol(prescriber)
    other = Client()
    other.force_login(therapist)
    assert other.post(f"/staff/{prescriber.public_id}/reset-mfa/").status_code == 403
    assert prescriber.totpdevice_set.exists()


# --- Idle and absolute expiry -------------------------------------------------------------------


@pytest.fixture
def issued(prescriber):  # type: ignore[no-untyped-def]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = token_for(prescriber)
    return start, token


def test_idle_token_ends_at_30_minutes(issued):
    start, token = issued
    with time_machine.travel(start + timedelta(minutes=29, seconds=50), tick=False):
        assert answers(token) == 200  # used: the expiry moves to 30 minutes from now
    with time_machine.travel(start + timedelta(minutes=29, seconds=50) + timedelta(minutes=30, seconds=10), tick=False):
        assert answers(token) == 401


def test_unused_token_ends_at_30_minutes(issued):
    start, token = issued
    with time_machine.travel(start + timedelta(minutes=30, seconds=5), tick=False):
        assert answers(token) == 401


def test_busy_token_still_ends_at_12_hours(issued):
    start, token = issued
    for minutes in range(20, 12 * 60, 20):  # used every 20 minutes all day
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert answers(token) == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, seconds=1), tick=False):
        assert answers(token) == 401


# --- The second factor on the token endpoint -------------------------------------------------------


def test_token_needs_otp_for_a_user_with_a_device(prescriber):
    enrol(prescriber)
    response = APIClient().post(TOKEN_URL, {"username": "prescriber", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["otp"] and "otp" in response.json()["otp"][0]
    assert not AuthToken.objects.exists()


def test_token_refuses_a_wrong_otp(prescriber):
    enrol(prescriber)
    response = APIClient().post(
        TOKEN_URL, {"username": "prescriber", "password": PASSWORD, "otp": "000000"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["otp"]
    assert not AuthToken.objects.exists()


def test_token_with_totp_and_with_a_recovery_code_once(prescriber):
    device = enrol(prescriber)
    assert answers(token_for(prescriber, otp=code_for(device))) == 200
    assert answers(token_for(prescriber, otp=RECOVERY_CODE)) == 200
    again = APIClient().post(
        TOKEN_URL, {"username": "prescriber", "password": PASSWORD, "otp": RECOVERY_CODE}, format="json"
    )
    assert again.status_code == 400  # a recovery code works once


def test_wrong_password_answer_does_not_mention_otp(prescriber):
    enrol(prescriber)
    response = APIClient().post(TOKEN_URL, {"username": "prescriber", "password": "wrong password!"}, format="json")
    assert response.status_code == 400 and "otp" not in response.json()


def test_token_without_otp_when_mfa_required_and_not_enrolled(prescriber, settings):
    settings.MFA_REQUIRED = True
    response = APIClient().post(TOKEN_URL, {"username": "prescriber", "password": PASSWORD}, format="json")
    assert response.status_code == 400 and "two-step" in response.json()["non_field_errors"][0]
