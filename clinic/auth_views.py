"""Sign-in with a second factor, the user's own account page, password reset, idle sessions (issue 13)."""

import math
import time
from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.access import Action, clinical_page
from clinic.audit import audit_record
from clinic.credentials import (
    credentials_revoke,
    mfa_confirm,
    mfa_enrolled,
    mfa_pending_device,
    mfa_reset,
    mfa_verify,
    mfa_waiting,
    password_reset_email,
    password_set,
    recovery_codes_left,
    recovery_codes_replace,
)
from clinic.models import AuditAction, AuditOutcome, HeldForm, User
from clinic.selectors import staff_member_for
from clinic.throttles import attempt_allowed, failure_record

PENDING_KEY = "tandem_mfa_pending"
HELD_FORM_KEY = "tandem_held_form"
MAX_CODE_TRIES = 5


def _throttled(request: HttpRequest, wait: float) -> HttpResponse:
    minutes = max(1, math.ceil(wait / 60))
    response = render(request, "registration/throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(math.ceil(wait))
    return response


# --- Sign-in: password, then the code ---------------------------------------------------------


class SignInView(auth_views.LoginView):
    """Django's login view, throttled (clinic/throttles.py); for an account with an authenticator
    the password alone signs nobody in: the code step (`login_code`) does."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = attempt_allowed(request, request.POST.get("username", "")[:150])
        if wait is not None:
            return _throttled(request, wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        if not getattr(self.request, "axes_locked_out", False):
            failure_record(self.request.POST.get("username", "")[:150])
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if mfa_enrolled(user):
            self.request.session[PENDING_KEY] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
                "tries": 0,
            }
            return redirect("login_code")
        return super().form_valid(form)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


def login_code(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in. Only reachable with a fresh password step in this session."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > settings.MFA_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        if pending:
            messages.error(request, "That took too long: sign in again.")
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    assert isinstance(user, User)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = attempt_allowed(request, user.username)
        if wait is not None:
            return _throttled(request, wait)
        waiting = mfa_waiting(user)  # in back-off before this try: even a right code is refused
        device = mfa_verify(user, form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_KEY]
            user.otp_device = device  # type: ignore[attr-defined]  # django-otp persists it on login
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            if device.persistent_id.startswith("otp_static"):
                left = recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code; {left} left. Make new ones under Account.")
            target = pending.get("next") or settings.LOGIN_REDIRECT_URL
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = settings.LOGIN_REDIRECT_URL
            return redirect(target)
        failure_record(user.username)
        audit_record(
            actor=user,
            action=AuditAction.LOGIN_FAILED,
            outcome=AuditOutcome.DENIED,
            object_type="session",
            object_id="otp",
        )
        pending["tries"] += 1
        if pending["tries"] >= MAX_CODE_TRIES:
            del request.session[PENDING_KEY]
            messages.error(request, "Too many wrong codes: sign in again.")
            return redirect("login")
        request.session[PENDING_KEY] = pending
        if waiting:
            form.add_error("code", "Too many wrong codes in a row: wait a few seconds, then type the current code.")
        else:
            form.add_error("code", "That code is not valid. Check the time on your phone, or use a recovery code.")
    return render(request, "registration/login_code.html", {"form": form})


# --- The user's own account ------------------------------------------------------------------


@clinical_page()
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context = {
        "enrolled": mfa_enrolled(user),
        "codes_left": recovery_codes_left(user),
        "mfa_required": settings.MFA_REQUIRED,
    }
    return render(request, "clinic/account.html", context)


class ChangePasswordForm(PasswordChangeForm):
    """Old + new password, the same validators as everywhere (AU-1); saved through the service,
    which ends every other token and session."""

    def save(self, commit: bool = True) -> Any:
        password_set(user=self.user, password=self.cleaned_data["new_password1"], actor=self.user, via="change")
        return self.user


@clinical_page(methods=["GET", "POST"])
def account_password(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = ChangePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except ValidationError as error:
            form.add_error("new_password1", error.messages)
        else:
            # Every other session and token has ended; this one signs in afresh (new key, new hash).
            was_verified = getattr(user, "otp_device", None)
            user.refresh_from_db()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if was_verified is not None:
                otp_login(request, was_verified)
            messages.success(request, "Password changed. You were signed out everywhere else.")
            return redirect("account")
    return render(request, "clinic/account_password.html", {"form": form})


def _secret_text(device: Any) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="After adding Tandem to the app, type the 6-digit code it shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _needs_fresh_sign_in(request: HttpRequest, user: User) -> bool:
    """An enrolled user whose session did not pass the code step may not change the second factor."""
    return mfa_enrolled(user) and not user.is_verified()  # type: ignore[attr-defined]


@clinical_page(methods=["GET", "POST"])
def account_mfa(request: HttpRequest) -> HttpResponse:
    """Enrolment: a QR code (SVG from this app) and the key as text; confirmed by one code; then
    the recovery codes, shown this once."""
    user = request.user
    assert isinstance(user, User)
    if _needs_fresh_sign_in(request, user):
        logout(request)
        return redirect("login")
    enrolled = mfa_enrolled(user)
    if enrolled and request.GET.get("replace") != "1" and request.method == "GET":
        return redirect("account")
    device = mfa_pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa_confirm(user=user, code=form.cleaned_data["code"])
        if codes is not None:
            otp_login(request, TOTPDevice.objects.get(user=user, confirmed=True))
            return render(request, "clinic/recovery_codes.html", {"codes": codes, "first": True})
        form.add_error("code", "That code does not match. Check the time on your phone and try the next code.")
    return render(
        request,
        "clinic/account_mfa.html",
        {"form": form, "secret": _secret_text(device), "replacing": enrolled, "forced": settings.MFA_REQUIRED},
    )


@clinical_page()
def account_mfa_qr(request: HttpRequest) -> HttpResponse:
    """The pending authenticator's QR code as SVG (no inline image data, so the CSP stays strict)."""
    user = request.user
    assert isinstance(user, User)
    if _needs_fresh_sign_in(request, user):
        return HttpResponse(status=404)
    device = mfa_pending_device(user)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return HttpResponse(image.to_string(), content_type="image/svg+xml")


@clinical_page(methods=["POST"])
def account_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not mfa_enrolled(user) or _needs_fresh_sign_in(request, user):
        return redirect("account")
    codes = recovery_codes_replace(user)
    audit_record(actor=user, action=AuditAction.MFA_ENROL, obj=user, changes={"recovery_codes": "replaced"})
    return render(request, "clinic/recovery_codes.html", {"codes": codes, "first": False})


@clinical_page(methods=["POST"])
def account_sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    credentials_revoke(user=user, actor=user, reason="signed out everywhere")
    logout(request)
    messages.success(request, "You are signed out on every device, and every API token has ended.")
    return redirect("login")


# --- Idle sessions -------------------------------------------------------------------------------


@clinical_page(methods=["POST"])
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in": renews the 15-minute session now (a save; other requests renew it at
    most once a minute, clinic.middleware.AbsoluteSessionLimitMiddleware)."""
    request.session.modified = True
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse(settings.LOGIN_REDIRECT_URL)
    return redirect(target)


@clinical_page()
def held_form(request: HttpRequest) -> HttpResponse:
    """What the user typed before their session ended, once, for that same user only."""
    user = request.user
    assert isinstance(user, User)
    held = request.session.pop(HELD_FORM_KEY, None) or {}
    held_id = str(held.get("id") or "") if isinstance(held, dict) else ""
    if not held_id:
        return JsonResponse({"path": "", "fields": {}})
    row = HeldForm.objects.filter(public_id=held_id, user=user, expires_at__gt=timezone.now()).first()
    HeldForm.objects.filter(public_id=held_id).delete()  # once, whoever asked
    if row is None:
        return JsonResponse({"path": "", "fields": {}})
    return JsonResponse({"path": row.path, "fields": row.data})


# --- Password reset (Django's views: single-use, expiring links) ------------------------------


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email: str) -> Any:
        users = list(super().get_users(email))
        for user in users:
            audit_record(actor=None, action=AuditAction.PASSWORD_RESET, obj=user, changes={"link": "requested"})
        return users


class ResetSetForm(SetPasswordForm):
    def save(self, commit: bool = True) -> Any:
        password_set(user=self.user, password=self.cleaned_data["new_password1"], actor=self.user, via="reset")
        return self.user


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    success_url = reverse_lazy("password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    extra_email_context = {"site_name": "Tandem"}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = attempt_allowed(request, "")
        if wait is not None:
            return _throttled(request, wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        site = settings.SITE_URL.rstrip("/")
        protocol, _, domain = site.partition("://")
        self.extra_email_context = {"site_name": "Tandem", "domain": domain, "protocol": protocol}
        form.save(
            domain_override=domain,
            use_https=protocol == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=None,
            extra_email_context=self.extra_email_context,
        )
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ResetSetForm
    success_url = reverse_lazy("password_reset_complete")


# --- Clinic admin actions on a staff account ---------------------------------------------------


@clinical_page(action=Action.MANAGE_STAFF, methods=["POST"])
def staff_reset_mfa(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    member = staff_member_for(user=actor, public_id=user_id)
    mfa_reset(user=member, actor=actor)
    messages.success(request, f"Two-step sign-in reset for {member}. They set it up again at their next sign-in.")
    return redirect("clinic:staff_edit", user_id=member.public_id)


@clinical_page(action=Action.MANAGE_STAFF, methods=["POST"])
def staff_send_reset_link(request: HttpRequest, user_id: str) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    member = staff_member_for(user=actor, public_id=user_id)
    if password_reset_email(user=member, actor=actor):
        messages.success(request, f"A password reset link was e-mailed to {member}.")
    else:
        messages.error(request, f"{member} has no e-mail address (or the account is inactive): add one first.")
    return redirect("clinic:staff_edit", user_id=member.public_id)
