from typing import Any

from django.conf import settings
from django.http import HttpRequest

from clinic.access import Action, user_can


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the header shows: which menu entries the signed-in user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "caseload": user_can(user, Action.VIEW_CLINICAL),
            "patients": user_can(user, Action.MANAGE_STAFF),
            "staff": user_can(user, Action.MANAGE_STAFF),
            "audit": user_can(user, Action.VIEW_AUDIT),
            "new_patient": user_can(user, Action.CREATE_PATIENT),
            # Admins: the aggregate reports; clinicians: their caseload's registry and lists.
            "reports": user_can(user, Action.RUN_REPORTS) or user_can(user, Action.VIEW_CLINICAL),
            "search": user_can(user, Action.VIEW_DEMOGRAPHICS),
            "catalogs": user_can(user, Action.CONFIGURE_CATALOGS),
        }
    }


def session_timing(request: HttpRequest) -> dict[str, Any]:
    """For static/tandem/idle.js: when to warn, when the session ends, whether a held form waits."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_timing": {
            "warn_after": settings.IDLE_WARNING_SECONDS,
            "ends_after": settings.SESSION_COOKIE_AGE,
            # Only on the page the form was posted to (the sign-in sends the user back there).
            "held_form": (request.session.get("tandem_held_form") or {}).get("path") == request.path,
        }
    }
