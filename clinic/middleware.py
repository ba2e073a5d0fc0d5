"""Request-wide concerns: audit context, absolute session limit, no caching of PHI."""

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from clinic.client_ip import client_ip
from clinic.request_context import RequestInfo, current_request

Handler = Callable[[HttpRequest], HttpResponse]
SESSION_STARTED_KEY = "tandem_session_started"
SESSION_RENEWED_KEY = "tandem_session_renewed"


class RequestContextMiddleware:
    """Gives each request an id and remembers where it came from, for the audit trail."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        token = current_request.set(
            RequestInfo(
                request_id=request_id,
                source_ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response


class AbsoluteSessionLimitMiddleware:
    """Ends a browser session 12 hours after login, however active (SECURITY.md SE-1), and
    renews the 15-minute idle limit (the session's age) by saving the session at most once
    a minute (SESSION_RENEW_AFTER_SECONDS): an active user is never signed out, an idle one
    is signed out 14 to 15 minutes after their last request, and a page view costs no
    session write (issue 14).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(SESSION_STARTED_KEY)
            now = timezone.now()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now.isoformat()
            elif now - datetime.fromisoformat(started) > settings.SESSION_ABSOLUTE_LIMIT:
                logout(request)
                return redirect(settings.LOGIN_URL)
            renewed = request.session.get(SESSION_RENEWED_KEY)
            renew_after = timedelta(seconds=settings.SESSION_RENEW_AFTER_SECONDS)
            if renewed is None or now - datetime.fromisoformat(renewed) >= renew_after:
                request.session[SESSION_RENEWED_KEY] = now.isoformat()  # modified: saved, cookie re-sent
        return self.get_response(request)


class NoStoreMiddleware:
    """Responses to signed-in users may carry PHI: never cache them (SECURITY.md DP-3)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


# Pages an unenrolled user may still reach while MFA is required: enrolment itself, sign-out.
MFA_OPEN_NAMES = {"account_mfa", "account_mfa_qr", "logout", "login", "login_code", "session_keepalive"}


class MfaEnrolmentMiddleware:
    """With `MFA_REQUIRED`, a signed-in user whose session has not passed a second factor is sent
    to enrolment (a page) or refused (the session-authenticated API) until they have one."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if not settings.MFA_REQUIRED or not request.user.is_authenticated:
            return None
        if request.user.is_verified():  # type: ignore[union-attr,attr-defined]  # set by OTPMiddleware
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in MFA_OPEN_NAMES:
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Set up two-step sign-in first (Account, Two-step sign-in)."}, status=403)
        return redirect("account_mfa")


HELD_FORM_KEY = "tandem_held_form"
LAST_USER_COOKIE = "tandem_last_user"
HELD_FORM_MAX_BYTES = 64 * 1024


class HeldFormMiddleware:
    """A form posted after the session ended is not lost (issue 13, item 5).

    At sign-in the browser gets a signed cookie naming the user (an id, no data). A POST to a
    signed-in page that arrives without a session, but with that cookie, is kept server-side
    (`HeldForm`, for that user, `HELD_FORM_SECONDS`), and the user is sent to sign in; once the
    same user is back on that page, static/tandem/idle.js fetches it once and fills the form in.
    Runs after the CSRF check (process_view order), so a forged post is never kept."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            value = str(user.public_id)
            if request.get_signed_cookie(LAST_USER_COOKIE, default=None, salt=LAST_USER_COOKIE) != value:
                response.set_signed_cookie(
                    LAST_USER_COOKIE,
                    value,
                    salt=LAST_USER_COOKIE,
                    max_age=int(settings.SESSION_ABSOLUTE_LIMIT.total_seconds()),
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
        return response

    def process_view(self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.method != "POST" or request.user.is_authenticated or not hasattr(view_func, "page_access"):
            return None
        from clinic.audit import audit_record
        from clinic.models import AuditAction, HeldForm, User

        public_id = request.get_signed_cookie(
            LAST_USER_COOKIE,
            default=None,
            salt=LAST_USER_COOKIE,
            max_age=int(settings.SESSION_ABSOLUTE_LIMIT.total_seconds()),
        )
        owner = User.objects.filter(public_id=public_id, is_active=True).first() if public_id else None
        if owner is None:
            return None
        fields = {
            name: values[:50]
            for name, values in request.POST.lists()
            if name != "csrfmiddlewaretoken" and "password" not in name.lower()
        }
        if len(json.dumps(fields)) > HELD_FORM_MAX_BYTES:
            return None
        HeldForm.objects.filter(user=owner, expires_at__lte=timezone.now()).delete()
        row = HeldForm.objects.create(
            user=owner,
            path=request.path[:300],
            data=fields,
            expires_at=timezone.now() + timedelta(seconds=settings.HELD_FORM_SECONDS),
        )
        # Audited without what was typed: the row id and the page only.
        audit_record(actor=owner, action=AuditAction.CREATE, obj=row, changes={"path": row.path, "fields": len(fields)})
        request.session[HELD_FORM_KEY] = {"id": str(row.public_id), "path": row.path}
        messages.info(request, "Your session had ended. Sign in again: what you typed is kept and filled back in.")
        target = request.headers.get("HX-Current-URL") or request.path
        return redirect_to_login(target if target.startswith("/") else request.path)
