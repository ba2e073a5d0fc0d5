"""What `careplans` has due today (feeds the one outbox, DESIGN.md).

These rules live here, not in careplans, because careplans never imports reminders (the
arrows are medications, therapy, outcomes -> reminders -> careplans -> clinic): the
reminders app registers them in its AppConfig.ready().

`care_plan_review`: an open care plan whose review date has been reached reminds every
active member of the patient's care team. One query for the whole clinic, however many
patients: the scan stays set-based (issue 3).

Other apps feed kinds of their own (therapy: `session_follow_up`, outcomes: `safety_alert`,
`measurement_due`, ...) through `reminders.outbox`; nothing here needs to know them.
"""

from collections.abc import Iterator
from datetime import date

from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from careplans.models import CarePlanStatus, CareTeamMember, CaseReview, Patient, PatientStatus
from careplans.selectors import active_team_members
from reminders.models import Reminder, ReminderKind
from reminders.outbox import DraftQuery, ReminderDraft, reminders_write

CARE_PLAN_SUBJECT = "careplans.careplan"


def _due_reviews(today: date, patients: QuerySet[Patient] | None = None) -> QuerySet[CareTeamMember]:
    """(open plan with review_date <= today, active team member) of active patients, minus the
    rows earlier scans wrote. (On SQLite a UUID casts without hyphens and the exclusion matches
    nothing; the insert's conflict-ignore then does the same job, only slower.)"""
    already_written = Reminder.objects.filter(
        kind=ReminderKind.CARE_PLAN_REVIEW,
        subject_type=CARE_PLAN_SUBJECT,
        subject_id=Cast(OuterRef("patient__care_plans__public_id"), output_field=CharField()),
        due_date=OuterRef("patient__care_plans__review_date"),
        recipient=OuterRef("user_id"),
    )
    members = active_team_members() if patients is None else active_team_members().filter(patient__in=patients)
    return (
        members.filter(
            patient__status=PatientStatus.ACTIVE,
            patient__care_plans__review_date__lte=today,
            patient__care_plans__status__in=[CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD],
        )
        .exclude(Exists(already_written))
        .order_by()
    )


def care_plan_review_due(today: date, patients: QuerySet[Patient] | None = None) -> DraftQuery:
    """One reminder per (open plan with review_date <= today, active team member).

    The due date is the plan's review date, so the reminder is written once per review
    date: tomorrow's scan offers the same rows and the database skips them; moving the
    review date to a later day yields a new reminder when that day comes. One INSERT ...
    SELECT on PostgreSQL (issue 14); a clinician holding two roles on one team gets one
    reminder (DISTINCT). `patients`: only theirs (the incremental rescan).
    """
    review_date = F("patient__care_plans__review_date")
    rows = (
        _due_reviews(today, patients)
        .annotate(
            r_kind=Value(ReminderKind.CARE_PLAN_REVIEW.value),
            r_subject_type=Value(CARE_PLAN_SUBJECT),
            r_subject_id=Cast("patient__care_plans__public_id", output_field=CharField()),
            r_detail=Concat(Value("Care plan review due "), Cast(review_date, output_field=CharField())),
        )
        .values_list("user_id", "patient_id", "r_kind", "r_subject_type", "r_subject_id", review_date, "r_detail")
        .distinct()
    )
    return DraftQuery(queryset=rows, drafts=lambda: _review_drafts(today, patients))


def _review_drafts(today: date, patients: QuerySet[Patient] | None = None) -> Iterator[ReminderDraft]:
    rows = (
        _due_reviews(today, patients)
        .values_list("user_id", "patient_id", "patient__care_plans__public_id", "patient__care_plans__review_date")
        .distinct()
    )
    for user_id, patient_id, plan_public_id, review_date in rows.iterator(chunk_size=5000):
        assert review_date is not None, "the filter above needs review_date <= today"
        yield ReminderDraft(
            recipient_id=user_id,
            patient_id=patient_id,
            kind=ReminderKind.CARE_PLAN_REVIEW,
            subject_type=CARE_PLAN_SUBJECT,
            subject_id=str(plan_public_id),
            due_date=review_date,
            detail=f"Care plan review due {review_date.isoformat()}",
        )


def case_review_reminders_write(review: CaseReview, reviewer_ids: list[int]) -> None:
    """Registered with careplans.case_reviews: a flag tells the reviewers on the team, in the
    flag's transaction."""
    reminders_write(
        ReminderDraft(
            recipient_id=user_id,
            patient_id=review.patient_id,
            kind=ReminderKind.CASE_REVIEW,
            subject_type=CaseReview._meta.label_lower,
            subject_id=str(review.public_id),
            due_date=timezone.localdate(),
            detail="Flagged for discussion at case review.",
        )
        for user_id in reviewer_ids
    )


DEMO_MESSAGES = [
    (
        "Did sleep worsen after the dose increase? They mentioned waking at 4 am in session.",
        "Yes, since the increase. Let us review the timing of the dose at Friday's visit.",
    ),
    (
        "Homework completion has dropped the last three weeks; worth asking about side effects?",
        "Will ask. No new side effects reported at the last check.",
    ),
    ("PHQ-9 is flat since week 6. Shall we bring this to case review?", ""),
]


def seed_demo_deliver(clinic) -> None:  # type: ignore[no-untyped-def]
    """The last demo seeder: e-mail what the demo data put in the outbox (count + link, as always),
    as `run_reminders` would. Without it a fresh demo, which has no Celery beat, showed "111
    reminders overdue" on the delivery page 15 minutes later (issue 16 item 9)."""
    from reminders import delivery

    for recipient_id in delivery.recipients_to_deliver():
        try:
            delivery.reminders_deliver_to(recipient_id=recipient_id)
        except delivery.TransientDeliveryError:
            continue  # the mail server is not there: the outbox keeps them for run_reminders


def seed_demo_reminders(clinic) -> None:  # type: ignore[no-untyped-def]
    """Demo data (seed_demo): a few team threads, then today's scan, so the inbox has content.

    Only patients this run created get messages, so a re-run adds nothing; the scan is
    idempotent. `seed_demo_deliver`, the last seeder, e-mails the outbox.
    """
    from django.utils import timezone

    from careplans.selectors import care_team_of
    from reminders import delivery, team_messages

    for patient, (question, answer) in zip(clinic.patients, DEMO_MESSAGES, strict=False):
        team = {member.role: member.user for member in care_team_of(patient)}
        therapist, prescriber = team.get("therapist"), team.get("prescriber")
        if therapist is None or prescriber is None or therapist == prescriber:
            continue
        first = team_messages.team_message_send(patient=patient, actor=therapist, body=question, recipient=prescriber)
        if answer:
            team_messages.team_message_send(patient=patient, actor=prescriber, body=answer, reply_to=first)
    delivery.reminders_scan(today=timezone.localdate())
