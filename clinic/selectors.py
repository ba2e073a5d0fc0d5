"""Reads of staff accounts and the audit trail, for clinic admins."""

from uuid import UUID

from django.db.models import QuerySet

from clinic.access import Action, user_can, visible_or_404
from clinic.models import AuditEvent, User


def staff_visible_to(user: User) -> QuerySet[User]:
    if not user_can(user, Action.MANAGE_STAFF):
        return User.objects.none()
    return User.objects.order_by("last_name", "first_name", "username")


def staff_member_for(*, user: User, public_id: UUID | str) -> User:
    return visible_or_404(staff_visible_to(user), user=user, public_id=public_id)


def clinicians() -> QuerySet[User]:
    """Active clinicians, for choosing care-team members."""
    return (
        User.objects.filter(is_active=True)
        .exclude(is_prescriber=False, is_therapist=False, is_care_manager=False)
        .order_by("last_name", "first_name")
    )


def audit_events_visible_to(user: User, *, patient_id: UUID | None = None) -> QuerySet[AuditEvent]:
    if not user_can(user, Action.VIEW_AUDIT):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.select_related("actor").order_by("-id")
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    return events
