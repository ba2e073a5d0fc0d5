"""Writing collaborative-care minutes: checked, saved and audited in one transaction."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import Patient
from careplans.selectors import patients_on_care_team_of
from clinic.access import Action, require
from clinic.audit import audit_record
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditAction, User
from cocm.models import MAX_MINUTES, Activity, CareMinutes

# How far back time may be logged: the month just closed is still being billed, older time
# is a correction for the billing office, not a care manager's entry.
LOG_BACK_DAYS = 62


@transaction.atomic
def care_minutes_log(*, patient: Patient, actor: User, day: date, minutes: int, activity: str) -> CareMinutes:
    require(actor, Action.LOG_CARE_MINUTES)
    if not patients_on_care_team_of(actor).filter(pk=patient.pk).exists():
        raise ValidationError({"patient": ["You are not on this patient's care team."]})
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if day > today:
        errors["day"] = ["The day cannot be in the future."]
    elif (today - day).days > LOG_BACK_DAYS:
        errors["day"] = [f"Log time within {LOG_BACK_DAYS} days; ask the billing office to correct older months."]
    if not 1 <= int(minutes) <= MAX_MINUTES:
        errors["minutes"] = [f"Enter from 1 to {MAX_MINUTES} minutes (a longer day is several entries)."]
    if activity not in Activity.values:
        errors["activity"] = ["Choose an activity from the list."]
    if errors:
        raise ValidationError(errors)
    entry = CareMinutes(patient=patient, logged_by=actor, day=day, minutes=int(minutes), activity=activity)
    entry.full_clean()
    entry.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=entry,
        patient_id=patient.public_id,
        changes={"day": [None, day.isoformat()], "minutes": [None, entry.minutes], "activity": [None, activity]},
    )
    return entry


def care_minutes_enter_in_error(*, entry: CareMinutes, actor: User, reason: str) -> CareMinutes:
    """Withdraw an entry (kept, hidden, audited): care managers on the team only."""
    require(actor, Action.LOG_CARE_MINUTES)
    return entered_in_error_mark(record=entry, actor=actor, reason=reason, patient_id=entry.patient.public_id)
