from typing import Any

from django.http import HttpRequest

from clinic.access import Action, user_can
from reminders.inbox import InboxBadge


def inbox(request: HttpRequest) -> dict[str, Any]:
    """The header's Inbox entry and its open-reminder badge.

    The badge is lazy: its one COUNT query runs only if a template shows it (API responses
    and partials without the header never pay for it).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "inbox_badge": InboxBadge(user) if user_can(user, Action.VIEW_CLINICAL) else None,
        "reminder_delivery_link": user_can(user, Action.VIEW_AUDIT),
    }
