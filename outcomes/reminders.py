"""What the outcomes app has due today, for the daily scan of the one outbox (DESIGN.md).

- measurement_due: an active patient with no PHQ-9 (or the instrument the plan's goals
  name, e.g. "GAD-7 below 10") for 4 weeks -> the care manager (who enters questionnaires),
  or the whole team when it has no care manager. Due 4 weeks after the last score (or after
  registration when there is none), so the daily scan re-offers the same row: a no-op.
- not_improving: PHQ-9 less than 50 % below baseline with the baseline 8 weeks old -> the
  prescriber, due at week 8 of the episode (Collaborative Care: psychiatric consultation
  between weeks 8 and 12 for non-responders, Bao et al. 2015; CLINICAL.md).
Both are set-based: a fixed number of queries whatever the caseload size.
The item-9 safety alert is not a daily rule: outcomes.services writes it in the
transaction of the questionnaire itself.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from uuid import UUID

from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate

from careplans.models import CarePlanStatus, Goal, Patient, PatientStatus, TeamRole
from careplans.selectors import active_team_members
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment
from outcomes.selectors import NOT_IMPROVING_AFTER, annotate_outcomes, episode_scores_laterals
from reminders.models import ReminderKind
from reminders.outbox import DraftQuery, ReminderDraft

MEASUREMENT_INTERVAL = timedelta(weeks=4)
PATIENT_SUBJECT = Patient._meta.label_lower
NOT_IMPROVING_DETAIL = (
    "PHQ-9 less than 50 % below baseline after 8 weeks: consider case review and a change of treatment."
)


def _plan_names(instrument: str, patient: str = "pk") -> Exists:
    return Exists(
        Goal.objects.filter(
            care_plan__patient=OuterRef(patient),
            target__icontains=instrument,
            care_plan__status__in=[CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD],
        )
    )


def _last_score_on(instrument: str, patient: str = "pk") -> Subquery:
    return Subquery(
        Assessment.objects.filter(patient=OuterRef(patient), instrument=instrument)
        .order_by("-administered_on")
        .values("administered_on")[:1],
        output_field=DateField(),
    )


def _recipients(patient_ids: Iterable[int], roles: list[str], fallback_to_team: bool) -> dict[int, list[int]]:
    """patient id -> user ids holding one of `roles` on its team (or, if none does and
    `fallback_to_team`, everyone on the team). One query."""
    members = active_team_members().filter(patient_id__in=list(patient_ids))
    wanted: Q | Combinable = Q(role__in=roles)  # `Q | Exists` is a Q; the stubs say Combinable
    if fallback_to_team:
        has_role = Exists(active_team_members(roles=roles).filter(patient_id=OuterRef("patient_id")))
        wanted |= ~has_role
    by_patient: dict[int, set[int]] = defaultdict(set)
    for patient_id, user_id in members.filter(wanted).values_list("patient_id", "user_id"):
        by_patient[patient_id].add(user_id)
    return {patient_id: sorted(users) for patient_id, users in by_patient.items()}


def _measurement_anchor(patient: str, created_at: str) -> tuple[Case, Coalesce]:
    """(instrument, anchor) of a patient: GAD-7 when the open plan's goals name it and not
    PHQ-9, else PHQ-9; anchored on its last score, or on registration when there is none."""
    uses_gad7 = _plan_names(InstrumentCode.GAD7, patient) & ~_plan_names(InstrumentCode.PHQ9, patient)
    instrument = Case(When(uses_gad7, then=Value(InstrumentCode.GAD7.value)), default=Value(InstrumentCode.PHQ9.value))
    anchor = Coalesce(
        Case(
            When(uses_gad7, then=_last_score_on(InstrumentCode.GAD7, patient)),
            default=_last_score_on(InstrumentCode.PHQ9, patient),
            output_field=DateField(),
        ),
        TruncDate(created_at),
        output_field=DateField(),
    )
    return instrument, anchor


def measurement_due_query(today: date, patients: QuerySet[Patient] | None = None) -> DraftQuery:
    """One INSERT ... SELECT on PostgreSQL (issue 14): the care manager of each due patient,
    or the whole team when it has none; the Python drafts elsewhere. `patients`: only theirs
    (the incremental rescan)."""
    instrument, anchor = _measurement_anchor("patient_id", "patient__created_at")
    has_care_manager = Exists(
        active_team_members(roles=[TeamRole.CARE_MANAGER]).filter(patient_id=OuterRef("patient_id"))
    )
    members = active_team_members() if patients is None else active_team_members().filter(patient__in=patients)
    rows = (
        members.filter(patient__status=PatientStatus.ACTIVE)
        .filter(Q(role=TeamRole.CARE_MANAGER) | ~has_care_manager)
        .annotate(r_instrument=instrument, r_anchor=anchor)
        .filter(r_anchor__lte=today - MEASUREMENT_INTERVAL)
        .annotate(
            r_kind=Value(ReminderKind.MEASUREMENT_DUE.value),
            r_subject_type=Value(PATIENT_SUBJECT),
            r_subject_id=Cast("patient__public_id", output_field=CharField()),
            r_due=Cast(F("r_anchor") + MEASUREMENT_INTERVAL, DateField()),  # date + interval: a timestamp on PG
            r_detail=Concat(Value("No "), F("r_instrument"), Value(" for 4 weeks: time to measure again.")),
        )
        .values_list("user_id", "patient_id", "r_kind", "r_subject_type", "r_subject_id", "r_due", "r_detail")
        .distinct()
        .order_by()
    )
    return DraftQuery(queryset=rows, drafts=lambda: measurement_due(today, patients))


def measurement_due_rows(patients: QuerySet[Patient], today: date) -> list[tuple[int, UUID, date, str]]:
    """(pk, public_id, last measured or registered on, instrument) of the patients whose measure
    is due again (4 weeks; one query). Shared by the daily scan and the Today worklist."""
    instrument, anchor = _measurement_anchor("pk", "created_at")
    return list(
        patients.filter(status=PatientStatus.ACTIVE)
        .annotate(instrument=instrument)
        .annotate(anchor=anchor)
        .filter(anchor__lte=today - MEASUREMENT_INTERVAL)
        .values_list("pk", "public_id", "anchor", "instrument")
    )


def measurement_due(today: date, patients: QuerySet[Patient] | None = None) -> list[ReminderDraft]:
    """The same rows as measurement_due_query, built in Python (other databases, tests)."""
    due = measurement_due_rows(Patient.objects.all() if patients is None else patients, today)
    recipients = _recipients((row[0] for row in due), [TeamRole.CARE_MANAGER], fallback_to_team=True)
    return [
        ReminderDraft(
            recipient_id=user_id,
            patient_id=pk,
            kind=ReminderKind.MEASUREMENT_DUE,
            subject_type=PATIENT_SUBJECT,
            subject_id=str(public_id),
            due_date=anchor + MEASUREMENT_INTERVAL,
            detail=f"No {instrument} for 4 weeks: time to measure again.",
        )
        for pk, public_id, anchor, instrument in due
        for user_id in recipients.get(pk, [])
    ]


def not_improving(today: date, patients: QuerySet[Patient] | None = None) -> list[ReminderDraft]:
    flagged = list(
        annotate_outcomes(
            (Patient.objects.all() if patients is None else patients).filter(status=PatientStatus.ACTIVE),
            today=today,
            instruments=(InstrumentCode.PHQ9,),
        )
        .annotate(twice_latest=F("phq9_latest") * 2)
        .filter(
            phq9_baseline_on__lte=today - NOT_IMPROVING_AFTER, phq9_latest__gte=5, twice_latest__gt=F("phq9_baseline")
        )
        .values_list("pk", "public_id", "phq9_baseline_on")
    )
    recipients = _recipients((row[0] for row in flagged), [TeamRole.PRESCRIBER], fallback_to_team=False)
    return [
        ReminderDraft(
            recipient_id=user_id,
            patient_id=pk,
            kind=ReminderKind.NOT_IMPROVING,
            subject_type=PATIENT_SUBJECT,
            subject_id=str(public_id),
            due_date=baseline_on + NOT_IMPROVING_AFTER,
            detail=NOT_IMPROVING_DETAIL,
        )
        for pk, public_id, baseline_on in flagged
        if baseline_on is not None  # always: the filter above needs a baseline date
        for user_id in recipients.get(pk, [])
    ]


def not_improving_query(today: date, patients: QuerySet[Patient] | None = None) -> DraftQuery:
    """not_improving as one INSERT ... SELECT on PostgreSQL (issue 14): the same patients as
    annotate_outcomes finds, each active prescriber on the team once. The baseline and latest
    PHQ-9 are LATERAL joins (outcomes.selectors.episode_scores_laterals): annotate_outcomes'
    subqueries, as the ORM writes them, ran once per use of each value, each with the episode
    start again (10 index probes a patient, 5 s of the 12 s new-day scan at 100k patients).
    `patients`: only theirs (the incremental rescan)."""
    laterals, lateral_params = episode_scores_laterals(InstrumentCode.PHQ9, today, patient_sql="p.id")
    restrict, restrict_params = "", ()
    if patients is not None:
        patient_sql, restrict_params = patients.values("pk").query.sql_with_params()
        restrict = f"AND p.id IN ({patient_sql})"
    sql = (
        "SELECT DISTINCT m.user_id, p.id, %s, %s, CAST(p.public_id AS varchar), "  # noqa: S608  (ORM-built SQL, params apart)
        "CAST(phq9_first.administered_on + %s AS date), %s "
        "FROM careplans_patient p "
        "JOIN careplans_careteammember m ON m.patient_id = p.id "
        "JOIN clinic_user u ON u.id = m.user_id "
        f"{laterals} "
        "WHERE p.status = %s AND m.role = %s AND m.ended_at IS NULL AND u.is_active "
        "AND phq9_first.administered_on <= %s AND phq9_last.total_score >= 5 "
        f"AND phq9_last.total_score * 2 > phq9_first.total_score {restrict}"
    )
    params = (
        ReminderKind.NOT_IMPROVING.value,
        PATIENT_SUBJECT,
        NOT_IMPROVING_AFTER.days,
        NOT_IMPROVING_DETAIL,
        *lateral_params,
        PatientStatus.ACTIVE.value,
        TeamRole.PRESCRIBER.value,
        today - NOT_IMPROVING_AFTER,
        *restrict_params,
    )
    return DraftQuery(queryset=None, select=(sql, params), drafts=lambda: not_improving(today, patients))
