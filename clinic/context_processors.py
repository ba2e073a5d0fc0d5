from typing import Any

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
            "new_patient": user_can(user, Action.CREATE_PATIENT),
            "reports": user_can(user, Action.RUN_REPORTS),
        }
    }
