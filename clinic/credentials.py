"""Credentials: ending tokens and sessions, passwords, the second factor (issue 13).

Every write here is audited without its secret: never a password, a code, a TOTP key or a token.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from clinic.audit import audit_record
from clinic.models import AuditAction, AuditOutcome, User

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


# --- Ending every token and session -----------------------------------------------------------


@transaction.atomic
def credentials_revoke(*, user: User, actor: User | None, reason: str) -> int:
    """End every API token and every browser session of `user`. Returns the tokens ended.

    Sessions end because `auth_generation` is part of the session hash Django verifies on
    every request (clinic.models.User); tokens are deleted, so they answer 401."""
    tokens, _ = AuthToken.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(auth_generation=user.auth_generation + 1)
    user.auth_generation += 1
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=user,
        changes={"cause": reason, "tokens": tokens, "sessions": "ended"},  # a fixed phrase, not free text
    )
    return tokens


def token_revoke(*, token: AuthToken, user: User) -> None:
    """`POST /api/v1/auth/logout/`: the calling token only."""
    key = token.token_key
    token.delete()
    audit_record(actor=user, action=AuditAction.LOGOUT, object_type="knox.authtoken", object_id=key)


def tokens_revoke_all(*, user: User) -> int:
    """`POST /api/v1/auth/logout-all/`: every token of the user."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    audit_record(
        actor=user, action=AuditAction.LOGOUT, object_type="knox.authtoken", object_id="all", changes={"tokens": count}
    )
    return count


# --- Passwords ----------------------------------------------------------------------------------


@transaction.atomic
def password_set(*, user: User, password: str, actor: User | None, via: str) -> None:
    """Set a new password (validated: SECURITY.md AU-1), then end every token and session.

    `via`: "change" (the user, knowing the old one), "reset" (a reset link)."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    action = AuditAction.PASSWORD_CHANGE if via == "change" else AuditAction.PASSWORD_RESET
    audit_record(actor=actor, action=action, obj=user, changes={"password": ["", "changed"], "via": via})
    credentials_revoke(user=user, actor=actor, reason=f"password {via}")


def password_reset_email(*, user: User, actor: User | None) -> bool:
    """E-mail `user` a single-use, expiring reset link. No patient is named (DP-2).

    Used by the clinic admin's "send reset link"; the public reset form uses Django's view with
    the same templates. Returns False when the account has no e-mail address or is inactive."""
    if not user.email or not user.is_active:
        return False
    context = _reset_context(user)
    subject = render_to_string("registration/password_reset_subject.txt", context).strip()
    body = render_to_string("registration/password_reset_email.txt", context)
    send_mail(subject, body, None, [user.email])
    audit_record(
        actor=actor, action=AuditAction.PASSWORD_RESET, obj=user, changes={"link": "sent", "by": "clinic admin"}
    )
    return True


def _reset_context(user: User) -> dict[str, Any]:
    site = settings.SITE_URL.rstrip("/")
    protocol, _, domain = site.partition("://")
    return {
        "email": user.email,
        "domain": domain,
        "site_name": "Tandem",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": protocol or "https",
    }


# --- The second factor --------------------------------------------------------------------------


def mfa_enrolled(user: User) -> bool:
    """A confirmed authenticator: sign-in then asks for a code after the password."""
    return user_has_device(user, confirmed=True)


def mfa_pending_device(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (created on first call): its key is shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


@transaction.atomic
def mfa_confirm(*, user: User, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it; returns the new recovery codes
    (shown once), or None when the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(_digits(code)):
        audit_record(actor=user, action=AuditAction.MFA_ENROL, obj=user, outcome=AuditOutcome.DENIED)
        return None
    # One authenticator at a time: a confirmed one replaces any earlier device.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = recovery_codes_replace(user)
    audit_record(
        actor=user, action=AuditAction.MFA_ENROL, obj=user, changes={"totp": "confirmed", "recovery_codes": len(codes)}
    )
    return codes


def recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def mfa_verify(user: User, code: str) -> Device | None:
    """The device that accepts `code` (a 6-digit TOTP code or a recovery code, used up), or None.

    Each device throttles its own failures (django-otp: growing delays after each miss)."""
    code = code.strip().replace(" ", "").lower()
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            token = _digits(code) if isinstance(device, TOTPDevice) else code
            if token and device.verify_token(token):
                return device
    return None


def mfa_waiting(user: User) -> bool:
    """Whether the user's authenticator is in django-otp's back-off after wrong codes (a right
    code is refused until it passes, so the page says to wait rather than "wrong code")."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device is not None and not device.verify_is_allowed()[0]


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def mfa_reset(*, user: User, actor: User) -> None:
    """Clinic admin: remove the user's authenticator and recovery codes (they enrol again at
    their next sign-in), end their tokens and sessions, and tell them by e-mail (no patient data)."""
    removed = sum(1 for _ in devices_for_user(user, confirmed=None))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action=AuditAction.MFA_RESET, obj=user, changes={"devices_removed": removed})
    credentials_revoke(user=user, actor=actor, reason="mfa reset")
    if user.email:
        body = render_to_string("registration/mfa_reset_email.txt", {"user": user, "site": settings.SITE_URL})
        transaction.on_commit(
            lambda: send_mail("Tandem: your two-step sign-in was reset", body, None, [user.email], fail_silently=True)
        )


def _digits(code: str) -> str:
    cleaned = code.strip().replace(" ", "")
    return cleaned if cleaned.isdigit() and len(cleaned) == 6 else ""
