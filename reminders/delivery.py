"""Delivering the outbox: scan -> claim -> e-mail -> mark sent, plus the sweeper and the overdue alarm.

The lifecycle of a Reminder row (reminders.models.ReminderStatus):

    pending --claim--> sending --e-mail accepted--> sent --(inbox)--> acknowledged/snoozed/done
       ^                  |  \\--transient error, attempts left--> pending (retried with backoff)
       |                  |   \\-permanent error or no attempts left--> failed (still in the inbox)
       +---- sweeper -----+  (a worker died while the row was `sending`)

Exactly once (SECURITY.md CE-2): a row is claimed by one conditional UPDATE
(`status = pending` in the WHERE clause; on PostgreSQL the candidates are first
locked with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other
instead of queueing) which stamps the row with a fresh `claim_token`; only the holder
of that token can mark it sent. Nothing is lost (CE-3): a worker killed between claim
and mark leaves rows in `sending`; the sweeper puts them back to `pending` after
REMINDER_SENDING_TIMEOUT, which is far longer than the SMTP timeout, so a live worker
is never swept. The one window left is a worker dying after the mail server accepted
the mail and before the mark: that mail is sent again (at least once, never lost).

E-mails carry a count and a link only: no patient, kind, detail or name (DP-2). The
content is built from an integer, so nothing else can leak into it.
"""

import logging
import smtplib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from clinic.models import User
from reminders.models import Reminder, ReminderStatus
from reminders.outbox import ReminderDraft, reminder_rules, reminders_write

logger = logging.getLogger("reminders.delivery")
# Operator alerts (CE-6) go to their own logger so a deployment can route them to a pager.
alarm_logger = logging.getLogger("tandem.alerts")

UNDELIVERED = (ReminderStatus.PENDING, ReminderStatus.SENDING)


def max_attempts() -> int:
    return int(getattr(settings, "REMINDER_MAX_ATTEMPTS", 5))


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt `attempts + 1`: base * 2^(attempts-1), capped below the broker's
    visibility timeout so no retry ETA outlives it (CE-3)."""
    base = int(getattr(settings, "REMINDER_RETRY_BACKOFF_SECONDS", 60))
    cap = int(getattr(settings, "REMINDER_RETRY_BACKOFF_MAX_SECONDS", 1800))
    return min(cap, base * 2 ** max(0, attempts - 1))


def sending_timeout() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "REMINDER_SENDING_TIMEOUT_SECONDS", 600)))


def overdue_after() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "REMINDER_OVERDUE_MINUTES", 15)))


# --- Scan: every registered rule -> outbox rows ------------------------------------------------


@dataclass
class ScanResult:
    offered: dict[str, int] = field(default_factory=dict)  # rule -> drafts offered (existing rows skipped)
    failed: list[str] = field(default_factory=list)  # rules that raised; the others still ran


def _chunks(drafts: Iterable[ReminderDraft], size: int) -> Iterator[list[ReminderDraft]]:
    iterator = iter(drafts)
    while chunk := list(islice(iterator, size)):
        yield chunk


def reminders_scan(*, today: date, chunk_size: int = 5000) -> ScanResult:
    """Run every registered rule for `today` and write its drafts (bulk insert, conflicts ignored).

    Idempotent: the unique (kind, subject, due date, recipient) makes a second scan, or two
    scans at once, a no-op. Each rule runs in its own transaction, so a broken rule cannot
    stop the others; it is logged by name only (exception messages might carry data).
    """
    result = ScanResult()
    for name, rule in sorted(reminder_rules().items()):
        offered = 0
        try:
            with transaction.atomic():
                for chunk in _chunks(rule(today), chunk_size):
                    offered += reminders_write(chunk)
        except Exception as error:
            logger.error("reminder rule failed: rule=%s error=%s", name, type(error).__name__)
            result.failed.append(name)
            continue
        result.offered[name] = offered
        logger.info("reminder rule ran: rule=%s offered=%d", name, offered)
    return result


# --- Claim, send, mark -----------------------------------------------------------------------


class TransientDeliveryError(Exception):
    """The mail server said "try later"; the rows are pending again. `retry_in` seconds."""

    def __init__(self, retry_in: int) -> None:
        super().__init__(f"transient delivery failure, retry in {retry_in}s")
        self.retry_in = retry_in


@dataclass(frozen=True)
class Claim:
    token: UUID
    reminder_ids: list[int]
    urgent: bool


def _ready_to_try(now: datetime) -> Q:
    """Pending rows whose backoff has passed: attempt n+1 waits backoff_seconds(n) after attempt n."""
    ready = Q(attempts=0) | Q(claimed_at__isnull=True)
    for attempts in range(1, max_attempts()):
        ready |= Q(attempts=attempts, claimed_at__lte=now - timedelta(seconds=backoff_seconds(attempts)))
    return ready


def deliverable(*, now: datetime, urgent_only: bool = False) -> QuerySet[Reminder]:
    """Pending rows that are due (today or earlier) and not waiting out a backoff."""
    rows = Reminder.objects.filter(status=ReminderStatus.PENDING, due_date__lte=timezone.localdate(now))
    rows = rows.filter(_ready_to_try(now))
    return rows.filter(urgent=True) if urgent_only else rows


def recipients_to_deliver(*, now: datetime | None = None, urgent_only: bool = False) -> list[int]:
    """User ids with something to e-mail: one delivery task (one e-mail) per id."""
    now = now or timezone.now()
    return list(
        deliverable(now=now, urgent_only=urgent_only)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )


def reminders_claim(*, recipient_id: int, now: datetime, urgent_only: bool = False, limit: int = 500) -> Claim | None:
    """Atomically move the recipient's deliverable rows to `sending` under a fresh token."""
    token = uuid.uuid4()
    candidates = deliverable(now=now, urgent_only=urgent_only).filter(recipient_id=recipient_id).order_by("id")
    claim_fields = {
        "status": ReminderStatus.SENDING,
        "claim_token": token,
        "claimed_at": now,
        "attempts": F("attempts") + 1,
        "updated_at": now,
    }
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: lock the candidates, skipping rows another worker holds.
            ids = list(candidates.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            if not ids:
                return None
            Reminder.objects.filter(id__in=ids, status=ReminderStatus.PENDING).update(**claim_fields)
        else:
            # SQLite: one UPDATE statement is atomic; `status = pending` in its WHERE decides the winner.
            Reminder.objects.filter(id__in=candidates.values("id")[:limit], status=ReminderStatus.PENDING).update(
                **claim_fields
            )
        claimed = list(Reminder.objects.filter(claim_token=token).values_list("id", "urgent"))
    if not claimed:
        return None
    return Claim(token=token, reminder_ids=[pk for pk, _ in claimed], urgent=any(u for _, u in claimed))


def reminder_email(*, count: int, urgent: bool) -> tuple[str, str]:
    """Subject and body: a count and a link, nothing else (DP-2). Takes only an int on purpose."""
    inbox_url = settings.SITE_URL.rstrip("/") + reverse("reminders:inbox")
    noun = "reminder" if count == 1 else "reminders"
    if urgent:
        subject = "Tandem: urgent reminder waiting in your inbox"
        opening = f"You have {count} new {noun} in your Tandem inbox, at least one of them urgent."
    else:
        subject = f"Tandem: {count} new {noun}"
        opening = f"You have {count} new {noun} in your Tandem inbox."
    body = (
        f"{opening}\n\n"
        f"Open your inbox to see them: {inbox_url}\n\n"
        "For privacy, this e-mail never carries patient details; sign in to read them.\n"
    )
    return subject, body


def _is_transient(error: Exception) -> bool:
    """4xx SMTP replies, dropped connections and timeouts are worth retrying; 5xx are not."""
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    return isinstance(error, OSError)  # SMTPServerDisconnected, ConnectionError, TimeoutError, ...


def _mark(token: UUID, **values: object) -> int:
    return Reminder.objects.filter(claim_token=token, status=ReminderStatus.SENDING).update(
        updated_at=timezone.now(), **values
    )


def _release(claim: Claim, *, retry: bool) -> int:
    """Give the claimed rows back: pending for another try, or failed when out of attempts.
    Returns the seconds to wait before the next try (0: nothing left to retry)."""
    rows = Reminder.objects.filter(claim_token=claim.token, status=ReminderStatus.SENDING)
    now = timezone.now()
    if retry:
        rows.filter(attempts__gte=max_attempts()).update(status=ReminderStatus.FAILED, updated_at=now)
        attempts = list(rows.values_list("attempts", flat=True))
        rows.update(status=ReminderStatus.PENDING, updated_at=now)
        return backoff_seconds(min(attempts)) if attempts else 0
    rows.update(status=ReminderStatus.FAILED, updated_at=now)
    return 0


@dataclass(frozen=True)
class Delivery:
    sent: int = 0  # reminders covered by the e-mail just sent (or delivered to the inbox only)
    failed: int = 0


def reminders_deliver_to(*, recipient_id: int, urgent_only: bool = False) -> Delivery:
    """Claim the recipient's due reminders and send ONE e-mail saying how many there are.

    Raises TransientDeliveryError (rows pending again) when the mail server asks to retry.
    """
    now = timezone.now()
    claim = reminders_claim(recipient_id=recipient_id, now=now, urgent_only=urgent_only)
    if claim is None:
        return Delivery()
    count = len(claim.reminder_ids)
    recipient = User.objects.only("id", "email", "is_active").get(pk=recipient_id)
    if not recipient.is_active:
        failed = _mark(claim.token, status=ReminderStatus.FAILED)
        logger.warning("reminders not delivered: recipient=%s inactive count=%d", recipient_id, failed)
        return Delivery(failed=failed)
    if recipient.email:
        subject, body = reminder_email(count=count, urgent=claim.urgent)
        try:
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email]).send()
        except Exception as error:
            transient = _is_transient(error)
            retry_in = _release(claim, retry=transient or not isinstance(error, smtplib.SMTPException))
            logger.warning(
                "reminder e-mail failed: recipient=%s count=%d error=%s retry_in=%s",
                recipient_id,
                count,
                type(error).__name__,
                retry_in or "never",
            )
            if retry_in:
                raise TransientDeliveryError(retry_in) from None
            given_up = Reminder.objects.filter(id__in=claim.reminder_ids[:50]).values_list("public_id", flat=True)
            alarm_logger.error(
                "reminder e-mail gave up: recipient=%s reminders=%s",
                recipient_id,
                ",".join(str(public_id) for public_id in given_up),
            )
            return Delivery(failed=count)
    else:
        logger.info("recipient has no e-mail address; inbox only: recipient=%s", recipient_id)
    sent = _mark(claim.token, status=ReminderStatus.SENT, sent_at=timezone.now())
    logger.info("reminders delivered: recipient=%s count=%d urgent=%s", recipient_id, sent, claim.urgent)
    return Delivery(sent=sent)


# --- Sweeper and overdue alarm ---------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    failed: int


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """Rows left in `sending` longer than the timeout belonged to a worker that died: retry them."""
    now = now or timezone.now()
    stuck = Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=now - sending_timeout())
    failed = stuck.filter(attempts__gte=max_attempts()).update(
        status=ReminderStatus.FAILED, claim_token=None, updated_at=now
    )
    # claimed_at cleared: the rows waited out the sending timeout, longer than any backoff.
    requeued = stuck.update(status=ReminderStatus.PENDING, claim_token=None, claimed_at=None, updated_at=now)
    if requeued or failed:
        logger.warning("reminder sweeper: requeued=%d failed=%d (rows stuck in sending)", requeued, failed)
    return SweepResult(requeued=requeued, failed=failed)


def reminders_overdue(*, now: datetime | None = None) -> QuerySet[Reminder]:
    """Undelivered more than REMINDER_OVERDUE_MINUTES after they fell due (CE-6).

    A reminder "falls due" at the start of its due date, or when it was written if later.
    """
    cutoff = (now or timezone.now()) - overdue_after()
    return Reminder.objects.filter(
        status__in=UNDELIVERED, due_date__lte=timezone.localdate(cutoff), created_at__lte=cutoff
    )


def reminders_overdue_alarm(*, now: datetime | None = None, show: int = 50) -> list[UUID]:
    """Raise the operator alert (ids only) when anything is overdue; returns the ids shown."""
    overdue = reminders_overdue(now=now)
    ids = list(overdue.order_by("due_date", "id").values_list("public_id", flat=True)[:show])
    if ids:
        total = overdue.count() if len(ids) == show else len(ids)
        alarm_logger.error(
            "OVERDUE reminders: %d undelivered more than %d minutes past due; ids: %s",
            total,
            int(overdue_after().total_seconds() // 60),
            ",".join(str(i) for i in ids),
        )
    return ids


@dataclass(frozen=True)
class DeliveryStatus:
    by_status: dict[str, int]
    overdue_count: int
    overdue_ids: list[UUID]
    failed_ids: list[UUID]
    overdue_minutes: int


def delivery_status(*, now: datetime | None = None, show: int = 50) -> DeliveryStatus:
    """What the clinic admin's delivery page shows: counts and ids, never patients (CE-6)."""
    counts = dict(Reminder.objects.order_by().values_list("status").annotate(n=Count("id")))
    overdue = reminders_overdue(now=now)
    return DeliveryStatus(
        by_status={status: counts.get(status, 0) for status in ReminderStatus.values},
        overdue_count=overdue.count(),
        overdue_ids=list(overdue.order_by("due_date", "id").values_list("public_id", flat=True)[:show]),
        failed_ids=list(
            Reminder.objects.filter(status=ReminderStatus.FAILED)
            .order_by("-updated_at", "-id")
            .values_list("public_id", flat=True)[:show]
        ),
        overdue_minutes=int(overdue_after().total_seconds() // 60),
    )
