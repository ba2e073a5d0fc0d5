"""The one "entered in error" mechanism for every clinical record (DESIGN.md: never hard-deleted).

Each app's service checks its own rule first (who may, which record may), then calls
`entered_in_error_mark`, which validates the reason, marks the row with who/when/why and
writes the audit event in the same transaction.
"""

from typing import TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import AuditAction, ClinicalRecord, User

R = TypeVar("R", bound=ClinicalRecord)

REASON_MAX_LENGTH = 500  # ClinicalRecord.entered_in_error_reason


@transaction.atomic
def entered_in_error_mark(*, record: R, actor: User, reason: str, patient_id: UUID, what: str = "entry") -> R:
    """Mark `record` entered in error. `what` names it in the message ("session", "goal", ...)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [f"Say why this {what} was entered in error."]})
    if record.entered_in_error_at is not None:
        raise ValidationError({"reason": [f"This {what} is already marked entered in error."]})
    record.entered_in_error_at = timezone.now()
    record.entered_in_error_by = actor
    record.entered_in_error_reason = reason[:REASON_MAX_LENGTH]
    fields = ["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"]
    if any(field.name == "updated_at" for field in record._meta.concrete_fields):
        fields.append("updated_at")
    record.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditAction.ENTER_IN_ERROR,
        obj=record,
        patient_id=patient_id,
        changes={"reason": [None, record.entered_in_error_reason]},
    )
    return record
