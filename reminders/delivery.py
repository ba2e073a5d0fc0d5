"""Delivering the outbox: scan -> claim -> e-mail -> mark sent, plus the sweeper and the overdue alarm.

The lifecycle of a Reminder row (reminders.models.ReminderStatus):

    pending --claim--> sending --e-mail accepted--> sent --(inbox)--> acknowledged/snoozed/done
       ^                  |  \\--transient error, attempts left--> pending, next_attempt_at = now + backoff
       |                  |   \\-permanent error or no attempts left--> failed (still in the inbox; the
       |                  |      clinic admins get a `delivery_failed` alarm; retried from the delivery
       |                  |      page or `manage.py retry_failed_reminders`)
       +---- sweeper -----+  (the claim's lease ran out: its worker died while the row was `sending`)

Exactly once (SECURITY.md CE-2): a row is claimed by one conditional UPDATE
(`status = pending` in the WHERE clause; on PostgreSQL the candidates are first
locked with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other
instead of queueing) which stamps the row with a `claim_token` and `claimed_at`; only the
holder of that claim can mark it sent. Nothing is lost (CE-3): a worker killed between
claim and mark leaves rows in `sending`; the sweeper (every minute, in its own queue)
puts them back to `pending` once the claim's lease (REMINDER_SENDING_TIMEOUT_SECONDS,
150 s) ran out. A live delivery never outlives the lease: the task's hard time limit is
shorter. After the mail server accepted the mail, marking the rows sent is retried on a
fresh database connection, so a dropped connection does not resend.

Every e-mail's Message-ID is derived from its claim token, and rows put back to pending
keep their token: a resend is the same rows, the same count and the same Message-ID,
which relays and mail clients recognise. The one window left is a worker killed (or the
database unreachable for longer than the mark's retries) after the mail server accepted
the mail and before the rows were marked: that mail is sent again, with the same
Message-ID (at least once, never lost).

Retry timing lives in the outbox (`next_attempt_at`), never in delayed broker messages:
capped exponential backoff, REMINDER_MAX_ATTEMPTS attempts spanning at least 24 hours.

E-mails carry a count and a link only: no patient, kind, detail or name (DP-2). The
content is built from an integer, so nothing else can leak into it.
"""

import contextlib
import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from itertools import islice
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from careplans.models import Patient
from clinic.models import User
from reminders.models import Reminder, ReminderKind, ReminderScanRun, ReminderStatus
from reminders.outbox import (
    DraftQuery,
    ReminderDraft,
    reminder_rules,
    reminders_insert_drafts,
    reminders_insert_select,
    reminders_write,
    rule_is_incremental,
)
from reminders.scan_marks import marks_consume, marks_supported, marks_take

logger = logging.getLogger("reminders.delivery")
# Operator alerts (CE-6) go to their own logger so a deployment can route them to a pager.
alarm_logger = logging.getLogger("tandem.alerts")

UNDELIVERED = (ReminderStatus.PENDING, ReminderStatus.SENDING)


def max_attempts() -> int:
    return int(getattr(settings, "REMINDER_MAX_ATTEMPTS", 30))


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt `attempts + 1`: base * 2^(attempts-1), capped (1 h by default).
    The wait is stored in the row (`next_attempt_at`), not in a broker message."""
    base = int(getattr(settings, "REMINDER_RETRY_BACKOFF_SECONDS", 60))
    cap = int(getattr(settings, "REMINDER_RETRY_BACKOFF_MAX_SECONDS", 3600))
    return min(cap, base * 2 ** max(0, attempts - 1))


def retry_span() -> timedelta:
    """How long a row keeps being retried before it is `failed`: the sum of its backoffs."""
    return timedelta(seconds=sum(backoff_seconds(n) for n in range(1, max_attempts())))


def sending_timeout() -> timedelta:
    """The claim's lease: a row `sending` longer than this belonged to a dead worker."""
    return timedelta(seconds=int(getattr(settings, "REMINDER_SENDING_TIMEOUT_SECONDS", 150)))


def overdue_after() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "REMINDER_OVERDUE_MINUTES", 15)))


# --- Scan: every registered rule -> outbox rows ------------------------------------------------


@dataclass
class ScanResult:
    offered: dict[str, int] = field(default_factory=dict)  # rule -> drafts offered (existing rows skipped)
    failed: list[str] = field(default_factory=list)  # rules that raised; the others still ran
    full: bool = True  # False: an incremental rescan of `patients` changed patients
    patients: int | None = None


def _chunks(drafts: Iterable[ReminderDraft], size: int) -> Iterator[list[ReminderDraft]]:
    iterator = iter(drafts)
    while chunk := list(islice(iterator, size)):
        yield chunk


# More changed patients than this since the last scan: the full scan is the cheaper one.
INCREMENTAL_MAX_PATIENTS = 50_000


def scan_workers() -> int:
    """How many rules the full scan runs at once, each on its own database connection."""
    return max(1, int(getattr(settings, "REMINDER_SCAN_WORKERS", 2)))


def reminders_scan(
    *, today: date, chunk_size: int = 5000, full: bool | None = None, workers: int | None = None
) -> ScanResult:
    """Run every registered rule for `today` and write its drafts (bulk insert, conflicts ignored).

    Incremental (issue 14): when the last finished scan was today's, an incremental rule runs
    only for the patients whose data changed since (reminders.scan_marks): the rules depend on
    the data and the date only, so nobody else can have a new reminder. A new day, no finished
    scan, `full=True`, or too many changes: the full scan. Rules not registered incremental
    run in full every time. The marks read at the start are deleted once every rule ran; a
    change committed during the scan keeps its mark for the next one. A scan with a failed
    rule is not finished: the next scan is a full one.

    Concurrent rules (issue 14): on PostgreSQL, `workers` rules (REMINDER_SCAN_WORKERS, 2 by
    default) run at once, each in its own transaction on its own connection. The work is the
    database's (INSERT ... SELECT, index upkeep, foreign-key checks at commit), so one backend
    per rule uses the server's cores where a single connection used one of them. Rules are
    independent: each writes its own kinds and reads no other rule's rows. Not inside a
    caller's transaction: other connections could not see its uncommitted rows, and its
    rollback could not undo theirs, so there the rules run one after another, as on SQLite.

    Idempotent: the unique (kind, subject, due date, recipient) makes a second scan, or two
    scans at once, a no-op. Each rule runs in its own transaction, so a broken rule cannot
    stop the others; it is logged by name only (exception messages might carry data).
    """
    started_at = timezone.now()
    marks = marks_take() if marks_supported(connection.vendor) else []
    last = ReminderScanRun.objects.filter(finished_at__isnull=False).only("scan_date").first()
    changed = sorted({patient_id for _, patient_id in marks})
    incremental = (
        full is not True
        and marks_supported(connection.vendor)
        and last is not None
        and last.scan_date == today
        and len(changed) <= INCREMENTAL_MAX_PATIENTS
    )
    result = ScanResult(full=not incremental, patients=len(changed) if incremental else None)
    patients = Patient.objects.filter(pk__in=changed) if incremental else None
    run = None
    if not incremental or changed:  # a rescan with nothing changed writes nothing
        run = ReminderScanRun.objects.create(
            scan_date=today, started_at=started_at, full=not incremental, patients=result.patients
        )
    to_run: list[tuple[str, Callable[[], Iterable[ReminderDraft] | DraftQuery]]] = []
    for name, rule in sorted(reminder_rules().items()):
        restrict = incremental and rule_is_incremental(name)
        if restrict and not changed:
            result.offered[name] = 0
            continue
        to_run.append((name, partial(rule, today, patients=patients) if restrict else partial(rule, today)))
    parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
    for name, offered in _rules_run(to_run, chunk_size, workers=(workers or scan_workers()) if parallel else 1):
        if offered is None:
            result.failed.append(name)
        else:
            result.offered[name] = offered
    if run is not None and not result.failed:
        marks_consume([mark_id for mark_id, _ in marks])
        ReminderScanRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    logger.info("reminder scan: full=%s patients=%s", result.full, result.patients)
    return result


def _rules_run(
    rules: list[tuple[str, Callable[[], Iterable[ReminderDraft] | DraftQuery]]], chunk_size: int, *, workers: int
) -> list[tuple[str, int | None]]:
    """(name, rows offered, or None when the rule failed) for each rule, `workers` at a time."""
    if workers <= 1 or len(rules) <= 1:
        return [(name, _rule_write(name, produce, chunk_size)) for name, produce in rules]

    def on_own_connection(name: str, produce: Callable[[], Iterable[ReminderDraft] | DraftQuery]) -> int | None:
        try:
            return _rule_write(name, produce, chunk_size)
        finally:
            connection.close()  # this thread's own connection (Django's are per thread)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reminder-scan") as pool:
        futures = [(name, pool.submit(on_own_connection, name, produce)) for name, produce in rules]
        return [(name, future.result()) for name, future in futures]


def _rule_write(name: str, produce: Callable[[], Iterable[ReminderDraft] | DraftQuery], chunk_size: int) -> int | None:
    """One rule in its own transaction: its rows written, or None (logged by name) if it raised."""
    offered = 0
    try:
        with transaction.atomic():
            produced = produce()
            if isinstance(produced, DraftQuery):
                offered = reminders_insert_select(produced)  # set-based: one INSERT ... SELECT
            else:
                for chunk in _chunks(produced, chunk_size):
                    offered += reminders_insert_drafts(chunk)  # PostgreSQL: one unnest INSERT a chunk
    except Exception as error:
        logger.error("reminder rule failed: rule=%s error=%s", name, type(error).__name__)
        return None
    logger.info("reminder rule ran: rule=%s offered=%d", name, offered)
    return offered


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
    claimed_at: datetime | None = None
    alarm: bool = False  # the claim holds a `delivery_failed` alarm for a clinic admin


def message_id(token: UUID) -> str:
    """The e-mail's Message-ID, derived from its claim: a resend of the same claim has the same one."""
    domain = urlsplit(settings.SITE_URL).hostname or "tandem.invalid"
    return f"<reminders.{token}@{domain}>"


def _ready_to_try(now: datetime) -> Q:
    """Pending rows whose backoff has passed (`next_attempt_at`, empty for a first attempt)."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


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
    """Atomically move the recipient's deliverable rows to `sending`.

    Rows that were claimed before (a dead worker's, or a transient failure's) are claimed
    again on their own, under their old token: the resend is the same e-mail with the same
    Message-ID. Otherwise the rows get a fresh token."""
    candidates = deliverable(now=now, urgent_only=urgent_only).filter(recipient_id=recipient_id).order_by("id")
    with transaction.atomic():
        previous = candidates.filter(claim_token__isnull=False).values_list("claim_token", flat=True).first()
        if previous is not None:
            token = previous
            candidates = candidates.filter(claim_token=previous)
        else:
            token = uuid.uuid4()
        claim_fields = {
            "status": ReminderStatus.SENDING,
            "claim_token": token,
            "claimed_at": now,
            "attempts": F("attempts") + 1,
            "updated_at": now,
        }
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
        claimed = list(
            Reminder.objects.filter(claim_token=token, claimed_at=now, status=ReminderStatus.SENDING).values_list(
                "id", "urgent", "kind"
            )
        )
    if not claimed:
        return None
    return Claim(
        token=token,
        reminder_ids=[pk for pk, _, _ in claimed],
        urgent=any(u for _, u, _ in claimed),
        claimed_at=now,
        alarm=any(kind == ReminderKind.DELIVERY_FAILED for _, _, kind in claimed),
    )


def reminder_email(*, count: int, urgent: bool, failed_deliveries: int = 0) -> tuple[str, str]:
    """Subject and body: counts and links, nothing else (DP-2). Takes only ints on purpose.

    `failed_deliveries`: for a clinic admin's `delivery_failed` alarm, how many reminders
    are `failed` now (the count only; the delivery page lists their ids behind login)."""
    inbox_url = settings.SITE_URL.rstrip("/") + reverse("reminders:inbox")
    noun = "reminder" if count == 1 else "reminders"
    if failed_deliveries:
        delivery_url = settings.SITE_URL.rstrip("/") + reverse("reminders:reminder_delivery")
        subject = f"Tandem: {failed_deliveries} reminder e-mail{'s' if failed_deliveries != 1 else ''} failed"
        body = (
            f"{failed_deliveries} reminder{'s' if failed_deliveries != 1 else ''} could not be e-mailed after "
            "retrying for at least 24 hours; they are still in their recipients' inboxes.\n\n"
            f"Retry them from the reminder delivery page: {delivery_url}\n"
            f"You have {count} new {noun} in your Tandem inbox: {inbox_url}\n\n"
            "For privacy, this e-mail never carries patient details; sign in to read them.\n"
        )
        return subject, body
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


def _claimed(claim: Claim) -> QuerySet[Reminder]:
    rows = Reminder.objects.filter(claim_token=claim.token, status=ReminderStatus.SENDING)
    return rows.filter(claimed_at=claim.claimed_at) if claim.claimed_at is not None else rows


def _mark(claim: Claim, **values: object) -> int:
    return _claimed(claim).update(updated_at=timezone.now(), **values)


def _fresh_connection() -> None:
    """Drop the (possibly dead) database connection; the next query opens a new one."""
    with contextlib.suppress(Exception):  # a dead connection may fail to close; it is dropped either way
        connection.close()  # Django forgets the connection even when closing it fails


def mark_sent(claim: Claim, *, tries: int | None = None, pause: float | None = None) -> int:
    """Mark the claim sent after the mail server accepted it. A database error (connection
    dropped, server restarted) is retried on a fresh connection, so it does not resend."""
    tries = tries or int(getattr(settings, "REMINDER_MARK_SENT_TRIES", 6))
    pause = float(getattr(settings, "REMINDER_MARK_SENT_PAUSE_SECONDS", 1.0)) if pause is None else pause
    for attempt in range(1, tries + 1):
        try:
            return _mark(claim, status=ReminderStatus.SENT, sent_at=timezone.now())
        except (OperationalError, InterfaceError) as error:
            if attempt == tries or connection.in_atomic_block:
                raise
            logger.warning(
                "marking reminders sent failed, retrying on a new connection: error=%s", type(error).__name__
            )
            _fresh_connection()
            time.sleep(pause * attempt)
    return 0  # not reached


def _release(claim: Claim, *, retry: bool) -> int:
    """Give the claimed rows back: pending for another try (at `next_attempt_at`), or failed
    when out of attempts (the clinic admins are alerted). Returns the seconds to wait before
    the next try (0: nothing left to retry)."""
    rows = _claimed(claim)
    now = timezone.now()
    failed = 0
    wait = 0
    if retry:
        failed = rows.filter(attempts__gte=max_attempts()).update(status=ReminderStatus.FAILED, updated_at=now)
        attempts = list(rows.values_list("attempts", flat=True))
        if attempts:
            wait = backoff_seconds(min(attempts))
            rows.update(status=ReminderStatus.PENDING, next_attempt_at=now + timedelta(seconds=wait), updated_at=now)
    else:
        failed = rows.update(status=ReminderStatus.FAILED, updated_at=now)
    if failed and not claim.alarm:
        delivery_failed_alarm(now=now)
    return wait


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
        failed = _mark(claim, status=ReminderStatus.FAILED)
        logger.warning("reminders not delivered: recipient=%s inactive count=%d", recipient_id, failed)
        return Delivery(failed=failed)
    if recipient.email:
        failed_now = Reminder.objects.filter(status=ReminderStatus.FAILED).count() if claim.alarm else 0
        subject, body = reminder_email(count=count, urgent=claim.urgent, failed_deliveries=failed_now)
        headers = {"Message-ID": message_id(claim.token)}
        try:
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email], headers=headers).send()
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
    sent = mark_sent(claim)
    logger.info("reminders delivered: recipient=%s count=%d urgent=%s", recipient_id, sent, claim.urgent)
    return Delivery(sent=sent)


# --- Sweeper and overdue alarm ---------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    failed: int


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """Rows left in `sending` past the claim's lease belonged to a worker that died: retry them
    at once. Their claim token stays, so the resend carries the same Message-ID."""
    now = now or timezone.now()
    stuck = Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=now - sending_timeout())
    failed = stuck.filter(attempts__gte=max_attempts()).update(status=ReminderStatus.FAILED, updated_at=now)
    requeued = stuck.update(status=ReminderStatus.PENDING, claimed_at=None, next_attempt_at=None, updated_at=now)
    if requeued or failed:
        logger.warning("reminder sweeper: requeued=%d failed=%d (rows stuck in sending)", requeued, failed)
    if failed:
        delivery_failed_alarm(now=now)
    return SweepResult(requeued=requeued, failed=failed)


def recipients_to_retry(*, now: datetime | None = None) -> list[int]:
    """Recipients with rows due for another attempt (tried before, or swept back): what the
    every-minute sweep dispatches. New rows wait for the batch dispatch."""
    now = now or timezone.now()
    rows = deliverable(now=now).filter(Q(claim_token__isnull=False) | Q(urgent=True))  # a token: tried before
    return list(rows.order_by("recipient_id").values_list("recipient_id", flat=True).distinct())


def clinic_admin_ids() -> list[int]:
    return list(
        User.objects.filter(Q(is_clinic_admin=True) | Q(is_superuser=True), is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def delivery_failed_alarm(*, now: datetime | None = None) -> int:
    """Reminders gave up e-mailing: alert the clinic admins with an inbox item each (one a
    day, urgent, so it is e-mailed at once with the failed count) and the operator log.
    Counts and ids only. Returns how many reminders are `failed` now."""
    today = timezone.localdate(now or timezone.now())
    failed = Reminder.objects.filter(status=ReminderStatus.FAILED).exclude(kind=ReminderKind.DELIVERY_FAILED)
    total = failed.count()
    if not total:
        return 0
    alarm_logger.error("reminder e-mails FAILED after retrying for %s: %d reminders failed", retry_span(), total)
    reminders_write(
        ReminderDraft(
            recipient_id=admin_id,
            patient_id=None,
            kind=ReminderKind.DELIVERY_FAILED,
            subject_type="reminders.delivery",
            subject_id="failed",
            due_date=today,
            detail=f"{total} reminder e-mails failed after retrying; retry them from the delivery page.",
        )
        for admin_id in clinic_admin_ids()
    )
    return total


def reminders_retry_failed(*, public_ids: Iterable[UUID | str] | None = None, now: datetime | None = None) -> int:
    """Put `failed` rows (all, or those named) back to pending with a fresh set of attempts.
    Returns how many; the next sweep or batch dispatch e-mails them."""
    now = now or timezone.now()
    rows = Reminder.objects.filter(status=ReminderStatus.FAILED)
    if public_ids is not None:
        rows = rows.filter(public_id__in=list(public_ids))
    retried = rows.update(status=ReminderStatus.PENDING, attempts=0, next_attempt_at=None, updated_at=now)
    if retried:
        logger.warning("failed reminders put back to pending: count=%d", retried)
    return retried


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
