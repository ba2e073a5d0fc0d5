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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.db.models import Case, CharField, DateField, F, Func, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Concat

from careplans.models import Patient, TeamRole
from careplans.selectors import active_team_members
from medications.injections import ANNOUNCE_DAYS, MISSED_AFTER_DAYS, missed_on, next_injection_due
from medications.models import INJECTION_INTERVALS, Injection, LabTest, Regimen, RegimenStatus
from medications.monitoring import ANSWERED, ItemStatus, MonitoringItem
from medications.monitoring_next_due import catalog_fingerprint, next_due_write, regimens_to_evaluate
from medications.selectors import monitoring_for_regimens
from reminders.models import ReminderKind
from reminders.outbox import DraftQuery, ReminderDraft, reminders_write

SUBJECT_TYPE = "medications.regimen"
UPCOMING_DAYS = 7  # a test due within a week is announced ahead


def _drafts(
    regimens: Sequence[Regimen],
    today: date,
    *,
    overdue: bool = True,
    schedules: Mapping[int, list[MonitoringItem]] | None = None,
) -> Iterator[ReminderDraft]:
    if schedules is None:
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
            if item.status in ANSWERED or item.due_date > horizon:
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


def monitoring_due(today: date, patients: QuerySet[Patient] | None = None) -> list[ReminderDraft]:
    """The daily rule (registered in MedicationsConfig.ready); `patients`: only theirs (the
    incremental rescan).

    Still Python, not a DraftQuery: the schedule (medications.monitoring: dose-change anchors,
    repeat-until-in-range, clozapine ANC bands and restarts, lithium interval caps and extra
    checks, waivers) is not expressible as one SQL statement without a second implementation of
    the clinical rules to keep in step. The incremental rescan runs it for changed patients only;
    a full run only for the regimens whose maintained next-due date says a new reminder can be
    due (medications.monitoring_next_due), and stores the next-due date of every regimen it ran
    for. Its drafts must be written (reminders_scan does, in the rule's transaction): the next
    run leaves out what this one drafted."""
    active = Regimen.objects.filter(status=RegimenStatus.ACTIVE, medication__monitoring_protocol__isnull=False)
    fingerprint = catalog_fingerprint()
    if patients is not None:
        active = active.filter(patient__in=patients)
    else:
        active = regimens_to_evaluate(active, today=today, fingerprint=fingerprint)
    regimens = list(active.select_related("medication").order_by("id"))
    schedules = monitoring_for_regimens(regimens, today=today)
    next_due_write(regimens, schedules, today=today, lead_days=UPCOMING_DAYS, fingerprint=fingerprint)
    return list(_drafts(regimens, today, schedules=schedules))


def monitoring_due_everyone(today: date) -> list[ReminderDraft]:
    """The daily rule without the next-due shortcut and without writing anything: every active
    regimen evaluated. The reference the shortcut is held to (tests/medications)."""
    active = Regimen.objects.filter(status=RegimenStatus.ACTIVE, medication__monitoring_protocol__isnull=False)
    return list(_drafts(list(active.select_related("medication").order_by("id")), today))


def monitoring_reminders_write(*, regimens: Iterable[Regimen], today: date) -> int:
    """Write the upcoming reminders of just-changed regimens, in the caller's transaction.
    Overdue items of a back-dated entry are left to the daily rule, which sees later results."""
    return reminders_write(_drafts(list(regimens), today, overdue=False))


# --- Long-acting injections: next injection due, injection missed -------------------------

INJECTION_SUBJECT = "medications.regimen"


def injection_reminders(today: date, patients: QuerySet[Patient] | None = None) -> list[ReminderDraft]:
    """The daily rule: `injection_due` a week ahead of each active depot's next injection for
    its prescribers, `injection_missed` once it is past the label's window for prescribers and
    the care manager. Three queries for the whole clinic (regimens, injections, team)."""
    active = Regimen.objects.filter(status=RegimenStatus.ACTIVE, frequency__in=list(INJECTION_INTERVALS))
    if patients is not None:
        active = active.filter(patient__in=patients)
    regimens = list(active.select_related("medication").order_by("id"))
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


class DatePlus(Func):
    """`day + n days/months` as a date on PostgreSQL. A month added to the 31st lands on the
    month's last day, as add_months does (medications.injections)."""

    output_field = DateField()

    def __init__(self, day: Any, *, days: int = 0, months: int = 0) -> None:
        super().__init__(day)
        self.days, self.months = days, months

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        day_sql, params = compiler.compile(self.source_expressions[0])
        sql = f"CAST(({day_sql} + make_interval(months => %s, days => %s)) AS date)"
        return sql, [*params, self.months, self.days]


def _injection_rows(today: date, patients: QuerySet[Patient] | None, roles: list[str]) -> QuerySet[Any]:
    """Active depot regimens joined with their active team members of `roles`, annotated with
    `r_due` (the next injection: the start, or an interval after the last one given) and
    `r_missed` (the first day it counts as missed). Only regimens due within ANNOUNCE_DAYS."""
    last_given = Subquery(
        Injection.objects.filter(regimen_id=OuterRef("pk")).order_by("-given_on").values("given_on")[:1],
        output_field=DateField(),
    )
    next_after_last = Case(
        *[
            When(frequency=frequency, then=DatePlus(F("r_last"), days=days, months=months))
            for frequency, (days, months) in INJECTION_INTERVALS.items()
        ],
        output_field=DateField(),
    )
    missed = Case(
        *[
            When(frequency=frequency, then=DatePlus(F("r_due"), days=MISSED_AFTER_DAYS[frequency] + 1))
            for frequency in INJECTION_INTERVALS
        ],
        output_field=DateField(),
    )
    regimens = Regimen.objects.filter(status=RegimenStatus.ACTIVE, frequency__in=list(INJECTION_INTERVALS))
    if patients is not None:
        regimens = regimens.filter(patient__in=patients)
    return (
        regimens.filter(
            patient__care_team__role__in=roles,
            patient__care_team__ended_at__isnull=True,
            patient__care_team__user__is_active=True,
        )
        .annotate(r_last=last_given)
        .annotate(r_due=Case(When(r_last__isnull=True, then=F("start_date")), default=next_after_last))
        .filter(r_due__lte=today + timedelta(days=ANNOUNCE_DAYS))
        .annotate(r_missed=missed, r_subject_type=Value(INJECTION_SUBJECT), r_subject_id=Cast("public_id", CharField()))
        .order_by()
    )


def injection_reminders_query(today: date, patients: QuerySet[Patient] | None = None) -> DraftQuery:
    """injection_reminders as one INSERT ... SELECT on PostgreSQL (issue 14): the `injection_due`
    rows of the prescribers UNION the `injection_missed` rows of prescribers and care managers;
    the Python drafts elsewhere. `patients`: only theirs (the incremental rescan)."""
    due_text = Cast("r_due", CharField())
    columns = ("patient__care_team__user_id", "patient_id", "r_kind", "r_subject_type", "r_subject_id")
    due_rows = (
        _injection_rows(today, patients, [TeamRole.PRESCRIBER])
        .annotate(
            r_kind=Value(ReminderKind.INJECTION_DUE.value),
            r_detail=Concat("medication__name", Value(" injection due "), due_text),
        )
        .values_list(*columns, "r_due", "r_detail")
    )
    missed_rows = (
        _injection_rows(today, patients, [TeamRole.PRESCRIBER, TeamRole.CARE_MANAGER])
        .filter(r_missed__lte=today)
        .annotate(
            r_kind=Value(ReminderKind.INJECTION_MISSED.value),
            r_detail=Concat(
                "medication__name",
                Value(" injection due "),
                due_text,
                Value(" not recorded: missed. Check the label's missed-dose advice before the next one."),
            ),
        )
        .values_list(*columns, "r_missed", "r_detail")
    )
    return DraftQuery(
        queryset=due_rows.union(missed_rows),  # UNION: a clinician on the team in two roles gets one row
        drafts=lambda: injection_reminders(today, patients),
    )


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
