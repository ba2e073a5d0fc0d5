"""Every write of the outcomes app: questionnaires, safety alerts and their follow-up.

Each function runs in one transaction, validates with full_clean(), and writes its
audit event in that transaction (SECURITY.md AL-3). Audit rows name the
instrument and dates, never answers or scores.
"""

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import Patient, TeamRole
from careplans.selectors import active_team_members
from clinic.access import Action, require
from clinic.audit import audit_record
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditAction, User
from outcomes.models import (
    HIGH_RISK_OUTCOMES,
    URGENT_PLANS,
    Assessment,
    AssessmentSource,
    SafetyAlert,
    SafetyAlertStatus,
    SafetyFollowUp,
)
from outcomes.scoring import assessment_score
from reminders.models import ReminderKind
from reminders.outbox import ReminderDraft, reminders_write

SAFETY_ALERT_ROLES = (TeamRole.PRESCRIBER, TeamRole.THERAPIST)
SAFETY_ALERT_DETAIL = "PHQ-9 item 9 answered above 0: a suicide-risk follow-up is needed today."


def _administered_on_clean(patient: Patient, administered_on: date) -> None:
    if administered_on > timezone.localdate():
        raise ValidationError({"administered_on": ["A questionnaire cannot be dated in the future."]})
    if administered_on < patient.birth_date:
        raise ValidationError({"administered_on": ["This date is before the patient's birth date."]})


@transaction.atomic
def assessment_record(
    *,
    patient: Patient,
    actor: User,
    instrument: str,
    responses: Sequence[object],
    administered_on: date,
    source: str = AssessmentSource.CLINIC,
) -> Assessment:
    """Score and store a completed questionnaire. A positive PHQ-9 item 9 raises a safety alert
    to the prescriber(s) and therapist(s) in this same transaction."""
    require(actor, Action.ENTER_ASSESSMENT)
    score = assessment_score(instrument_code=instrument, responses=responses)
    _administered_on_clean(patient, administered_on)
    assessment = Assessment(
        patient=patient,
        instrument=score.instrument.code,
        administered_on=administered_on,
        responses=list(score.responses),
        total_score=score.total,
        severity=score.severity,
        safety_item_positive=score.safety_item_positive,
        entered_by=actor,
        source=source,
    )
    assessment.full_clean()
    assessment.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=assessment,
        patient_id=patient.public_id,
        changes={"instrument": [None, assessment.instrument], "administered_on": [None, administered_on.isoformat()]}
        | ({"source": [None, source]} if source != AssessmentSource.CLINIC else {}),
    )
    if score.safety_item_positive:
        safety_alert_raise(assessment=assessment, actor=actor)
    return assessment


def _safety_alert_recipients(patient: Patient) -> list[int]:
    """The prescriber(s) and therapist(s) on the team; if there are none, everyone on it,
    so an alert always reaches a person."""
    team = active_team_members().filter(patient=patient)
    recipients = sorted(set(team.filter(role__in=SAFETY_ALERT_ROLES).values_list("user_id", flat=True)))
    return recipients or sorted(set(team.values_list("user_id", flat=True)))


@transaction.atomic
def safety_alert_raise(*, assessment: Assessment, actor: User) -> SafetyAlert:
    """Open the alert and write the urgent outbox rows; delivery starts when this commits."""
    alert = SafetyAlert(patient=assessment.patient, assessment=assessment)
    alert.full_clean()
    alert.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=alert,
        patient_id=assessment.patient.public_id,
        changes={"status": [None, alert.status], "assessment": [None, str(assessment.public_id)]},
    )
    reminders_write(
        ReminderDraft(
            recipient_id=user_id,
            patient_id=assessment.patient_id,
            kind=ReminderKind.SAFETY_ALERT,
            subject_type=SafetyAlert._meta.label_lower,
            subject_id=str(alert.public_id),
            due_date=timezone.localdate(),
            detail=SAFETY_ALERT_DETAIL,
        )
        for user_id in _safety_alert_recipients(assessment.patient)
    )
    return alert


@transaction.atomic
def safety_follow_up_record(
    *,
    patient: Patient,
    actor: User,
    format: str,
    outcome: str,
    plan: str,
    plan_details: str,
    assessed_on: date | None = None,
    safety_plan_reviewed: bool = False,
) -> SafetyFollowUp:
    """Record the risk assessment; it answers every alert of the patient open at this moment."""
    require(actor, Action.RECORD_SAFETY_FOLLOW_UP)
    open_alerts = list(SafetyAlert.objects.select_for_update().filter(patient=patient, status=SafetyAlertStatus.OPEN))
    if not open_alerts:
        raise ValidationError({"patient": ["This patient has no open safety alert to follow up."]})
    assessed_on = assessed_on or timezone.localdate()
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": ["A risk assessment cannot be dated in the future."]})
    follow_up = SafetyFollowUp(
        patient=patient,
        assessed_on=assessed_on,
        format=format,
        outcome=outcome,
        plan=plan,
        plan_details=plan_details.strip(),
        recorded_by=actor,
        safety_plan_reviewed=safety_plan_reviewed,
    )
    if outcome in HIGH_RISK_OUTCOMES and plan not in URGENT_PLANS:
        raise ValidationError(
            {
                "plan": [
                    "Intent, a plan or recent suicidal behaviour needs a same-day evaluation or emergency "
                    "services (Columbia triage)."
                ]
            }
        )
    follow_up.full_clean()
    follow_up.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=follow_up,
        patient_id=patient.public_id,
        changes={
            "outcome": [None, outcome],
            "plan": [None, plan],
            "assessed_on": [None, assessed_on.isoformat()],
            "safety_plan_reviewed": [None, safety_plan_reviewed],
        },
    )
    for alert in open_alerts:
        alert.status = SafetyAlertStatus.RESOLVED
        alert.follow_up = follow_up
        alert.save(update_fields=["status", "follow_up", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=alert,
            patient_id=patient.public_id,
            changes={
                "status": [SafetyAlertStatus.OPEN, SafetyAlertStatus.RESOLVED],
                "follow_up": [None, str(follow_up.public_id)],
            },
        )
    return follow_up


@transaction.atomic
def assessment_enter_in_error(*, assessment: Assessment, actor: User, reason: str) -> Assessment:
    """Mark a questionnaire entered in error: it leaves lists, summaries and the timeline but
    stays on record. A safety alert it raised stays open until followed up (CLINICAL.md b4)."""
    require(actor, Action.ENTER_ASSESSMENT)
    return entered_in_error_mark(
        record=assessment, actor=actor, reason=reason, patient_id=assessment.patient.public_id, what="questionnaire"
    )
