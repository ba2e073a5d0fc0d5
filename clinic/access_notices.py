"""Who is told when someone's access changes (issue 12 items 1 and 6).

A role grant, a care-team change or a break-glass opening is announced here by the service that
made it, inside its transaction; the reminders app, above `clinic` and `careplans`, registers the
listener that writes the inbox items (reminders/access_notices.py), so neither imports it.
Notices carry ids and names of people only, never clinical text.
"""

from collections.abc import Callable
from dataclasses import dataclass

from clinic.models import User

ACCESS_CHANGE = "access_change"
BREAK_GLASS = "break_glass"


@dataclass(frozen=True)
class AccessNotice:
    kind: str  # ACCESS_CHANGE or BREAK_GLASS
    actor: User
    summary: str  # e.g. "T. Nguyen added to the care team as therapist" (no clinical text)
    subject_type: str  # what changed: "clinic.auditevent" (the audit row of the change) or a grant
    subject_id: str
    patient_pk: int | None = None  # the patient whose care team hears about it, if any


AccessNoticeListener = Callable[[AccessNotice], None]
_LISTENERS: list[AccessNoticeListener] = []


def access_notice_listener_register(listener: AccessNoticeListener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def access_notice_send(notice: AccessNotice) -> None:
    """Call inside the transaction of the change: if it rolls back, nobody is told."""
    for listener in _LISTENERS:
        listener(notice)
