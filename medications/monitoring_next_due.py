"""A maintained next-due date for the daily `monitoring_due` rule (issue 14): on a full scan the
Python schedule (medications.monitoring) runs only for the regimens that can have a NEW reminder.

Each time the rule evaluates an active regimen it stores (one bulk upsert a chunk) in
MonitoringNextDue: `next_due_on`, the first day the rule could draft a reminder not drafted
today, and the fingerprint of the rules and catalog it was computed with. The drafts of today
are written by reminders_scan in the rule's own transaction (a failed rule rolls both back), and
the outbox's unique key (recipient, kind, subject, due date) makes writing them again a no-op:
an overdue item keeps its due date until a result arrives, so its reminder, once written, is
never written anew. A full scan evaluates a regimen when ANY of these holds:

1. it has no row yet (new since the last scan, or the first scan after this was deployed);
2. `next_due_on <= today`: an item not drafted before enters the lead time (UPCOMING_DAYS),
   or a date-driven change (below) or the regimen's refresh day is here;
3. its patient has a scan mark (reminders.scan_marks): a lab result, dose change, regimen,
   exception, profile, birth date or care team change since the marks were last consumed.
   Every scan that consumes marks runs this rule for those patients first, so none is lost;
4. the fingerprint differs: a protocol step, a medication's protocol, name or level test was
   edited (catalog edits have no marks), or the code of the rules changed (a deploy);
5. `computed_on > today`: computed for a later day (a back-dated scan, a replay) cannot speak
   for an earlier one.

Why nothing else can make a reminder appear. The rule drafts every item of a schedule that is
not answered (due or overdue; not done, not waived) with a due date <= today + UPCOMING_DAYS, for each
active prescriber on the patient's active care team. The schedule is a pure function of the
data read (marked, case 3; or catalog, case 4) and of today, and today enters it only here, each
capped into `next_due_on`:

- results count once `taken_on <= today`: a result entered with a future date (the services
  refuse one; an import or a fix might not) changes the schedule on that day (an out-of-range
  level or a low ANC brings a repeat forward: clozapine ANC bands, lithium repeat-until-in-range,
  lithium risk groups). Capped at the earliest such result's date;
- lithium's 3-monthly interval cap applies from age 65 (NHS SPS, CLINICAL.md b7): on the 65th
  birthday the next level can move forward, even into the past. Capped at that birthday for
  anyone on lithium younger; the other lithium risk groups come from results and other drugs;
- overdue vs due changes the reminder's wording only, not its key.

Dose changes, waivers, restarts and other drugs' start dates dated in the future are read
whatever today is, so their due dates are already among the items (dose-change anchors,
superseded requirements, interacting-drug checks) and thus in `next_due_on`. Clinical rows are
never deleted (ClinicalRecord: entered-in-error is an UPDATE, which marks).

The recipients: care team changes are marked; a prescriber's account re-activated is not. So
a patient with an inactive prescriber on the team keeps its items within the lead time in
`next_due_on` (re-evaluated every day, as without this table) until the account is active.

A safety net for what the marks cannot see (a direct SQL fix): `next_due_on` never lies past
the regimen's refresh day, one day in every REFRESH_DAYS fixed by its id, so every regimen is
re-evaluated at least every REFRESH_DAYS days and each day re-evaluates about 1/REFRESH_DAYS of
the clinic.

On a database without scan marks (reminders.scan_marks.marks_supported) every full scan
evaluates everyone, as before.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from django.db import connection
from django.db.models import Exists, Min, OuterRef, QuerySet

from careplans.models import CareTeamMember, Patient, TeamRole
from medications import lithium
from medications.models import LabResult, LabTest, Medication, MonitoringNextDue, MonitoringStep, Regimen
from medications.monitoring import ANSWERED, MonitoringItem
from reminders.models import ReminderScanMark
from reminders.scan_marks import marks_supported

REFRESH_DAYS = 28
UPSERT_BATCH = 5000
# The code the schedule and its inputs come from: a change to any of it re-evaluates everyone once.
_RULE_SOURCES = ("monitoring.py", "lithium.py", "selectors.py", "reminders.py", "monitoring_next_due.py")


def catalog_fingerprint() -> str:
    """A hash of the rule code and of the catalog the schedules read (two queries)."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _RULE_SOURCES:
        digest.update((here / name).read_bytes())
    for row in MonitoringStep.objects.order_by("id").values_list(
        "id", "protocol_id", "position", "test", "kind", "offset_days", "interval_days", "until_day",
        "window_days", "rule", "label",
    ):  # fmt: skip
        digest.update(repr(row).encode())
    for medication in Medication.objects.order_by("id").values_list(
        "id", "name", "monitoring_protocol_id", "level_test"
    ):
        digest.update(repr(medication).encode())
    return digest.hexdigest()


def regimens_to_evaluate(active: QuerySet[Regimen], *, today: date, fingerprint: str) -> QuerySet[Regimen]:
    """Of `active`, the regimens a full scan must evaluate today (cases 1-5 of the docstring),
    as one query."""
    if not marks_supported(connection.vendor):
        return active
    quiet = MonitoringNextDue.objects.filter(
        regimen_id=OuterRef("pk"),
        next_due_on__gt=today,
        catalog=fingerprint,
        computed_on__lte=today,
    )
    marked = ReminderScanMark.objects.filter(patient_id=OuterRef("patient_id"))
    return active.filter(~Exists(quiet) | Exists(marked))


def _refresh_day(regimen_id: int, today: date) -> date:
    """The regimen's next refresh day after today: one day in every REFRESH_DAYS, fixed by its id."""
    return today + timedelta(days=REFRESH_DAYS - (today.toordinal() - regimen_id) % REFRESH_DAYS)


def _birthday(born: date, age: int) -> date:
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # born on 29 February: the age is reached on 1 March (see _lithium_rules)
        return date(born.year + age, 3, 1)


def next_due_on(
    *,
    regimen: Regimen,
    items: Iterable[MonitoringItem],
    today: date,
    lead_days: int,
    caps: Sequence[date | None],
    drafted: bool,
) -> date:
    """The first day the rule could draft a NEW reminder for this regimen: its earliest item that
    is not answered minus the lead time, or an earlier date-driven cap, or its refresh day. With
    `drafted` (today's drafts reached every prescriber the patient has), the items already
    within the lead time are left out: their reminders are written, and writing them again
    is a no-op."""
    horizon = today + timedelta(days=lead_days)
    candidates = [
        item.due_date - timedelta(days=lead_days)
        for item in items
        if item.status not in ANSWERED and not (drafted and item.due_date <= horizon)
    ]
    candidates += [cap for cap in caps if cap is not None]
    return min([*candidates, _refresh_day(regimen.pk, today)])


def next_due_write(
    regimens: Sequence[Regimen],
    schedules: Mapping[int, list[MonitoringItem]],
    *,
    today: date,
    lead_days: int,
    fingerprint: str,
) -> int:
    """Store the next-due date of each evaluated regimen: three reads (future-dated results,
    birth dates of patients on lithium, inactive prescribers) and one upsert a batch, whatever
    the number of regimens. The rule's drafts of `today` must reach the outbox in the same
    transaction (reminders_scan writes them in the rule's own)."""
    if not regimens:
        return 0
    patient_ids = {r.patient_id for r in regimens}
    future_result = dict(
        LabResult.objects.filter(patient_id__in=patient_ids, taken_on__gt=today)
        .values("patient_id")
        .annotate(first=Min("taken_on"))
        .values_list("patient_id", "first")
        .order_by()
    )
    on_lithium = {r.patient_id for r in regimens if r.medication.level_test == LabTest.LITHIUM_LEVEL}
    risk_age_on: dict[int, date] = {}
    if on_lithium:
        for patient_id, born in Patient.objects.filter(pk__in=on_lithium).values_list("pk", "birth_date"):
            birthday = _birthday(born, lithium.RISK_AGE)
            if birthday > today:
                risk_age_on[patient_id] = birthday
    # A prescriber on the team whose account is inactive got no reminder today; re-activating
    # the account marks nothing, so the patient's reminders in the lead time are not "written".
    undrafted = set(
        CareTeamMember.objects.filter(
            patient_id__in=patient_ids, role=TeamRole.PRESCRIBER, ended_at__isnull=True, user__is_active=False
        ).values_list("patient_id", flat=True)
    )
    rows = [
        MonitoringNextDue(
            regimen_id=regimen.pk,
            next_due_on=next_due_on(
                regimen=regimen,
                items=schedules.get(regimen.pk, []),
                today=today,
                lead_days=lead_days,
                caps=[
                    future_result.get(regimen.patient_id),
                    risk_age_on.get(regimen.patient_id)
                    if regimen.medication.level_test == LabTest.LITHIUM_LEVEL
                    else None,
                ],
                drafted=regimen.patient_id not in undrafted,
            ),
            computed_on=today,
            catalog=fingerprint,
        )
        for regimen in regimens
    ]
    MonitoringNextDue.objects.bulk_create(
        rows,
        batch_size=UPSERT_BATCH,
        update_conflicts=True,
        unique_fields=["regimen"],
        update_fields=["next_due_on", "computed_on", "catalog"],
    )
    return len(rows)
