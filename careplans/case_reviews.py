"""Systematic psychiatric case review (Collaborative Care; CLINICAL.md: Bao et al. 2015).

A care manager flags a patient "discuss at case review" (Action.FLAG_CASE_REVIEW);
the prescriber or psychiatric consultant records the review and its recommendations
(Action.RECORD_CASE_REVIEW), each of which becomes a CarePlanTask on the shared plan.
Services here check no permissions (views and API do); every write is audited in
its own transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from careplans.models import (
    CarePlan,
    CarePlanTask,
    CaseReview,
    CaseReviewStatus,
    Patient,
    TaskStatus,
    TeamRole,
)
from careplans.selectors import active_team_members, open_care_plan_of, patients_on_care_team_of
from clinic.access import Action, require, visible_or_404
from clinic.audit import audit_record
from clinic.models import AuditAction, User

REVIEWER_ROLES = (TeamRole.PSYCHIATRIC_CONSULTANT, TeamRole.PRESCRIBER)
UNREQUESTED_REASON = "Reviewed without a prior request."

# Who tells the reviewers about a flag: the reminders app registers its outbox writer here
# in its AppConfig.ready(), since careplans never imports reminders (reminders -> careplans).
# Called inside the flag's transaction with the review and the reviewers' user ids.
CaseReviewFlagged = Callable[[CaseReview, list[int]], None]
_ON_FLAGGED: list[CaseReviewFlagged] = []


def case_review_flagged_register(listener: CaseReviewFlagged) -> None:
    if listener not in _ON_FLAGGED:
        _ON_FLAGGED.append(listener)


@dataclass(frozen=True)
class Recommendation:
    description: str
    assigned_role: str = ""
    due_date: date | None = None


# --- Reads --------------------------------------------------------------------------


def open_case_review_of(patient: Patient) -> CaseReview | None:
    return (
        CaseReview.objects.filter(patient=patient, status=CaseReviewStatus.REQUESTED)
        .select_related("requested_by")
        .first()
    )


def case_reviews_of(patient: Patient) -> QuerySet[CaseReview]:
    return (
        CaseReview.objects.filter(patient=patient)
        .select_related("requested_by", "reviewed_by")
        .prefetch_related(Prefetch("tasks", queryset=CarePlanTask.objects.order_by("id")))
    )


def case_reviews_visible_to(user: User) -> QuerySet[CaseReview]:
    return (
        CaseReview.objects.filter(patient__in=patients_on_care_team_of(user))
        .select_related("patient", "requested_by", "reviewed_by")
        .prefetch_related(Prefetch("tasks", queryset=CarePlanTask.objects.order_by("id")))
    )


def case_review_for(*, user: User, public_id: UUID | str) -> CaseReview:
    return visible_or_404(case_reviews_visible_to(user), user=user, public_id=public_id)


def open_tasks_of(plan: CarePlan) -> QuerySet[CarePlanTask]:
    return (
        CarePlanTask.objects.filter(care_plan=plan, status=TaskStatus.OPEN)
        .select_related("source_review", "created_by")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )


def task_for(*, user: User, plan: CarePlan, public_id: UUID | str) -> CarePlanTask:
    return visible_or_404(
        CarePlanTask.objects.filter(care_plan=plan),
        user=user,
        public_id=public_id,
    )


# --- Writes -------------------------------------------------------------------------


@transaction.atomic
def case_review_flag(*, patient: Patient, actor: User, reason: str) -> CaseReview:
    """Put the patient on the next case-review list and tell the reviewers on the team."""
    require(actor, Action.FLAG_CASE_REVIEW)
    if open_case_review_of(patient) is not None:
        raise ValidationError({"patient": ["This patient is already on the case-review list."]})
    review = CaseReview(patient=patient, reason=reason.strip(), requested_by=actor)
    review.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:  # a colleague flagged the patient a moment ago
        raise ValidationError({"patient": ["This patient is already on the case-review list."]}) from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=review,
        patient_id=patient.public_id,
        changes={"status": [None, review.status], "reason": [None, review.reason]},
    )
    reviewers = sorted(
        set(active_team_members(roles=REVIEWER_ROLES).filter(patient=patient).values_list("user_id", flat=True))
    )
    for listener in _ON_FLAGGED:
        listener(review, reviewers)
    return review


def _task_create(*, plan: CarePlan, review: CaseReview, actor: User, item: Recommendation) -> CarePlanTask:
    task = CarePlanTask(
        care_plan=plan,
        description=item.description.strip(),
        assigned_role=item.assigned_role,
        due_date=item.due_date,
        source_review=review,
        created_by=actor,
    )
    task.full_clean()
    task.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=task,
        patient_id=plan.patient.public_id,
        changes={
            "description": [None, task.description],
            "assigned_role": [None, task.assigned_role],
            "due_date": [None, task.due_date.isoformat() if task.due_date else None],
            "source_review": [None, str(review.public_id)],
        },
    )
    return task


@transaction.atomic
def case_review_record(
    *, patient: Patient, actor: User, summary: str, recommendations: list[Recommendation]
) -> CaseReview:
    """Complete the open review (or record an unrequested one); each recommendation becomes
    an open task on the patient's care plan."""
    require(actor, Action.RECORD_CASE_REVIEW)
    items = [item for item in recommendations if item.description.strip()]
    if not summary.strip() and not items:
        raise ValidationError({"recommendations": ["Write the review's recommendations."]})
    plan = open_care_plan_of(patient)
    if items and plan is None:
        raise ValidationError({"recommendations": ["Start a care plan first: recommendations become its tasks."]})
    review = CaseReview.objects.select_for_update().filter(patient=patient, status=CaseReviewStatus.REQUESTED).first()
    if review is None:
        review = CaseReview(patient=patient, reason=UNREQUESTED_REASON, requested_by=actor)
    before_status = review.status if review.pk else None
    review.status = CaseReviewStatus.COMPLETED
    review.reviewed_by = actor
    review.reviewed_at = timezone.now()
    review.recommendations = "\n".join([summary.strip(), *(f"- {i.description.strip()}" for i in items)]).strip()
    review.full_clean(validate_constraints=False)
    review.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before_status else AuditAction.CREATE,
        obj=review,
        patient_id=patient.public_id,
        changes={"status": [before_status, review.status], "recommendations": [None, review.recommendations]},
    )
    for item in items:
        _task_create(plan=plan, review=review, actor=actor, item=item)  # type: ignore[arg-type]
    return review


@transaction.atomic
def care_plan_task_complete(*, task: CarePlanTask, actor: User) -> CarePlanTask:
    require(actor, Action.EDIT_CARE_PLAN)
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"status": ["Only an open task can be marked done."]})
    task.status = TaskStatus.DONE
    task.completed_by = actor
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_by", "completed_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=task,
        patient_id=task.care_plan.patient.public_id,
        changes={"status": [TaskStatus.OPEN, TaskStatus.DONE]},
    )
    return task
