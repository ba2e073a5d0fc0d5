"""Reads of the outcomes app: assessments with visibility built in, and treat-to-target summaries.

Measurement-based care (Collaborative Care Model; DESIGN.md, CLINICAL.md b3):
- baseline = the first score of the episode; an episode ends when its care plan is
  completed, and the next one starts with the first score after that;
- response = a reduction of at least 50 % from baseline
  (Psychiatric Services 2019, doi 10.1176/appi.ps.201900295; NQF 1885);
- remission = PHQ-9 < 5, GAD-7 < 5;
- not improving = less than 50 % reduction with the baseline 10 or more weeks old
  (and not in remission) -> flag for psychiatric case review (Bao et al. 2015:
  consultation between weeks 8 and 12 for non-responders).
The same rule is computed in Python for one chart (`outcome_flags`) and in SQL for a
whole caseload or the daily reminder scan (`annotate_outcomes`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast
from uuid import UUID

from django.db import connection
from django.db.models import Case, DateField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.sql import Query
from django.utils import timezone

from careplans.models import CarePlan, CarePlanStatus, CaseReview, CaseReviewStatus, Patient
from careplans.paging import PAGE_SIZE, KeysetPage, LeadKey, keyset_page
from careplans.search import patients_matching
from careplans.selectors import on_care_team_of, patient_ids_on_care_team_of, patients_on_care_team_of
from clinic.access import visible_or_404
from clinic.models import User
from outcomes.instruments import INSTRUMENTS, Instrument, InstrumentCode
from outcomes.models import Assessment, CssrsScreen, SafetyAlert, SafetyAlertStatus, SafetyFollowUp
from reminders.safety_signals import SafetySource

if TYPE_CHECKING:  # django-stubs' helper; not needed at run time
    from django_stubs_ext import WithAnnotations

# Bao et al. 2015 (CLINICAL.md §1): patients not responding by week 8 need a psychiatric
# consultation between weeks 8 and 12; one threshold for the flag, the reminder and Today.
NOT_IMPROVING_AFTER = timedelta(weeks=8)
RESPONSE_REDUCTION = 0.5
SUMMARY_INSTRUMENTS = (InstrumentCode.PHQ9, InstrumentCode.GAD7, InstrumentCode.WSAS)
# Only these have a published treat-to-target rule; the WSAS shows change only.
TARGET_INSTRUMENTS = frozenset({InstrumentCode.PHQ9, InstrumentCode.GAD7})
_NO_EPISODE_START = date(1900, 1, 1)


# --- Visibility -------------------------------------------------------------------


def assessments_visible_to(user: User, *, per_row: bool = True) -> QuerySet[Assessment]:
    """A per-row check by default, so the API's newest-first page walks outcomes_assessment_newest
    (issue 14); `per_row=False`: the same rows joined by the caller's patient ids, for a count,
    which reads every row up to its limit anyway (100k, 5,000-patient caseload: 216 ms -> 18 ms)."""
    if not per_row:
        return Assessment.objects.filter(patient_id__in=patient_ids_on_care_team_of(user))
    return Assessment.objects.filter(on_care_team_of(user)).select_related("patient", "entered_by")


def assessment_for(*, user: User, public_id: UUID | str, patient: Patient | None = None) -> Assessment:
    assessments = assessments_visible_to(user)
    if patient is not None:
        assessments = assessments.filter(patient=patient)
    return visible_or_404(assessments, user=user, public_id=public_id)


def safety_alerts_visible_to(user: User) -> QuerySet[SafetyAlert]:
    return SafetyAlert.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "assessment", "cssrs_screen", "follow_up", "follow_up__recorded_by"
    )


def cssrs_screens_visible_to(user: User) -> QuerySet[CssrsScreen]:
    return CssrsScreen.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "entered_by", "safety_alert"
    )


def safety_follow_ups_visible_to(user: User) -> QuerySet[SafetyFollowUp]:
    return (
        SafetyFollowUp.objects.filter(patient__in=patients_on_care_team_of(user))
        .select_related("patient", "recorded_by")
        .prefetch_related("resolved_alerts__assessment")
    )


# --- One patient ------------------------------------------------------------------


def assessments_of(patient: Patient) -> QuerySet[Assessment]:
    return Assessment.objects.filter(patient=patient).select_related("entered_by")


def open_safety_alerts_of(patient: Patient) -> list[SafetyAlert]:
    return list(
        SafetyAlert.objects.filter(patient=patient, status=SafetyAlertStatus.OPEN)
        .select_related("assessment", "cssrs_screen")
        .order_by("raised_at", "id")
    )


def cssrs_offered(patient: Patient, open_alerts: list[SafetyAlert]) -> bool:
    """Offer the C-SSRS while a PHQ-9 item-9 alert is open and no screener was asked since it
    (CLINICAL.md b4: a positive item 9 needs a suicide-risk assessment)."""
    item9 = [a for a in open_alerts if a.source == SafetySource.PHQ9_ITEM9]
    if not item9:
        return False
    since = min(a.source_date for a in item9)
    return not CssrsScreen.objects.filter(patient=patient, screened_on__gte=since).exists()


def safety_follow_ups_of(patient: Patient) -> QuerySet[SafetyFollowUp]:
    return SafetyFollowUp.objects.filter(patient=patient).select_related("recorded_by")


def episode_start_of(patient: Patient) -> date | None:
    """The day the patient's last completed care plan closed; scores after it start a new episode."""
    completed = (
        CarePlan.objects.filter(patient=patient, status=CarePlanStatus.COMPLETED)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    return timezone.localdate(completed) if completed else None


@dataclass(frozen=True)
class OutcomeFlags:
    change_percent: float | None  # negative = fewer symptoms than at baseline
    response: bool | None
    remission: bool | None
    not_improving: bool | None
    weeks_in_treatment: int


def outcome_flags(
    *, instrument: Instrument, baseline_score: int, baseline_date: date, latest_score: int, today: date
) -> OutcomeFlags:
    """Treat-to-target flags for one instrument (module docstring has the sources)."""
    change = None if baseline_score == 0 else round((latest_score - baseline_score) * 100 / baseline_score, 1)
    weeks = max((today - baseline_date).days, 0) // 7
    if instrument.code not in TARGET_INSTRUMENTS:
        return OutcomeFlags(change, None, None, None, weeks)
    response = baseline_score > 0 and latest_score <= baseline_score * RESPONSE_REDUCTION
    remission = instrument.remission_below is not None and latest_score < instrument.remission_below
    old_enough = today - baseline_date >= NOT_IMPROVING_AFTER
    return OutcomeFlags(change, response, remission, old_enough and not response and not remission, weeks)


@dataclass(frozen=True)
class OutcomeSummary:
    instrument: Instrument
    baseline: Assessment | None
    latest: Assessment | None
    flags: OutcomeFlags | None
    count: int


def outcome_summaries(
    *,
    assessments: list[Assessment],
    episode_start: date | None,
    today: date,
) -> dict[str, OutcomeSummary]:
    """Per instrument, from assessments already loaded in date order (no further queries)."""
    summaries = {}
    for code in SUMMARY_INSTRUMENTS:
        instrument = INSTRUMENTS[code]
        episode = [
            a
            for a in assessments
            if a.instrument == code
            and a.administered_on <= today
            and (episode_start is None or a.administered_on > episode_start)
        ]
        if not episode:
            summaries[code.value] = OutcomeSummary(instrument, None, None, None, 0)
            continue
        baseline, latest = episode[0], episode[-1]
        flags = outcome_flags(
            instrument=instrument,
            baseline_score=baseline.total_score,
            baseline_date=baseline.administered_on,
            latest_score=latest.total_score,
            today=today,
        )
        summaries[code.value] = OutcomeSummary(instrument, baseline, latest, flags, len(episode))
    return summaries


def patient_outcome_summaries(*, patient: Patient, today: date | None = None) -> dict[str, OutcomeSummary]:
    today = today or timezone.localdate()
    assessments = list(assessments_of(patient).order_by("administered_on", "created_at", "id"))
    return outcome_summaries(assessments=assessments, episode_start=episode_start_of(patient), today=today)


# --- Many patients at once (caseload, reminder scans) ------------------------------


def _episode_start(patient: Any = None) -> Coalesce:
    """`patient`: the expression naming the patient's id (default OuterRef("pk"))."""
    last_completed = (
        CarePlan.objects.filter(patient=OuterRef("pk") if patient is None else patient, status=CarePlanStatus.COMPLETED)
        .order_by("-updated_at")
        .annotate(day=TruncDate("updated_at"))
        .values("day")[:1]
    )
    return Coalesce(
        Subquery(last_completed, output_field=DateField()), Value(_NO_EPISODE_START), output_field=DateField()
    )


def _episode_scores(code: str, today: date, patient: Any = None, start: Any = None) -> QuerySet[Assessment]:
    """`patient`, `start`: expressions for the patient's id and episode start (default the
    outer query's pk and episode_start)."""
    return Assessment.objects.filter(
        patient=OuterRef("pk") if patient is None else patient,
        instrument=code,
        administered_on__lte=today,
        administered_on__gt=OuterRef("episode_start") if start is None else start,
    )


def episode_scores_laterals(code: str, today: date, *, patient_sql: str) -> tuple[str, list[Any]]:
    """For SQL over many patients (the reminder scan): three LATERAL subqueries over the patient
    whose id is `patient_sql`, giving `<key>_episode.episode_start`, `<key>_first` and `<key>_last`
    (each `administered_on, total_score`) of the episode's scores, the same as annotate_outcomes'
    baseline and latest, probed once per patient instead of once per use of each value."""
    key = annotation_key(code)
    patient = RawSQL(patient_sql, ())  # noqa: S611  (our own column reference, no input)
    query = Query(Patient)
    start_sql, start_params = (
        _episode_start(patient).resolve_expression(query).as_sql(query.get_compiler(connection=connection), connection)
    )
    start = RawSQL(f"{key}_episode.episode_start", (), output_field=DateField())  # noqa: S611
    # OFFSET 0: evaluated once a patient, not inlined into each of the two probes below.
    parts = [f"CROSS JOIN LATERAL (SELECT {start_sql} AS episode_start OFFSET 0) AS {key}_episode"]
    params = list(start_params)
    for name, order in (
        ("first", ("administered_on", "created_at", "id")),
        ("last", ("-administered_on", "-created_at", "-id")),
    ):
        scores = (
            _episode_scores(code, today, patient, start).order_by(*order).values("administered_on", "total_score")[:1]
        )
        sql, scores_params = scores.query.sql_with_params()
        parts.append(f"CROSS JOIN LATERAL ({sql}) AS {key}_{name} (administered_on, total_score)")
        params.extend(scores_params)
    return " ".join(parts), params


class OutcomeAnnotations(TypedDict):
    """What `annotate_outcomes` adds (the gad7_* ones only when GAD-7 is among the instruments)."""

    episode_start: date
    phq9_baseline: int | None
    phq9_baseline_on: date | None
    phq9_latest: int | None
    phq9_latest_on: date | None
    gad7_baseline: int | None
    gad7_baseline_on: date | None
    gad7_latest: int | None
    gad7_latest_on: date | None
    safety_alert_open: bool
    case_review_open: bool


def annotate_outcomes(
    patients: QuerySet[Patient],
    *,
    today: date,
    instruments: tuple[str, ...] = (InstrumentCode.PHQ9, InstrumentCode.GAD7),
) -> "QuerySet[WithAnnotations[Patient, OutcomeAnnotations]]":
    """Adds, per instrument ("phq9", "gad7"): <key>_baseline, <key>_baseline_on, <key>_latest,
    <key>_latest_on; plus safety_alert_open and case_review_open. One SQL query."""
    annotated = patients.annotate(episode_start=_episode_start())
    for code in instruments:
        key = annotation_key(code)
        first = _episode_scores(code, today).order_by("administered_on", "created_at", "id")
        last = _episode_scores(code, today).order_by("-administered_on", "-created_at", "-id")
        annotated = annotated.annotate(
            **{
                f"{key}_baseline": Subquery(first.values("total_score")[:1]),
                f"{key}_baseline_on": Subquery(first.values("administered_on")[:1]),
                f"{key}_latest": Subquery(last.values("total_score")[:1]),
                f"{key}_latest_on": Subquery(last.values("administered_on")[:1]),
            }
        )
    annotated = annotated.annotate(
        safety_alert_open=Exists(SafetyAlert.objects.filter(patient=OuterRef("pk"), status=SafetyAlertStatus.OPEN)),
        case_review_open=Exists(CaseReview.objects.filter(patient=OuterRef("pk"), status=CaseReviewStatus.REQUESTED)),
    )
    # The per-instrument names are built from `key`, which the plugin cannot follow.
    return cast("QuerySet[WithAnnotations[Patient, OutcomeAnnotations]]", annotated)


def annotation_key(code: str) -> str:
    return code.lower().replace("-", "")


def flags_from_annotations(patient: Patient, code: str, today: date) -> OutcomeFlags | None:
    key = annotation_key(code)
    baseline = getattr(patient, f"{key}_baseline")
    if baseline is None:
        return None
    return outcome_flags(
        instrument=INSTRUMENTS[code],
        baseline_score=baseline,
        baseline_date=getattr(patient, f"{key}_baseline_on"),
        latest_score=getattr(patient, f"{key}_latest"),
        today=today,
    )


@dataclass
class CaseloadRow:
    patient: Patient
    phq9: OutcomeFlags | None
    gad7: OutcomeFlags | None
    safety_alert_open: bool
    case_review_open: bool

    @property
    def phq9_latest(self) -> int | None:
        return self.patient.phq9_latest  # type: ignore[attr-defined]

    @property
    def gad7_latest(self) -> int | None:
        return self.patient.gad7_latest  # type: ignore[attr-defined]


def _flag(condition: Q | Exists) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _phq9_response() -> Q:
    # outcome_flags' rule in SQL: baseline > 0 and latest <= baseline / 2 (integers: 2 * latest <= baseline).
    return Q(phq9_baseline__gt=0, phq9_baseline__gte=F("phq9_latest") * 2)


def _phq9_remission() -> Q:
    return Q(phq9_latest__lt=INSTRUMENTS[InstrumentCode.PHQ9].remission_below)


def _caseload_sort_keys(today: date) -> dict[str, tuple[Any, bool]]:
    """key -> (SQL expression over annotate_outcomes' columns, never NULL; descending?).
    Flags sort "yes" first, scores highest first, weeks longest first; names break ties."""
    return {
        "safety": (_flag(Q(safety_alert_open=True)), True),
        "review": (_flag(Q(case_review_open=True)), True),
        "not_improving": (
            _flag(Q(phq9_baseline_on__lte=today - NOT_IMPROVING_AFTER) & ~_phq9_response() & ~_phq9_remission()),
            True,
        ),
        "response": (_flag(_phq9_response()), True),
        "remission": (_flag(_phq9_remission()), True),
        "phq9": (Coalesce("phq9_latest", Value(-1)), True),
        # The oldest baseline has the most weeks in treatment; no baseline sorts last.
        "weeks": (Coalesce("phq9_baseline_on", Value(date.max), output_field=DateField()), False),
    }


def _phq9_aliased(patients: QuerySet[Patient], today: date) -> QuerySet[Patient]:
    """annotate_outcomes' PHQ-9 and open-item columns as alias(): usable in ORDER BY and WHERE,
    never selected, so sorting a caseload computes only the one expression it sorts by."""
    first = _episode_scores(InstrumentCode.PHQ9, today).order_by("administered_on", "created_at", "id")
    last = _episode_scores(InstrumentCode.PHQ9, today).order_by("-administered_on", "-created_at", "-id")
    return patients.alias(episode_start=_episode_start()).alias(
        phq9_baseline=Subquery(first.values("total_score")[:1]),
        phq9_baseline_on=Subquery(first.values("administered_on")[:1]),
        phq9_latest=Subquery(last.values("total_score")[:1]),
        safety_alert_open=Exists(SafetyAlert.objects.filter(patient=OuterRef("pk"), status=SafetyAlertStatus.OPEN)),
        case_review_open=Exists(CaseReview.objects.filter(patient=OuterRef("pk"), status=CaseReviewStatus.REQUESTED)),
    )


# What the keyset needs of each patient; the page's rows are loaded again with their scores.
_PAGE_COLUMNS = ("id", "public_id", "family_name", "given_name")

CASELOAD_SORTS = {
    "name": "Patient",
    "safety": "Safety alert",
    "review": "Case review",
    "not_improving": "Not improving",
    "response": "Response",
    "remission": "Remission",
    "phq9": "PHQ-9",
    "weeks": "Weeks",
}
CASELOAD_SORT_DEFAULT = "safety"
SORT_KEY = "mbc_sort_key"


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    page: KeysetPage  # its rows are the patients, for the pager


def caseload_outcomes_page(
    *,
    user: User,
    today: date | None = None,
    sort: str = CASELOAD_SORT_DEFAULT,
    query: str = "",
    after: str | None = None,
    size: int = PAGE_SIZE,
) -> CaseloadPage:
    """One keyset page of the user's caseload with treat-to-target flags, in an allow-listed
    order, narrowed by a search (careplans.search). Two queries (three with a cursor): the page,
    ordered in SQL by the one sort expression (cost: an index probe or two per caseload patient,
    never per clinic patient), then annotate_outcomes for its rows only. One query with every
    score in the select list made PostgreSQL's estimate large enough to JIT-compile it (2 s)."""
    today = today or timezone.localdate()
    patients = patients_matching(patients_on_care_team_of(user), query).only(*_PAGE_COLUMNS)
    lead = None
    if sort != "name":
        expression, descending = (
            _caseload_sort_keys(today).get(sort) or _caseload_sort_keys(today)[CASELOAD_SORT_DEFAULT]
        )
        patients = _phq9_aliased(patients, today).alias(**{SORT_KEY: expression})
        lead = LeadKey(SORT_KEY, descending=descending)
    page = keyset_page(patients, after=after, size=size, lead=lead)
    # The scores and flags of the page's patients only (the sort above computed one column).
    shown = annotate_outcomes(Patient.objects.filter(pk__in=[p.pk for p in page.rows]), today=today).in_bulk()
    rows = [
        CaseloadRow(
            patient=p,
            phq9=flags_from_annotations(p, InstrumentCode.PHQ9, today),
            gad7=flags_from_annotations(p, InstrumentCode.GAD7, today),
            safety_alert_open=p.safety_alert_open,
            case_review_open=p.case_review_open,
        )
        for p in (shown[patient.pk] for patient in page.rows)
    ]
    return CaseloadPage(rows=rows, page=page)


def caseload_outcomes(
    *, user: User, today: date | None = None, sort: str = CASELOAD_SORT_DEFAULT, size: int = PAGE_SIZE
) -> list[CaseloadRow]:
    """The first page of `caseload_outcomes_page`'s rows."""
    return caseload_outcomes_page(user=user, today=today, sort=sort, size=size).rows


# --- The integrated timeline's other sources ---------------------------------------------


def dose_events_of(patient: Patient) -> list[Any]:
    """medications.selectors.timeline_dose_events, or nothing if the medications app lacks it."""
    try:
        from medications.selectors import timeline_dose_events
    except ImportError:
        return []
    return list(timeline_dose_events(patient=patient))


def session_events_of(patient: Patient) -> list[Any]:
    """therapy.selectors.timeline_session_events, or nothing if the therapy app lacks it."""
    try:
        from therapy.selectors import timeline_session_events
    except ImportError:
        return []
    return list(timeline_session_events(patient=patient))


# Between-session check-ins come from patient_portal, which sits above outcomes: it registers its
# selector in AppConfig.ready() so outcomes draws them without importing it (DESIGN.md arrows).
_CHECK_IN_SOURCES: list[Callable[[Patient], Sequence[Any]]] = []


def check_in_source_register(fn: Callable[[Patient], Sequence[Any]]) -> None:
    if fn not in _CHECK_IN_SOURCES:
        _CHECK_IN_SOURCES.append(fn)


def check_in_events_of(patient: Patient) -> list[Any]:
    """The patient's check-ins for the timeline (shaped like outcomes.timeline.CheckInLike)."""
    return [event for fn in _CHECK_IN_SOURCES for event in fn(patient)]
