"""Report 2, outcomes by treatment combination: patients on medication only, therapy only,
both (and neither: care management alone), with N, response rate, remission rate and median
change at 12 weeks and at 6 months: the clinic's own evidence on combined treatment.

Definitions (CLINICAL.md §1 and b3):
- cohort: patients whose episode baseline PHQ-9 (outcomes.selectors.annotate_outcomes, read
  from the incremental report facts, reports/facts.py) falls
  in the period and is 10 or more (CMS159/NQF 0710: index PHQ-9 > 9);
- treatment: a medication regimen and/or a therapy course running at some time during the
  acute phase, from the baseline to the end of the 12-week window (day 112); entered-in-error
  rows never count;
- score at 12 weeks: the latest PHQ-9 from day 56 to day 112 after the baseline (12 weeks
  +/- 4); at 6 months: the latest from day 152 to day 212 (26 weeks +/- 30 days). "Latest in
  a window around the anniversary" follows CMS159 (12 months +/- 60 days); the windows'
  widths are ours;
- response = at least 50 % below baseline (Psychiatric Services 2019; NQF 1885);
  remission = PHQ-9 < 5; rates are of the patients measured in the window;
- median change = median of (score - baseline) / baseline in %, negative = better (the mean of
  the middle one or two), computed in the database (reports.sql.median_sql).
"""

from collections.abc import Mapping
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from careplans.models import Patient
from medications.models import Regimen
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment
from reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    patients_in_scope,
    percent,
)
from reports.charts import Series, bar_chart
from reports.facts import facts_refresh_dirty, with_phq9_baseline
from reports.sql import AddDays, by_group_and_total, facts_cte, fetch_dicts, median_sql
from therapy.models import TherapyCourse

INDEX_MINIMUM = 10  # CMS159: index PHQ-9 > 9
REMISSION_BELOW = 5
ACUTE_PHASE_DAYS = 112
WINDOWS = {"12w": (56, 112, "At 12 weeks"), "6m": (152, 212, "At 6 months")}
GROUPS = [
    ("medication", "Medication only"),
    ("therapy", "Therapy only"),
    ("both", "Medication and therapy"),
    ("neither", "Neither (care management only)"),
]
ALL = "all"


def _running(model: type, start_field: str, end_field: str) -> Exists:
    baseline = OuterRef("phq9_baseline_on")
    return Exists(
        model.objects.filter(  # type: ignore[attr-defined]
            Q(**{f"{end_field}__isnull": True}) | Q(**{f"{end_field}__gte": baseline}),
            patient=OuterRef("pk"),
            **{f"{start_field}__lte": AddDays(baseline, ACUTE_PHASE_DAYS)},
        )
    )


def _score_between(first_day: int, last_day: int, params: ReportParams) -> Subquery:
    baseline = OuterRef("phq9_baseline_on")
    scores = Assessment.objects.filter(
        patient=OuterRef("pk"),
        instrument=InstrumentCode.PHQ9,
        administered_on__lte=params.today,
    ).filter(administered_on__gte=AddDays(baseline, first_day), administered_on__lte=AddDays(baseline, last_day))
    return Subquery(
        scores.order_by("-administered_on", "-created_at", "-id").values("total_score")[:1], output_field=IntegerField()
    )


def cohort(params: ReportParams) -> QuerySet[Patient]:
    patients = with_phq9_baseline(patients_in_scope(params))
    patients = patients.filter(
        phq9_baseline_on__gte=params.start, phq9_baseline_on__lte=params.end, phq9_baseline__gte=INDEX_MINIMUM
    )
    on_medication = _running(Regimen, "start_date", "stopped_on")
    in_therapy = _running(TherapyCourse, "started_on", "ended_on")
    patients = patients.annotate(
        treatment=Case(
            When(on_medication & in_therapy, then=Value("both")),
            When(on_medication, then=Value("medication")),
            When(in_therapy, then=Value("therapy")),
            default=Value("neither"),
            output_field=CharField(),
        )
    )
    for key, (first_day, last_day, _) in WINDOWS.items():
        patients = patients.annotate(**{f"score_{key}": _score_between(first_day, last_day, params)})
    return patients


def outcome_stats(params: ReportParams) -> dict[tuple[str, str], dict[str, Any]]:
    """(treatment or "all", window) -> patients, measured, responses, remissions, median change.

    One query, one pass over the cohort (its facts once, sql.facts_cte): counts and medians per
    treatment and for all patients (sql.by_group_and_total, median_sql)."""
    facts_refresh_dirty(today=params.today)  # the cohort's baselines come from the report facts
    fields = ["treatment", "phq9_baseline", *(f"score_{key}" for key in WINDOWS)]
    with_facts, params_sql = facts_cte(cohort(params), fields)
    aggregates = ["COUNT(*) AS patients"]
    # Only module constants (window keys, the remission threshold) and the ORM's compiled SQL are
    # interpolated; every value is a parameter.
    for key in WINDOWS:
        score = f"score_{key}"
        aggregates += [
            f"COUNT({score}) AS measured_{key}",
            f"SUM(CASE WHEN {score} * 2 <= phq9_baseline THEN 1 ELSE 0 END) AS responses_{key}",
            f"SUM(CASE WHEN {score} < {int(REMISSION_BELOW)} THEN 1 ELSE 0 END) AS remissions_{key}",
            f"{median_sql(f'({score} - phq9_baseline) * 100.0 / phq9_baseline')} AS median_{key}",
        ]
    sql = f"{with_facts} {by_group_and_total('facts', 'treatment', ', '.join(aggregates))}"
    rows = fetch_dicts(sql, params_sql)
    return {
        (ALL if row["is_total"] else row["grp"], key): {
            "patients": row["patients"],
            "measured": int(row[f"measured_{key}"] or 0),
            "responses": int(row[f"responses_{key}"] or 0),
            "remissions": int(row[f"remissions_{key}"] or 0),
            "median": None if row[f"median_{key}"] is None else round(float(row[f"median_{key}"]), 1),
        }
        for row in rows
        for key in WINDOWS
    }


def _window_section(key: str, label: str, stats: dict[tuple[str, str], dict[str, Any]]) -> Section:
    rows = []
    for group, group_label in [*GROUPS, (ALL, "All patients")]:
        row = stats.get((group, key), {})
        measured = row.get("measured", 0)
        rows.append(
            {
                "treatment": group_label,
                "patients": row.get("patients", 0),
                "measured": measured,
                "response_rate": percent(row.get("responses"), measured),
                "remission_rate": percent(row.get("remissions"), measured),
                "median_change": row.get("median"),
            }
        )
    chart = bar_chart(
        title=f"Response and remission {label.lower()}, by treatment",
        categories=[
            (row["treatment"], [row["response_rate"], row["remission_rate"]]) for row in rows if row["measured"]
        ],
        series=[Series("a", "Response"), Series("b", "Remission")],
        unit=" %",
        max_value=100,
    )
    return Section(
        f"window_{key}",
        label,
        [
            Column("treatment", "Treatment"),
            Column("patients", "Patients", "int"),
            Column("measured", "Measured in window", "int"),
            Column("response_rate", "Response", "percent"),
            Column("remission_rate", "Remission", "percent"),
            Column("median_change", "Median change %", "number"),
        ],
        rows if any(row["patients"] for row in rows) else [],
        chart=chart,
        empty="No patient had a baseline PHQ-9 of 10 or more in this period.",
    )


class TreatmentOutcomesReport(Report):
    key = "treatment_outcomes"
    title = "Outcomes by treatment"
    description = (
        "Medication only, therapy only and both: patients, response and remission rates and median "
        "PHQ-9 change at 12 weeks and 6 months."
    )
    order = 20

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        stats = outcome_stats(params)
        progress(90)
        note = (
            "Patients whose first PHQ-9 of the episode fell in the period and was 10 or more. Treatment: a "
            "regimen and/or a therapy course running in the first 16 weeks. Score at 12 weeks: the latest "
            "PHQ-9 8 to 16 weeks after baseline; at 6 months: days 152 to 212. Response: at least 50 % "
            "below baseline; remission: below 5; rates are of the patients measured in the window."
        )
        sections = [_window_section(key, label, stats) for key, (_, _, label) in WINDOWS.items()]
        sections[0].note = note
        progress(100)
        return ReportResult(report=self, params=params, sections=sections)


REPORT = TreatmentOutcomesReport()
