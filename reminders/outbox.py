"""The one door into the reminder outbox (DESIGN.md: reminders.Reminder).

Each app's `reminders.py` turns its clinical rules into ReminderDrafts and either
- writes them inside the transaction of the clinical change that causes them
  (`reminders_write`, e.g. a PHQ-9 item-9 safety alert or a no-show), or
- registers a daily rule (`reminder_rule_register`) that the periodic scan runs.
`reminders` never imports the apps that feed it (medications, therapy, outcomes): they
register in AppConfig.ready(). careplans, below reminders, registers nothing: its rules are
in reminders/care_plans.py.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from reminders.models import URGENT_REMINDER_KINDS, Reminder, ReminderStatus


@dataclass(frozen=True)
class ReminderDraft:
    recipient_id: int
    patient_id: int | None
    kind: str
    subject_type: str  # model label, e.g. "careplans.careplan"
    subject_id: str  # the subject's public id
    due_date: date
    detail: str = ""  # shown in the inbox behind login; never e-mailed


# A daily rule: given today's date, the reminders due. Must be set-based (no per-patient loop).
ReminderRule = Callable[[date], Iterable[ReminderDraft]]
_RULES: dict[str, ReminderRule] = {}
_ON_URGENT: list[Callable[[], None]] = []


def reminder_rule_register(name: str, rule: ReminderRule) -> None:
    _RULES[name] = rule


def reminder_rules() -> dict[str, ReminderRule]:
    return dict(_RULES)


def urgent_dispatcher_register(dispatch: Callable[[], None]) -> None:
    """What to run after a transaction that wrote urgent reminders commits (the delivery task)."""
    if dispatch not in _ON_URGENT:
        _ON_URGENT.append(dispatch)


def reminders_write(drafts: Iterable[ReminderDraft], *, batch_size: int = 2000) -> int:
    """Insert drafts in the caller's transaction; an existing (kind, subject, due, recipient)
    is skipped by the database. Returns how many drafts were offered."""
    rows = [
        Reminder(
            recipient_id=d.recipient_id,
            patient_id=d.patient_id,
            kind=d.kind,
            subject_type=d.subject_type,
            subject_id=d.subject_id,
            due_date=d.due_date,
            detail=d.detail[:300],
            urgent=d.kind in URGENT_REMINDER_KINDS,
            status=ReminderStatus.PENDING,
        )
        for d in drafts
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=batch_size)
    if any(row.urgent for row in rows):
        for dispatch in _ON_URGENT:
            transaction.on_commit(dispatch)
    return len(rows)
