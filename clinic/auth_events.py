"""Audit sign-ins, sign-outs and failed sign-ins (SECURITY.md AL-1).

Django's auth signals are the one place every login path passes through. A failed
attempt records no username: people type passwords into that box by mistake.
"""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from clinic.audit import audit_record
from clinic.middleware import SESSION_RENEWED_KEY, SESSION_STARTED_KEY
from clinic.models import AuditAction, AuditOutcome


@receiver(user_logged_in, dispatch_uid="audit_login")
def _audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        # The 12-hour absolute limit counts from here, and the once-a-minute idle renewal
        # (clinic.middleware): signing in is itself a renewal, so the first page writes no session.
        now = timezone.now().isoformat()
        request.session[SESSION_STARTED_KEY] = now
        request.session[SESSION_RENEWED_KEY] = now
    audit_record(actor=user, action=AuditAction.LOGIN, object_type="session")


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT, object_type="session")


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _audit_login_failed(sender: Any, credentials: Any, request: Any = None, **kwargs: Any) -> None:
    audit_record(actor=None, action=AuditAction.LOGIN_FAILED, outcome=AuditOutcome.DENIED, object_type="session")
