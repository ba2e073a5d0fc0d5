"""What a patient sends back through a link: a questionnaire (scored and stored by outcomes, so
the item-9 safety alert opens in the same transaction) or a check-in (which may raise a concern
for the care team).
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import TeamRole
from careplans.selectors import active_team_members
from clinic.audit import audit_record
from clinic.models import AuditAction
from outcomes import services as outcome_services
from outcomes.models import Assessment, AssessmentSource
from patient_portal import links
from patient_portal.models import CheckIn, LinkPurpose, LinkState, MedicationTaken, PatientLink, PortalSettings
from reminders.models import ReminderKind
from reminders.outbox import ReminderDraft, reminders_write

T = TypeVar("T")

# Check-in concerns (issue 17 item 3; the thresholds are the issue's, set with the clinic).
LOW_MOOD_AT_MOST = 2
MISSED_IN_A_ROW = 3
CONCERN_ROLES = (TeamRole.PRESCRIBER, TeamRole.CARE_MANAGER)
CHECK_IN_FIELDS = ("mood", "sleep_hours", "activity_minutes", "medication_taken", "note")


@dataclass(frozen=True)
class QuestionnaireResult:
    assessment: Assessment
    crisis_resources: str  # empty unless PHQ-9 item 9 was above 0


def _submit(token: str, address: str | None, purpose: str, write: Callable[[PatientLink], T]) -> T:
    """Resolve the link (its failures are audited in their own transaction, so they stay on record),
    then lock it and write in one transaction; bad answers are audited as a failure too."""
    link = links.link_resolve(token, address=address)
    if link.purpose != purpose:
        links.audit_failure(link, "wrong_purpose")
        raise ValidationError({"__all__": [f"This link is not for a {LinkPurpose(purpose).label.lower()}."]})
    try:
        with transaction.atomic():
            locked = PatientLink.objects.select_for_update().select_related("patient", "created_by").get(pk=link.pk)
            if locked.state() != LinkState.OPEN:  # used by a second submit a moment ago
                raise links.LinkGone(locked.state())
            return write(locked)
    except links.LinkGone as gone:
        links.audit_failure(link, gone.state)
        raise
    except ValidationError:
        links.audit_failure(link, "invalid_answers")
        raise


def questionnaire_submit(*, token: str, responses: Any, address: str | None) -> QuestionnaireResult:
    """Score and store the answers as a self-report (entered under the clinician who sent the link)."""

    def write(link: PatientLink) -> QuestionnaireResult:
        if not isinstance(responses, list):
            raise ValidationError({"responses": ["Send a list with one answer per item."]})
        assessment = outcome_services.assessment_record(
            patient=link.patient,
            actor=link.created_by,
            instrument=link.instrument,
            responses=responses,
            administered_on=timezone.localdate(),
            source=AssessmentSource.SELF_REPORT,
        )
        links.link_mark_used(link, what="assessment", record_id=str(assessment.public_id))
        crisis = PortalSettings.current().crisis_resources if assessment.safety_item_positive else ""
        return QuestionnaireResult(assessment=assessment, crisis_resources=crisis)

    return _submit(token, address, LinkPurpose.QUESTIONNAIRE, write)


def _int_in(data: dict, name: str, low: int, high: int, *, required: bool, errors: dict) -> int | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            errors[name] = [f"Please answer this question ({name.replace('_', ' ')} {low} to {high})."]
        return None
    try:
        number = int(str(value))
    except ValueError:
        errors[name] = [f"Enter a whole number from {low} to {high}."]
        return None
    if isinstance(value, bool) or not low <= number <= high:
        errors[name] = [f"Enter a whole number from {low} to {high}."]
        return None
    return number


def check_in_clean(data: dict) -> dict[str, Any]:
    """The check-in answers, or a ValidationError naming each wrong field."""
    errors: dict[str, list[str]] = {}
    mood = _int_in(data, "mood", 0, 10, required=True, errors=errors)
    activity = _int_in(data, "activity_minutes", 0, 1440, required=False, errors=errors)
    sleep: Decimal | None = None
    raw_sleep = data.get("sleep_hours")
    if raw_sleep not in (None, ""):
        try:
            sleep = Decimal(str(raw_sleep)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            sleep = None
        if sleep is None or isinstance(raw_sleep, bool) or not Decimal(0) <= sleep <= Decimal(24):
            errors["sleep_hours"] = ["Enter the hours you slept, from 0 to 24."]
            sleep = None
    taken = data.get("medication_taken") or ""
    if taken not in [*MedicationTaken.values, ""]:
        errors["medication_taken"] = ["Choose yes, some of it, or no."]
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 1000:
        errors["note"] = ["Keep the note to 1,000 characters."]
    if errors:
        raise ValidationError(errors)
    return {
        "mood": mood,
        "sleep_hours": sleep,
        "activity_minutes": activity,
        "medication_taken": taken,
        "note": note.strip(),
    }


def check_in_submit(*, token: str, data: Any, address: str | None) -> CheckIn:
    return _submit(token, address, LinkPurpose.CHECK_IN, lambda link: _check_in_write(link, data))


def _check_in_write(link: PatientLink, data: Any) -> CheckIn:
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Send the check-in as an object."]})
    answers = check_in_clean(data)
    check_in = CheckIn(patient=link.patient, link=link, answered_on=timezone.localdate(), **answers)
    check_in.full_clean()
    check_in.save()
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        obj=check_in,
        patient_id=link.patient.public_id,
        changes={"answered_on": [None, check_in.answered_on.isoformat()]},  # never the answers
    )
    links.link_mark_used(link, what="check_in", record_id=str(check_in.public_id))
    concerns = check_in_concerns(check_in)
    if concerns:
        _concern_write(check_in, concerns)
    return check_in


def check_in_concerns(check_in: CheckIn) -> list[str]:
    """Why this check-in needs the team: mood <= 2, or the third "no" to medication in a row."""
    found = []
    if check_in.mood <= LOW_MOOD_AT_MOST:
        found.append(f"mood {check_in.mood}/10")
    recent = list(
        CheckIn.objects.filter(patient=check_in.patient)
        .exclude(medication_taken="")
        .order_by("-answered_on", "-created_at", "-id")
        .values_list("medication_taken", flat=True)[:MISSED_IN_A_ROW]
    )
    if len(recent) == MISSED_IN_A_ROW and all(taken == MedicationTaken.NO for taken in recent):
        found.append(f"medication not taken {MISSED_IN_A_ROW} check-ins in a row")
    return found


def _concern_write(check_in: CheckIn, concerns: list[str]) -> None:
    """An inbox item for the prescriber and care manager (everyone on the team if neither is)."""
    team = active_team_members().filter(patient=check_in.patient)
    recipients = sorted(set(team.filter(role__in=CONCERN_ROLES).values_list("user_id", flat=True))) or sorted(
        set(team.values_list("user_id", flat=True))
    )
    reminders_write(
        ReminderDraft(
            recipient_id=user_id,
            patient_id=check_in.patient_id,
            kind=ReminderKind.CHECK_IN_CONCERN,
            subject_type=CheckIn._meta.label_lower,
            subject_id=str(check_in.public_id),
            due_date=check_in.answered_on,
            detail=f"Check-in: {'; '.join(concerns)}. Contact the patient.",
        )
        for user_id in recipients
    )
