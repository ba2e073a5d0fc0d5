"""Every write to patients, care teams and care plans (STYLE.md rule 3).

Each function runs in one transaction, validates with full_clean(), and writes
its audit event in that same transaction (SECURITY.md AL-3).
"""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careplans.diagnoses import diagnoses_clean
from careplans.models import (
    RELAPSE_PLAN_FIELDS,
    CarePlan,
    CarePlanStatus,
    CarePlanVersion,
    CareTeamMember,
    Goal,
    GoalStatus,
    GoalStatusChange,
    Patient,
    PlanAgreement,
    RelapsePreventionPlan,
    TeamRole,
)
from clinic.access import SELF_CARE_TEAM_MESSAGE, Action, require, require_not_self
from clinic.access_notices import ACCESS_CHANGE, AccessNotice, access_notice_send
from clinic.audit import audit_record, diff, snapshot
from clinic.concurrency import claim_version
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditAction, AuditEvent, Role, User
from clinic.undo import within_undo_window

PATIENT_FIELDS = ("mrn", "given_name", "family_name", "birth_date", "preferred_name", "phone", "email", "status")
CARE_PLAN_FIELDS = ("status", "summary", "diagnoses", "review_date")
GOAL_FIELDS = ("domain", "description", "target", "due_date", "status")

# Which team role a clinician takes when they create a patient, by their first user role.
_DEFAULT_TEAM_ROLE = {
    Role.PRESCRIBER: TeamRole.PRESCRIBER,
    Role.THERAPIST: TeamRole.THERAPIST,
    Role.CARE_MANAGER: TeamRole.CARE_MANAGER,
}

# STYLE.md rule 7: goal status moves only along these edges.
GOAL_TRANSITIONS: dict[str, frozenset[str]] = {
    GoalStatus.PROPOSED: frozenset({GoalStatus.ACTIVE, GoalStatus.REVISED, GoalStatus.DISCONTINUED}),
    GoalStatus.ACTIVE: frozenset({GoalStatus.ACHIEVED, GoalStatus.REVISED, GoalStatus.DISCONTINUED}),
    GoalStatus.REVISED: frozenset({GoalStatus.ACTIVE, GoalStatus.ACHIEVED, GoalStatus.DISCONTINUED}),
    GoalStatus.ACHIEVED: frozenset({GoalStatus.ACTIVE}),
    GoalStatus.DISCONTINUED: frozenset({GoalStatus.PROPOSED}),
}

CARE_PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    CarePlanStatus.DRAFT: frozenset({CarePlanStatus.ACTIVE, CarePlanStatus.COMPLETED}),
    CarePlanStatus.ACTIVE: frozenset({CarePlanStatus.ON_HOLD, CarePlanStatus.COMPLETED}),
    CarePlanStatus.ON_HOLD: frozenset({CarePlanStatus.ACTIVE, CarePlanStatus.COMPLETED}),
    CarePlanStatus.COMPLETED: frozenset(),
}


def _check_transition(table: dict[str, frozenset[str]], old: str, new: str) -> None:
    if old != new and new not in table[old]:
        raise ValidationError({"status": f"Cannot change status from {old} to {new}."})


# --- Patients and care teams ------------------------------------------------------


@transaction.atomic
def patient_create(
    *, actor: User, mrn: str, given_name: str, family_name: str, birth_date: date, **optional: Any
) -> Patient:
    """Register a patient. A clinician who does so joins its care team (DESIGN.md API contract)."""
    require(actor, Action.CREATE_PATIENT)
    patient = Patient(
        mrn=mrn, given_name=given_name, family_name=family_name, birth_date=birth_date, created_by=actor, **optional
    )
    patient.full_clean()
    patient.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=patient,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(patient, PATIENT_FIELDS)),
    )
    team_role = next((_DEFAULT_TEAM_ROLE[Role(r)] for r in actor.roles if Role(r) in _DEFAULT_TEAM_ROLE), None)
    if team_role is not None:
        # The one way onto a team by one's own hand: the patient one has just registered
        # (DESIGN.md API contract). It opens no existing record, so nobody is notified.
        _care_team_member_save(patient=patient, user=actor, role=team_role, actor=actor)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, actor: User, **changes: Any) -> Patient:
    require(actor, Action.EDIT_DEMOGRAPHICS)
    before = snapshot(patient, PATIENT_FIELDS)
    for name, value in changes.items():
        if name not in PATIENT_FIELDS:
            raise ValueError(f"{name} is not an editable patient field")
        setattr(patient, name, value)
    patient.full_clean()
    patient.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=patient,
        patient_id=patient.public_id,
        changes=diff(before, snapshot(patient, PATIENT_FIELDS)),
    )
    return patient


def _announce_if_by_admin(notice: AccessNotice) -> None:
    """A care-team change made by a clinic admin is told to the other admins and the team
    (issue 12 item 1): an admin who never reads charts must not quietly open one to anyone.
    The team's own changes among themselves are their everyday work and are not announced."""
    if Role.CLINIC_ADMIN in notice.actor.roles:
        access_notice_send(notice)


def care_team_member_add(*, patient: Patient, user: User, role: str, actor: User) -> CareTeamMember:
    """Add a clinician to the team; the other clinic admins and the team are told (issue 12 item 1).

    Nobody adds themselves (separation of duties): checked before the transaction, so the
    refusal's audit row stays."""
    require(actor, Action.MANAGE_CARE_TEAM)
    require_not_self(
        actor, user, SELF_CARE_TEAM_MESSAGE, object_type="careplans.careteammember", object_id=str(patient.public_id)
    )
    return _care_team_member_add_announced(patient=patient, user=user, role=role, actor=actor)


@transaction.atomic
def _care_team_member_add_announced(*, patient: Patient, user: User, role: str, actor: User) -> CareTeamMember:
    member, event = _care_team_member_save(patient=patient, user=user, role=role, actor=actor)
    _announce_if_by_admin(
        AccessNotice(
            kind=ACCESS_CHANGE,
            actor=actor,
            summary=f"Care team of {patient.mrn}: {user} added as {member.get_role_display().lower()} by {actor}.",
            subject_type="clinic.auditevent",
            subject_id=str(event.pk),
            patient_pk=patient.pk,
        )
    )
    return member


@transaction.atomic
def _care_team_member_save(
    *, patient: Patient, user: User, role: str, actor: User
) -> tuple[CareTeamMember, AuditEvent]:
    require(actor, Action.MANAGE_CARE_TEAM)
    if not user.is_active or not user.is_clinician:
        raise ValidationError({"user": "Only an active clinician can join a care team."})
    member = CareTeamMember(patient=patient, user=user, role=role, added_by=actor)
    member.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise ValidationError({"user": "This clinician already holds that role on the care team."}) from None
    event = audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=member,
        patient_id=patient.public_id,
        changes={"user": [None, str(user.public_id)], "role": [None, role]},
    )
    return member, event


@transaction.atomic
def care_team_member_end(*, member: CareTeamMember, actor: User) -> CareTeamMember:
    """End a membership. Access goes with it on the very next request (AC-6)."""
    require(actor, Action.MANAGE_CARE_TEAM)
    if member.ended_at is not None:
        return member
    member.ended_at = timezone.now()
    member.ended_by = actor
    member.save(update_fields=["ended_at", "ended_by", "updated_at"])
    event = audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=member,
        patient_id=member.patient.public_id,
        changes={"ended_at": [None, member.ended_at.isoformat()]},
    )
    _announce_if_by_admin(
        AccessNotice(
            kind=ACCESS_CHANGE,
            actor=actor,
            summary=f"Care team of {member.patient.mrn}: {member.user} ended as "
            f"{member.get_role_display().lower()} by {actor}.",
            subject_type="clinic.auditevent",
            subject_id=str(event.pk),
            patient_pk=member.patient.pk,
        )
    )
    return member


@transaction.atomic
def care_team_member_end_undo(*, member: CareTeamMember, actor: User) -> CareTeamMember:
    """Take back an ended membership: only its ender, only within the undo window (clinic.undo).
    The membership continues as before (same row, same start); the audit trail shows both steps."""
    require(actor, Action.MANAGE_CARE_TEAM)
    member = CareTeamMember.objects.select_for_update().select_related("patient", "user").get(pk=member.pk)
    if member.ended_at is None:
        return member
    if member.ended_by_id != actor.pk or not within_undo_window(member.ended_at):
        raise ValidationError("This can no longer be undone: add the clinician to the care team again instead.")
    ended_at = member.ended_at
    member.ended_at = None
    member.ended_by = None
    try:
        with transaction.atomic():
            member.save(update_fields=["ended_at", "ended_by", "updated_at"])
    except IntegrityError:
        raise ValidationError("This clinician already holds that role on the care team again.") from None
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=member,
        patient_id=member.patient.public_id,
        changes={"ended_at": [ended_at.isoformat(), None]},
    )
    return member


# --- Care plans -------------------------------------------------------------------


@transaction.atomic
def care_plan_create(*, patient: Patient, actor: User, **fields: Any) -> CarePlan:
    require(actor, Action.EDIT_CARE_PLAN)
    if CarePlan.objects.filter(patient=patient).exclude(status=CarePlanStatus.COMPLETED).exists():
        raise ValidationError({"patient": "This patient already has an open care plan."})
    if "diagnoses" in fields:
        fields["diagnoses"] = diagnoses_clean(fields["diagnoses"])
    plan = CarePlan(patient=patient, created_by=actor, updated_by=actor, **fields)
    plan.full_clean()
    plan.save()
    relapse = RelapsePreventionPlan.objects.create(care_plan=plan, updated_by=actor)
    _version_keep(plan, relapse, actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=plan,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(plan, CARE_PLAN_FIELDS)),
    )
    return plan


@transaction.atomic
def care_plan_update(*, care_plan: CarePlan, actor: User, version: int | None, **changes: Any) -> CarePlan:
    """Save plan fields if `version` is still current; else StaleVersionError (409)."""
    require(actor, Action.EDIT_CARE_PLAN)
    plan = claim_version(care_plan, version)
    before = snapshot(plan, CARE_PLAN_FIELDS)
    if "diagnoses" in changes:
        changes["diagnoses"] = diagnoses_clean(changes["diagnoses"])
    if "status" in changes:
        _check_transition(CARE_PLAN_TRANSITIONS, plan.status, changes["status"])
    for name, value in changes.items():
        if name not in CARE_PLAN_FIELDS:
            raise ValueError(f"{name} is not an editable care plan field")
        setattr(plan, name, value)
    plan.updated_by = actor
    plan.full_clean()
    plan.save()
    _version_keep(plan, getattr(plan, "relapse_plan", None), actor)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        patient_id=plan.patient.public_id,
        changes=diff(before, snapshot(plan, CARE_PLAN_FIELDS)),
    )
    return plan


@transaction.atomic
def relapse_plan_update(*, care_plan: CarePlan, actor: User, version: int | None, **changes: Any) -> CarePlan:
    """Edit the relapse-prevention plan; it shares the care plan's version (one plan, one lock)."""
    require(actor, Action.EDIT_CARE_PLAN)
    plan = claim_version(care_plan, version)
    relapse, _ = RelapsePreventionPlan.objects.get_or_create(care_plan=plan)
    before = snapshot(relapse, RELAPSE_PLAN_FIELDS)
    for name, value in changes.items():
        if name not in RELAPSE_PLAN_FIELDS:
            raise ValueError(f"{name} is not a relapse-prevention field")
        setattr(relapse, name, value)
    relapse.updated_by = actor
    relapse.full_clean()
    relapse.save()
    plan.updated_by = actor
    plan.save(update_fields=["updated_by", "updated_at"])
    _version_keep(plan, relapse, actor)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=relapse,
        patient_id=plan.patient.public_id,
        changes=diff(before, snapshot(relapse, RELAPSE_PLAN_FIELDS)),
    )
    return plan


def _version_keep(
    plan: CarePlan, relapse: RelapsePreventionPlan | None, actor: User, *, restored_from: int | None = None
) -> CarePlanVersion:
    """Keep the text of the version just claimed (issue 16 item 4): every save is in the history."""
    relapse_text = {name: getattr(relapse, name) if relapse else "" for name in RELAPSE_PLAN_FIELDS}
    return CarePlanVersion.objects.create(
        care_plan=plan,
        version=plan.version,
        saved_by=actor,
        status=plan.status,
        summary=plan.summary,
        diagnoses=plan.diagnoses,
        review_date=plan.review_date,
        restored_from=restored_from,
        **relapse_text,
    )


@transaction.atomic
def care_plan_restore(*, care_plan: CarePlan, actor: User, version: int | None, from_version: int) -> CarePlan:
    """Bring back an old version's text as a new version (nothing in the history is rewritten).

    The text is the plan's summary and diagnoses and the relapse-prevention plan; status and
    review date stay as they are now, because status moves only along CARE_PLAN_TRANSITIONS.
    `version` is the current version the user saw: stale -> StaleVersionError (409)."""
    require(actor, Action.EDIT_CARE_PLAN)
    old = CarePlanVersion.objects.filter(care_plan=care_plan, version=from_version).first()
    if old is None:
        raise ValidationError({"from_version": f"This plan has no saved version {from_version}."})
    plan = claim_version(care_plan, version)
    relapse, _ = RelapsePreventionPlan.objects.get_or_create(care_plan=plan)
    changed = [name for name in ("summary", "diagnoses") if getattr(plan, name) != getattr(old, name)]
    changed += [name for name in RELAPSE_PLAN_FIELDS if getattr(relapse, name) != getattr(old, name)]
    plan.summary, plan.diagnoses = old.summary, old.diagnoses
    for name in RELAPSE_PLAN_FIELDS:
        setattr(relapse, name, getattr(old, name))
    relapse.updated_by = actor
    relapse.full_clean()
    relapse.save()
    plan.updated_by = actor
    plan.full_clean()
    plan.save()
    _version_keep(plan, relapse, actor, restored_from=from_version)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        patient_id=plan.patient.public_id,
        # Which fields, never their text (SECURITY.md: no clinical free text in audit rows).
        changes={
            "version": [version, plan.version],
            "restored_from_version": [None, from_version],
            "restored_fields": [None, changed],
        },
    )
    return plan


def _touch_plan(plan: CarePlan, actor: User) -> None:
    plan.updated_by = actor
    plan.save(update_fields=["updated_by", "updated_at"])


@transaction.atomic
def goal_create(
    *,
    care_plan: CarePlan,
    actor: User,
    domain: str,
    description: str,
    target: str = "",
    due_date: date | None = None,
    status: str = GoalStatus.PROPOSED,
) -> Goal:
    require(actor, Action.EDIT_CARE_PLAN)
    goal = Goal(
        care_plan=care_plan,
        domain=domain,
        description=description,
        target=target,
        due_date=due_date,
        status=status,
        status_changed_by=actor,
        created_by=actor,
    )
    goal.full_clean()
    goal.save()
    GoalStatusChange.objects.create(goal=goal, from_status="", to_status=goal.status, changed_by=actor)
    _touch_plan(care_plan, actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=goal,
        patient_id=care_plan.patient.public_id,
        changes=diff({}, snapshot(goal, GOAL_FIELDS)),
    )
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, actor: User, version: int | None, **changes: Any) -> Goal:
    require(actor, Action.EDIT_CARE_PLAN)
    goal = claim_version(goal, version)
    before = snapshot(goal, GOAL_FIELDS)
    old_status = goal.status
    new_status = changes.get("status", goal.status)
    _check_transition(GOAL_TRANSITIONS, goal.status, new_status)
    if new_status != goal.status:
        goal.status_changed_at = timezone.now()
        goal.status_changed_by = actor
    for name, value in changes.items():
        if name not in GOAL_FIELDS:
            raise ValueError(f"{name} is not an editable goal field")
        setattr(goal, name, value)
    goal.full_clean()
    goal.save()
    if new_status != old_status:
        GoalStatusChange.objects.create(
            goal=goal, from_status=old_status, to_status=new_status, changed_by=actor, changed_at=goal.status_changed_at
        )
    _touch_plan(goal.care_plan, actor)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=goal,
        patient_id=goal.care_plan.patient.public_id,
        changes=diff(before, snapshot(goal, GOAL_FIELDS)),
    )
    return goal


@transaction.atomic
def goal_enter_in_error(*, goal: Goal, actor: User, reason: str) -> Goal:
    require(actor, Action.EDIT_CARE_PLAN)
    return entered_in_error_mark(
        record=goal, actor=actor, reason=reason, patient_id=goal.care_plan.patient.public_id, what="goal"
    )


@transaction.atomic
def plan_agreement_record(
    *, care_plan: CarePlan, actor: User, kind: str, agreed_on: date, participants: str, agreement: str
) -> PlanAgreement:
    require(actor, Action.EDIT_CARE_PLAN)
    record = PlanAgreement(
        care_plan=care_plan,
        kind=kind,
        agreed_on=agreed_on,
        participants=participants,
        agreement=agreement,
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    _touch_plan(care_plan, actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        patient_id=care_plan.patient.public_id,
        changes=diff({}, snapshot(record, ("kind", "agreed_on", "participants", "agreement"))),
    )
    return record


def chart_opened(*, patient: Patient, actor: User) -> None:
    """Opening a chart is a read of PHI: audit it (SECURITY.md decisions: every chart open)."""
    audit_record(actor=actor, action=AuditAction.READ, obj=patient, patient_id=patient.public_id)
