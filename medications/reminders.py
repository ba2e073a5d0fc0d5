"""What this app has due: `monitoring_due` reminders for overdue and upcoming monitoring
tests, addressed to the prescriber(s) on the patient's care team.

The daily rule reads the whole clinic in a fixed number of queries (active regimens with
a protocol, their steps, lab results, dose changes, prescribers) and computes each
schedule in memory with monitoring.py: no per-patient query loop. Services also write the
drafts of a regimen they just changed, inside the clinical transaction, so the lithium
level due a week after a dose change is in the prescriber's inbox at once.

One reminder per (regimen and test, due date, prescriber): the outbox's unique key makes
writing it again a no-op, and an overdue item keeps its due date until a result arrives.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta

from careplans.models import TeamRole
from careplans.selectors import active_team_members
from medications.injections import ANNOUNCE_DAYS, missed_on, next_injection_due
from medications.models import INJECTION_INTERVALS, Injection, LabTest, Regimen, RegimenStatus
from medications.monitoring import ItemStatus
from medications.selectors import monitoring_for_regimens
from reminders.models import ReminderKind
from reminders.outbox import ReminderDraft, reminders_write

SUBJECT_TYPE = "medications.regimen"
UPCOMING_DAYS = 7  # a test due within a week is announced ahead


def _drafts(regimens: Sequence[Regimen], today: date, *, overdue: bool = True) -> Iterator[ReminderDraft]:
    schedules = monitoring_for_regimens(regimens, today=today)
    if not schedules:
        return
    prescribers: dict[int, list[int]] = defaultdict(list)
    for patient_id, user_id in (
        active_team_members(roles=[TeamRole.PRESCRIBER])
        .filter(patient_id__in={r.patient_id for r in regimens})
        .values_list("patient_id", "user_id")
        .distinct()
    ):
        prescribers[patient_id].append(user_id)
    horizon = today + timedelta(days=UPCOMING_DAYS)
    by_pk = {r.pk: r for r in regimens}
    for regimen_pk, items in schedules.items():
        regimen = by_pk[regimen_pk]
        for item in items:
            if item.status == ItemStatus.DONE or item.due_date > horizon:
                continue
            if item.status == ItemStatus.OVERDUE and not overdue:
                continue
            when = "overdue since" if item.status == ItemStatus.OVERDUE else "due"
            detail = f"{LabTest(item.test).label} {when} {item.due_date:%Y-%m-%d} ({regimen.medication.name})"
            for user_id in prescribers[regimen.patient_id]:
                yield ReminderDraft(
                    recipient_id=user_id,
                    patient_id=regimen.patient_id,
                    kind=ReminderKind.MONITORING_DUE,
                    subject_type=SUBJECT_TYPE,
                    subject_id=f"{regimen.public_id}:{item.test}",
                    due_date=item.due_date,
                    detail=detail,
                )


def monitoring_due(today: date) -> list[ReminderDraft]:
    """The daily rule (registered in MedicationsConfig.ready)."""
    regimens = list(
        Regimen.objects.filter(status=RegimenStatus.ACTIVE, medication__monitoring_protocol__isnull=False)
        .select_related("medication")
        .order_by("id")
    )
    return list(_drafts(regimens, today))


def monitoring_reminders_write(*, regimens: Iterable[Regimen], today: date) -> int:
    """Write the upcoming reminders of just-changed regimens, in the caller's transaction.
    Overdue items of a back-dated entry are left to the daily rule, which sees later results."""
    return reminders_write(_drafts(list(regimens), today, overdue=False))


# --- Long-acting injections: next injection due, injection missed -------------------------

INJECTION_SUBJECT = "medications.regimen"


def injection_reminders(today: date) -> list[ReminderDraft]:
    """The daily rule: `injection_due` a week ahead of each active depot's next injection for
    its prescribers, `injection_missed` once it is past the label's window for prescribers and
    the care manager. Three queries for the whole clinic (regimens, injections, team)."""
    regimens = list(
        Regimen.objects.filter(status=RegimenStatus.ACTIVE, frequency__in=list(INJECTION_INTERVALS))
        .select_related("medication")
        .order_by("id")
    )
    if not regimens:
        return []
    given: dict[int, list[date]] = defaultdict(list)
    for regimen_id, given_on in (
        Injection.objects.filter(regimen_id__in=[r.pk for r in regimens])
        .values_list("regimen_id", "given_on")
        .order_by()
    ):
        given[regimen_id].append(given_on)
    team: dict[tuple[int, str], list[int]] = defaultdict(list)
    for patient_id, user_id, role in (
        active_team_members(roles=[TeamRole.PRESCRIBER, TeamRole.CARE_MANAGER])
        .filter(patient_id__in={r.patient_id for r in regimens})
        .values_list("patient_id", "user_id", "role")
        .distinct()
    ):
        team[(patient_id, role)].append(user_id)
    return list(_injection_drafts(regimens, given, team, today))


def _injection_drafts(
    regimens: Sequence[Regimen], given: dict[int, list[date]], team: dict[tuple[int, str], list[int]], today: date
) -> Iterator[ReminderDraft]:
    for regimen in regimens:
        due = next_injection_due(frequency=regimen.frequency, start_date=regimen.start_date, given=given[regimen.pk])
        if due is None or due > today + timedelta(days=ANNOUNCE_DAYS):
            continue
        name = regimen.medication.name
        prescribers = team[(regimen.patient_id, TeamRole.PRESCRIBER)]
        for user_id in prescribers:
            yield ReminderDraft(
                recipient_id=user_id,
                patient_id=regimen.patient_id,
                kind=ReminderKind.INJECTION_DUE,
                subject_type=INJECTION_SUBJECT,
                subject_id=str(regimen.public_id),
                due_date=due,
                detail=f"{name} injection due {due:%Y-%m-%d}",
            )
        missed = missed_on(frequency=regimen.frequency, due=due)
        if today < missed:
            continue
        for user_id in sorted({*prescribers, *team[(regimen.patient_id, TeamRole.CARE_MANAGER)]}):
            yield ReminderDraft(
                recipient_id=user_id,
                patient_id=regimen.patient_id,
                kind=ReminderKind.INJECTION_MISSED,
                subject_type=INJECTION_SUBJECT,
                subject_id=str(regimen.public_id),
                due_date=missed,
                detail=f"{name} injection due {due:%Y-%m-%d} not recorded: missed. Check the label's "
                "missed-dose advice before the next one.",
            )
