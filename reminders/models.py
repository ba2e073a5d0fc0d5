"""The one reminder outbox (DESIGN.md) and the care team's messages that feed it.

Both models moved here from careplans (issue 10). Their tables, constraint and index names
are the ones careplans created: the move changed Django's state, not the database (see
migrations/0001_initial.py), hence `db_table` and the literal `careplans_` prefix below.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from careplans.models import Patient
from clinic.models import ClinicalRecord, PublicIdModel


class ReminderKind(models.TextChoices):
    SAFETY_ALERT = "safety_alert", "Safety alert"
    MONITORING_DUE = "monitoring_due", "Monitoring due"
    MEASUREMENT_DUE = "measurement_due", "Measurement due"
    SESSION_FOLLOW_UP = "session_follow_up", "Session follow-up"
    CARE_PLAN_REVIEW = "care_plan_review", "Care plan review"
    NOT_IMPROVING = "not_improving", "Not improving"
    CASE_REVIEW = "case_review", "Case review"
    TEAM_MESSAGE = "team_message", "Team message"
    CRITICAL_RESULT = "critical_result", "Critical result"
    INJECTION_DUE = "injection_due", "Injection due"
    INJECTION_MISSED = "injection_missed", "Injection missed"
    # A patient's between-session check-in: mood 2 or below, or medication not taken 3 times running.
    CHECK_IN_CONCERN = "check_in_concern", "Check-in concern"
    # To the clinic admins: reminders gave up e-mailing after 24 h of retries (counts only).
    DELIVERY_FAILED = "delivery_failed", "Reminder delivery failed"
    # To the clinic admins: one user opened many patients' records in an hour (counts only).
    BULK_READ = "bulk_read", "Bulk-read alarm"
    # To the other clinic admins and the care team: a role grant or a care-team change made by a
    # clinic admin; an emergency (break-glass) opening of a chart (issue 12 items 1, 6). Names only.
    ACCESS_CHANGE = "access_change", "Access change"
    BREAK_GLASS = "break_glass", "Emergency access"


# Kinds that are e-mailed at once instead of in the next batch (issue: urgent kinds).
URGENT_REMINDER_KINDS = frozenset(
    {
        ReminderKind.SAFETY_ALERT,
        ReminderKind.CRITICAL_RESULT,
        ReminderKind.DELIVERY_FAILED,
        ReminderKind.BULK_READ,
        ReminderKind.BREAK_GLASS,
    }
)


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not yet e-mailed
    SENDING = "sending", "Sending"  # claimed by a delivery task
    SENT = "sent", "Sent"  # e-mailed; open in the inbox
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"  # gave up after retries; still shown in the inbox


class Reminder(PublicIdModel):
    """The one outbox (DESIGN.md). Unique on (kind, subject, due date, recipient): writing
    the same reminder twice is a no-op. `detail` stays behind login: it is never e-mailed."""

    # No index of its own: every index below that starts with the recipient serves its lookups
    # (and the PROTECT check), and the scan writes millions of rows into eight indexes, not ten.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminders", db_index=False
    )
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=24, choices=ReminderKind.choices)
    subject_type = models.CharField(max_length=60)  # e.g. "careplans.careplan"
    subject_id = models.CharField(max_length=64)  # the subject's public id
    due_date = models.DateField()
    detail = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=14, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    urgent = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The outbox's retry timer: a pending row is not tried before this (empty: at once). The
    # backoff lives here, not in delayed broker messages, so a Redis restart loses no retry.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set by the delivery task that claimed the row; only that task may mark it sent (CE-2).
    # Kept when the row goes back to pending, so a resend of the same rows reuses it and
    # carries the same Message-ID (reminders.delivery.message_id).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "careplans_reminder"  # the table kept its first home's name (moved from careplans)
        ordering = ["-urgent", "due_date", "id"]
        indexes = [
            # The sweeper's lookup of rows stuck in `sending` (and a claim's own rows): partial, so
            # the scan's millions of new `pending` rows are not written into it (issue 14). Other
            # lookups by status use reminders_status_next_idx.
            models.Index(
                fields=["claimed_at"], condition=Q(status=ReminderStatus.SENDING), name="reminders_sending_idx"
            ),
            models.Index(fields=["status", "next_attempt_at"], name="reminders_status_next_idx"),
            # The header badge on every page (reminders.inbox.inbox_open_count): every column
            # the COUNT reads is in this index, so PostgreSQL answers it from the index alone
            # (an index-only scan of the user's open rows), whatever the outbox size (issue 14).
            models.Index(
                fields=["recipient", "status", "due_date", "snoozed_until", "patient"], name="reminders_badge_idx"
            ),
            # GET /api/v1/reminders/ and the inbox: one recipient's rows in the list's order, so a
            # page reads its 50 rows instead of sorting all of the recipient's (issue 14).
            models.Index(
                fields=["recipient", "-urgent", "-due_date", "-created_at", "-id"], name="reminders_list_order_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id", "due_date", "recipient"],
                name="careplans_%(class)s_once_per_subject_due_recipient",
            ),
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="careplans_%(class)s_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=ReminderStatus.values), name="careplans_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ReminderStatus.SNOOZED) | Q(snoozed_until__isnull=False),
                name="careplans_%(class)s_snooze_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"reminder {self.public_id} ({self.kind}, {self.status})"


class TeamMessage(ClinicalRecord):
    """A short note between care-team members about one patient (issue 3: care-team messages).

    `recipient` empty means the whole team. A reply points at the thread's first message
    (`thread`), so a conversation stays together on the chart's Team tab. Each recipient
    also gets a `team_message` reminder in their inbox.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="team_messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    thread = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")
    body = models.CharField(max_length=1000)

    class Meta:
        db_table = "careplans_teammessage"  # the table kept its first home's name (moved from careplans)
        ordering = ["created_at", "id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["patient", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="careplans_%(class)s_body_required"),
            models.CheckConstraint(
                condition=Q(recipient__isnull=True) | ~Q(recipient=models.F("author")),
                name="careplans_%(class)s_not_to_self",
            ),
        ]

    def __str__(self) -> str:
        return f"team message {self.public_id}"


class ReminderScanRun(models.Model):
    """One run of the daily scan (reminders.delivery.reminders_scan). The latest finished run
    decides the next one: the same day -> an incremental rescan of the patients marked since;
    a new day, or none finished -> the full scan."""

    scan_date = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    full = models.BooleanField()
    patients = models.PositiveIntegerField(null=True, blank=True)  # rescanned patients (incremental)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"reminder scan {self.pk} of {self.scan_date}"


class ReminderScanMark(models.Model):
    """A patient whose data a daily rule reads changed: written by a database trigger on the
    rule's input tables (reminders.scan_marks), in the transaction of the change. The next
    same-day rescan reads them, evaluates the rules for those patients only, and deletes the
    marks it read. One row per change (no unique patient): the id is the watermark."""

    id = models.BigAutoField(primary_key=True)
    patient_id = models.BigIntegerField()  # no FK: a trigger writes it; a mark of a deleted patient is harmless

    def __str__(self) -> str:
        return f"reminder scan mark of patient {self.patient_id}"
