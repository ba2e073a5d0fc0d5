"""The patient's safety plan: read, save a new version (stale version refused), its history."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import Patient
from clinic.access import Action, require
from clinic.audit import audit_record
from clinic.concurrency import StaleVersionError
from clinic.models import AuditAction, User
from outcomes.models import SafetyFollowUp
from patient_portal.models import SAFETY_PLAN_FIELDS, SafetyPlan, SafetyPlanVersion

MAX_STEP_LENGTH = 2000


def safety_plan_of(patient: Patient) -> SafetyPlan | None:
    return SafetyPlan.objects.filter(patient=patient).select_related("updated_by").first()


def last_reviewed_on(patient: Patient) -> date | None:
    """The last safety follow-up (outcomes) that recorded "safety plan reviewed"."""
    return (
        SafetyFollowUp.objects.filter(patient=patient, safety_plan_reviewed=True)
        .order_by("-assessed_on")
        .values_list("assessed_on", flat=True)
        .first()
    )


@transaction.atomic
def safety_plan_save(
    *, patient: Patient, actor: User, version: int | None, changes: dict[str, str], agreed_on: date | None = None
) -> SafetyPlan:
    """Save the six steps as a new version. `version` is what the editor read (0/None for a first plan)."""
    require(actor, Action.EDIT_CARE_PLAN)
    plan = SafetyPlan.objects.select_for_update().filter(patient=patient).first()
    current = plan.version if plan else None
    if plan is not None and version != current:
        raise StaleVersionError(current=plan)
    if plan is None and version not in (None, 0):
        raise ValidationError({"version": ["There is no safety plan yet: send version 0 or leave it out."]})
    errors = {
        name: [f"Keep this to {MAX_STEP_LENGTH} characters."]
        for name, text in changes.items()
        if name in SAFETY_PLAN_FIELDS and len(text or "") > MAX_STEP_LENGTH
    }
    if agreed_on and agreed_on > timezone.localdate():
        errors["agreed_on"] = ["The agreement date cannot be in the future."]
    if errors:
        raise ValidationError(errors)
    before = {name: getattr(plan, name) for name in SAFETY_PLAN_FIELDS} if plan else {}
    if plan is None:
        plan = SafetyPlan(patient=patient, updated_by=actor, version=1)
    else:
        plan.version += 1
    for name in SAFETY_PLAN_FIELDS:
        if name in changes:
            setattr(plan, name, (changes[name] or "").strip())
    plan.agreed_on = agreed_on
    plan.updated_by = actor
    plan.full_clean()
    plan.save()
    content = {name: getattr(plan, name) for name in SAFETY_PLAN_FIELDS}
    SafetyPlanVersion.objects.create(
        plan=plan, version=plan.version, content=content, agreed_on=agreed_on, saved_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if plan.version == 1 else AuditAction.UPDATE,
        obj=plan,
        patient_id=patient.public_id,
        # Which steps changed, never their words (clinical free text stays out of the audit trail).
        changes={
            "version": [current, plan.version],
            "steps_changed": [None, sorted(n for n in SAFETY_PLAN_FIELDS if before.get(n, "") != content[n])],
            "agreed_on": [None, agreed_on.isoformat() if agreed_on else None],
        },
    )
    return plan
