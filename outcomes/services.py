"""Every write of the outcomes app: questionnaires, safety alerts and their follow-up.

Each function runs in one transaction, validates with full_clean(), and writes its
audit event in that transaction (SECURITY.md AL-3). Audit rows name the
instrument and dates, never answers or scores.
"""

import dataclasses
from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import Patient
from careplans.selectors import active_team_members
from clinic.access import Action, require
from clinic.audit import audit_record
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditAction, User
from outcomes.cssrs import CssrsAnswers, CssrsTriage, cssrs_skip_errors, cssrs_triage
from outcomes.models import (
    HIGH_RISK_OUTCOMES,
    URGENT_PLANS,
    Assessment,
    AssessmentSource,
    CssrsScreen,
    SafetyAlert,
    SafetyAlertRecipients,
    SafetyAlertStatus,
    SafetyFollowUp,
)
from outcomes.scoring import assessment_score
from reminders.models import ReminderKind
from reminders.outbox import ReminderDraft, reminders_write
from reminders.safety_signals import SafetySignal, SafetySource


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
    """Score and store a completed questionnaire. A positive PHQ-9 item 9 opens a safety alert
    for the recipients the clinic chose (SafetyAlertRecipients) in this same transaction."""
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


def safety_alert_recipients(patient: Patient) -> list[int]:
    """The team members in the roles the clinic chose (SafetyAlertRecipients; by default
    prescriber, therapist and care manager); if none of them is on the team, everyone on it,
    so an alert always reaches a person."""
    team = active_team_members().filter(patient=patient)
    roles = SafetyAlertRecipients.current().roles()
    recipients = sorted(set(team.filter(role__in=roles).values_list("user_id", flat=True)))
    return recipients or sorted(set(team.values_list("user_id", flat=True)))


SAFETY_ALERT_DETAILS = {
    SafetySource.PHQ9_ITEM9: "PHQ-9 item 9 answered above 0: a suicide-risk follow-up is needed today.",
    SafetySource.CSSRS: "C-SSRS screener positive: a suicide-risk follow-up is needed today.",
    SafetySource.SESSION_RISK: "Risk raised in a therapy session: a suicide-risk follow-up is needed today.",
}


@transaction.atomic
def safety_alert_open(signal: SafetySignal) -> SafetyAlert:
    """The one handler of every safety signal (registered in OutcomesConfig.ready()): open the
    alert and write the urgent outbox rows; delivery starts when this commits. A session raises
    at most one alert (re-saving it with the risk still raised is not a new signal)."""
    patient = signal.patient
    if signal.session_public_id is not None:
        existing = SafetyAlert.objects.filter(session_public_id=signal.session_public_id).first()
        if existing is not None:
            return existing
    alert = SafetyAlert(
        patient=patient,
        source=signal.source,
        source_date=signal.source_date,
        assessment=signal.assessment,
        cssrs_screen=signal.cssrs_screen,
        session_public_id=signal.session_public_id,
        high_risk=signal.high_risk,
    )
    alert.full_clean()
    alert.save()
    audit_record(
        actor=signal.actor,
        action=AuditAction.CREATE,
        obj=alert,
        patient_id=patient.public_id,
        changes={"status": [None, alert.status], "source": [None, alert.source]},
    )
    detail = SAFETY_ALERT_DETAILS[SafetySource(signal.source)]
    if signal.high_risk:
        detail = "High risk (Columbia triage): " + detail
    reminders_write(
        ReminderDraft(
            recipient_id=user_id,
            patient_id=patient.pk,
            kind=ReminderKind.SAFETY_ALERT,
            subject_type=SafetyAlert._meta.label_lower,
            subject_id=str(alert.public_id),
            due_date=timezone.localdate(),
            detail=detail,
        )
        for user_id in safety_alert_recipients(patient)
    )
    return alert


def safety_alert_raise(*, assessment: Assessment, actor: User) -> SafetyAlert:
    """A PHQ-9 with item 9 above 0 (CLINICAL.md b4)."""
    return safety_alert_open(
        SafetySignal(
            patient=assessment.patient,
            actor=actor,
            source=SafetySource.PHQ9_ITEM9,
            source_date=assessment.administered_on,
            assessment=assessment,
        )
    )


@transaction.atomic
def cssrs_screen_record(*, patient: Patient, actor: User, answers: CssrsAnswers, screened_on: date) -> CssrsScreen:
    """Store a C-SSRS screener with its Columbia triage (CLINICAL.md b5). Any YES opens a
    safety alert (high risk when the triage is high) in this same transaction; a negative
    screener closes nothing."""
    require(actor, Action.ENTER_ASSESSMENT)
    errors = cssrs_skip_errors(answers)
    if screened_on > timezone.localdate():
        errors["screened_on"] = ["A screener cannot be dated in the future."]
    elif screened_on < patient.birth_date:
        errors["screened_on"] = ["This date is before the patient's birth date."]
    if errors:
        raise ValidationError(errors)
    triage = cssrs_triage(answers)
    screen = CssrsScreen(
        patient=patient, screened_on=screened_on, triage=triage, entered_by=actor, **dataclasses.asdict(answers)
    )
    screen.full_clean()
    screen.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=screen,
        patient_id=patient.public_id,
        changes={"screened_on": [None, screened_on.isoformat()]},
    )
    if screen.positive:
        safety_alert_open(
            SafetySignal(
                patient=patient,
                actor=actor,
                source=SafetySource.CSSRS,
                source_date=screened_on,
                cssrs_screen=screen,
                high_risk=triage == CssrsTriage.HIGH,
            )
        )
    return screen


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


@transaction.atomic
def safety_alert_recipients_update(*, actor: User, roles: Sequence[str]) -> SafetyAlertRecipients:
    """A clinic admin chooses which care-team roles a safety alert goes to."""
    require(actor, Action.CONFIGURE_CATALOGS)
    row = SafetyAlertRecipients.objects.select_for_update().filter(pk=1).first() or SafetyAlertRecipients.current()
    before = row.roles()
    for role in SafetyAlertRecipients.ROLE_FIELDS:
        setattr(row, role, role in roles)
    row.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=row,
        object_id="1",
        changes={"roles": [before, row.roles()]},
    )
    return row
