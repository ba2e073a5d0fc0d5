"""The clinician's inbox: what they see (selectors) and what they do with it (services).

A user sees only their own reminders, and only about patients still on their care team
(or about no patient at all): leaving a team hides its reminders at once (AC-6).

Status changes follow REMINDER_TRANSITIONS (STYLE.md rule 7) and are audited.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from careplans.chart import chart_tabs
from careplans.selectors import on_care_team_of, patients_on_care_team_of
from clinic.access import visible_or_404
from clinic.audit import audit_record
from clinic.models import AuditAction, User
from clinic.undo import within_undo_window
from reminders.models import Reminder, ReminderKind, ReminderStatus

# Not yet dealt with: counted by the header badge.
OPEN_STATUSES = (ReminderStatus.PENDING, ReminderStatus.SENDING, ReminderStatus.SENT, ReminderStatus.FAILED)
MAX_SNOOZE_DAYS = 365

# STYLE.md rule 7: where a reminder may go from each status. `done` is final.
REMINDER_TRANSITIONS: dict[str, frozenset[str]] = {
    ReminderStatus.PENDING: frozenset({ReminderStatus.ACKNOWLEDGED, ReminderStatus.SNOOZED, ReminderStatus.DONE}),
    ReminderStatus.SENDING: frozenset({ReminderStatus.ACKNOWLEDGED, ReminderStatus.SNOOZED, ReminderStatus.DONE}),
    ReminderStatus.SENT: frozenset({ReminderStatus.ACKNOWLEDGED, ReminderStatus.SNOOZED, ReminderStatus.DONE}),
    ReminderStatus.FAILED: frozenset({ReminderStatus.ACKNOWLEDGED, ReminderStatus.SNOOZED, ReminderStatus.DONE}),
    ReminderStatus.ACKNOWLEDGED: frozenset({ReminderStatus.SNOOZED, ReminderStatus.DONE}),
    ReminderStatus.SNOOZED: frozenset({ReminderStatus.ACKNOWLEDGED, ReminderStatus.SNOOZED, ReminderStatus.DONE}),
    ReminderStatus.DONE: frozenset(),
}

# Which chart tab a reminder links to. Tabs are registered by their apps; a kind whose tab
# is not installed links to the care-plan tab.
KIND_CHART_TAB: dict[str, str] = {
    ReminderKind.SAFETY_ALERT: "outcomes",
    ReminderKind.MEASUREMENT_DUE: "outcomes",
    ReminderKind.NOT_IMPROVING: "outcomes",
    ReminderKind.MONITORING_DUE: "medications",
    ReminderKind.CRITICAL_RESULT: "medications",
    ReminderKind.INJECTION_DUE: "medications",
    ReminderKind.INJECTION_MISSED: "medications",
    ReminderKind.SESSION_FOLLOW_UP: "therapy",
    ReminderKind.CARE_PLAN_REVIEW: "care_plan",
    ReminderKind.CASE_REVIEW: "care_plan",
    ReminderKind.TEAM_MESSAGE: "team",
    ReminderKind.ACCESS_CHANGE: "care_team",
    ReminderKind.BREAK_GLASS: "care_team",
}
# Where a clinic admin (no patient on the row: admins read no chart) reviews an access notice.
ADMIN_REVIEW_URL_NAMES: dict[str, str] = {
    ReminderKind.ACCESS_CHANGE: "clinic:audit_log",
    ReminderKind.BREAK_GLASS: "careplans:break_glass_report",
}


# --- Selectors ---------------------------------------------------------------------------


def _visible(user: User) -> Q:
    return Q(recipient=user) & (Q(patient__isnull=True) | Q(patient__in=patients_on_care_team_of(user)))


def open_q(today: date) -> Q:
    """Not yet dealt with, or a snooze that has run out."""
    return Q(status__in=OPEN_STATUSES, due_date__lte=today) | Q(status=ReminderStatus.SNOOZED, snoozed_until__lte=today)


def inbox_open_count(user: User) -> int:
    """The header badge, on every page: one COUNT over the user's own open rows (reminders_badge_idx),
    each checked against the care team by an indexed EXISTS (careplans.selectors.on_care_team_of),
    so its cost follows the user's reminders, not the clinic's patients (issue 14)."""
    if not user.is_authenticated:
        return 0
    visible = Q(patient__isnull=True) | on_care_team_of(user)
    return Reminder.objects.filter(Q(recipient=user) & visible & open_q(timezone.localdate())).count()


INBOX_VIEWS = ("open", "snoozed", "done")


def reminders_of(user: User) -> QuerySet[Reminder]:
    """All reminders the user may see, patient loaded."""
    return Reminder.objects.filter(_visible(user)).select_related("patient")


def inbox_for(user: User, *, view: str = "open", today: date | None = None) -> QuerySet[Reminder]:
    """The inbox page: most urgent, then newest first.

    open: what needs attention (including acknowledged, not yet done; snoozes that ran out);
    snoozed: waiting for their date; done: finished ones.
    """
    today = today or timezone.localdate()
    rows = reminders_of(user)
    if view == "snoozed":
        rows = rows.filter(status=ReminderStatus.SNOOZED, snoozed_until__gt=today)
    elif view == "done":
        rows = rows.filter(status=ReminderStatus.DONE)
    else:
        rows = rows.filter(open_q(today) | Q(status=ReminderStatus.ACKNOWLEDGED, due_date__lte=today))
    unseen_first = Case(When(open_q(today), then=Value(0)), default=Value(1), output_field=IntegerField())
    return rows.annotate(unseen=unseen_first).order_by("-urgent", "unseen", "-due_date", "-created_at", "-id")


def reminder_for(*, user: User, public_id: UUID | str) -> Reminder:
    """One of the user's own reminders, or an audited 404."""
    return visible_or_404(reminders_of(user), user=user, public_id=public_id)


def reminder_link(reminder: Reminder) -> str:
    """Where in the chart the reminder is about (no query: tabs are registered in memory)."""
    if reminder.kind == ReminderKind.DELIVERY_FAILED:
        return reverse("reminders:reminder_delivery")  # the clinic admin's alarm: retry from there
    patient = reminder.patient  # None without a patient_id (no query then)
    if patient is None and reminder.kind in ADMIN_REVIEW_URL_NAMES:
        url = reverse(ADMIN_REVIEW_URL_NAMES[reminder.kind])
        return url + (f"?event={reminder.subject_id}" if reminder.subject_type == "clinic.auditevent" else "")
    if patient is None:
        return reverse("reminders:inbox")
    tabs = {tab.key: tab for tab in chart_tabs()}
    tab = tabs.get(KIND_CHART_TAB.get(reminder.kind, "care_plan")) or tabs["care_plan"]
    try:
        url = reverse(tab.url_name, kwargs={"patient_id": patient.public_id})
    except NoReverseMatch:
        url = reverse("careplans:chart", kwargs={"patient_id": patient.public_id})
    if reminder.kind == ReminderKind.TEAM_MESSAGE:
        url += f"#message-{reminder.subject_id}"
    return url


@dataclass
class InboxBadge:
    """Lazy: the COUNT runs only when a template shows the badge, and only once."""

    user: User

    @cached_property
    def count(self) -> int:
        return inbox_open_count(self.user)


# --- Services ----------------------------------------------------------------------------


def _transition(*, reminder: Reminder, actor: User, to: str, **values: object) -> Reminder:
    if reminder.recipient_id != actor.pk:
        raise ValidationError("Only the recipient can change a reminder.")
    locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
    before = {"status": locked.status, "snoozed_until": locked.snoozed_until}
    if to not in REMINDER_TRANSITIONS[locked.status]:
        raise ValidationError({"status": f"A {locked.get_status_display().lower()} reminder cannot become {to}."})
    locked.status = to
    for name, value in values.items():
        setattr(locked, name, value)
    if to != ReminderStatus.SNOOZED:
        locked.snoozed_until = None
    locked.claim_token = None
    locked.full_clean()
    locked.save()
    after = {"status": locked.status, "snoozed_until": locked.snoozed_until}
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        patient_id=reminder.patient.public_id if reminder.patient is not None else None,
        changes={
            name: [str(before[name]) if before[name] else None, str(after[name]) if after[name] else None]
            for name in before
            if before[name] != after[name]
        },
    )
    locked.patient = reminder.patient  # keep what the caller loaded (templates use it)
    return locked


@transaction.atomic
def reminder_acknowledge(*, reminder: Reminder, actor: User) -> Reminder:
    return _transition(reminder=reminder, actor=actor, to=ReminderStatus.ACKNOWLEDGED, acknowledged_at=timezone.now())


@transaction.atomic
def reminder_snooze(*, reminder: Reminder, actor: User, until: date | None) -> Reminder:
    today = timezone.localdate()
    if until is None:
        raise ValidationError({"until": "Choose the date the reminder should come back."})
    if until <= today:
        raise ValidationError({"until": "Choose a date after today."})
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        raise ValidationError({"until": f"Snooze for at most {MAX_SNOOZE_DAYS} days."})
    return _transition(reminder=reminder, actor=actor, to=ReminderStatus.SNOOZED, snoozed_until=until)


@transaction.atomic
def reminder_complete(*, reminder: Reminder, actor: User) -> Reminder:
    return _transition(reminder=reminder, actor=actor, to=ReminderStatus.DONE, done_at=timezone.now())


@transaction.atomic
def reminder_undo_done(*, reminder: Reminder, actor: User) -> Reminder:
    """Take back "Mark done" (issue 16 item 9): within the undo window (clinic.undo), by its recipient.
    The reminder comes back as acknowledged (it was seen), so it is not e-mailed again; the one
    deliberate exception to REMINDER_TRANSITIONS, where done is otherwise final."""
    if reminder.recipient_id != actor.pk:
        raise ValidationError("Only the recipient can change a reminder.")
    locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if locked.status != ReminderStatus.DONE or not within_undo_window(locked.done_at):
        raise ValidationError({"status": "This can no longer be undone."})
    done_at = locked.done_at
    locked.status = ReminderStatus.ACKNOWLEDGED
    locked.acknowledged_at = locked.acknowledged_at or done_at
    locked.done_at = None
    locked.full_clean()
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        patient_id=reminder.patient.public_id if reminder.patient is not None else None,
        changes={"status": [ReminderStatus.DONE.value, ReminderStatus.ACKNOWLEDGED.value]},
    )
    locked.patient = reminder.patient
    return locked
