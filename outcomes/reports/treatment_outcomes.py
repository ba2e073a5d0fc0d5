"""Report 2, outcomes by treatment combination: patients on medication only, therapy only,
both (and neither: care management alone), with N, response rate, remission rate and median
change at 12 weeks and at 6 months: the clinic's own evidence on combined treatment.

Definitions (CLINICAL.md §1 and b3):
- cohort: patients whose episode baseline PHQ-9 (outcomes.selectors.annotate_outcomes) falls
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
- median change = median of (score - baseline) / baseline in %, negative = better, computed
  in the database with window functions (outcomes.reports.sql.medians_by_group).
"""

from collections.abc import Mapping
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast

from careplans.models import Patient
from medications.models import Regimen
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment
from outcomes.reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    no_progress,
    patients_in_scope,
    percent,
)
from outcomes.reports.charts import Series, bar_chart
from outcomes.reports.sql import AddDays, medians_by_group
from outcomes.selectors import annotate_outcomes
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
    return Exists(model.objects.filter(  # type: ignore[attr-defined]
        Q(**{f"{end_field}__isnull": True}) | Q(**{f"{end_field}__gte": baseline}),
        patient=OuterRef("pk"), **{f"{start_field}__lte": AddDays(baseline, ACUTE_PHASE_DAYS)},
    ))


def _score_between(first_day: int, last_day: int, params: ReportParams) -> Subquery:
    baseline = OuterRef("phq9_baseline_on")
    scores = Assessment.objects.filter(
        patient=OuterRef("pk"), instrument=InstrumentCode.PHQ9, administered_on__lte=params.today,
    ).filter(administered_on__gte=AddDays(baseline, first_day), administered_on__lte=AddDays(baseline, last_day))
    return Subquery(scores.order_by("-administered_on", "-created_at", "-id").values("total_score")[:1],
                    output_field=IntegerField())


def cohort(params: ReportParams) -> QuerySet[Patient]:
    patients = annotate_outcomes(patients_in_scope(params), today=params.today, instruments=(InstrumentCode.PHQ9,))
    patients = patients.filter(phq9_baseline_on__gte=params.start, phq9_baseline_on__lte=params.end,
                               phq9_baseline__gte=INDEX_MINIMUM)
    on_medication = _running(Regimen, "start_date", "stopped_on")
    in_therapy = _running(TherapyCourse, "started_on", "ended_on")
    patients = patients.annotate(treatment=Case(
        When(on_medication & in_therapy, then=Value("both")),
        When(on_medication, then=Value("medication")),
        When(in_therapy, then=Value("therapy")),
        default=Value("neither"), output_field=CharField(),
    ), everyone=Value(ALL, output_field=CharField()))
    for key, (first_day, last_day, _) in WINDOWS.items():
        patients = patients.annotate(**{f"score_{key}": _score_between(first_day, last_day, params)})
        patients = patients.annotate(**{
            f"twice_{key}": F(f"score_{key}") * 2,
            f"change_{key}": Cast((F(f"score_{key}") - F("phq9_baseline")) * 100.0 / F("phq9_baseline"),
                                  FloatField()),
        })
    return patients


def _counts() -> dict[str, Count]:
    counts = {"patients": Count("pk")}
    for key in WINDOWS:
        counts |= {
            f"measured_{key}": Count("pk", filter=Q(**{f"score_{key}__isnull": False})),
            f"response_{key}": Count("pk", filter=Q(**{f"twice_{key}__lte": F("phq9_baseline")})),
            f"remission_{key}": Count("pk", filter=Q(**{f"score_{key}__lt": REMISSION_BELOW})),
        }
    return counts


def _window_section(key: str, label: str, stats: dict[str, dict[str, Any]],
                    medians: dict[str, dict[Any, float | None]]) -> Section:
    rows = []
    for group, group_label in [*GROUPS, (ALL, "All patients")]:
        row = stats.get(group, {})
        measured = row.get(f"measured_{key}", 0)
        rows.append({
            "treatment": group_label,
            "patients": row.get("patients", 0),
            "measured": measured,
            "response_rate": percent(row.get(f"response_{key}"), measured),
            "remission_rate": percent(row.get(f"remission_{key}"), measured),
            "median_change": medians[key].get(group),
        })
    chart = bar_chart(
        title=f"Response and remission {label.lower()}, by treatment",
        categories=[(row["treatment"], [row["response_rate"], row["remission_rate"]]) for row in rows
                    if row["measured"]],
        series=[Series("a", "Response"), Series("b", "Remission")], unit=" %", max_value=100)
    return Section(f"window_{key}", label, [
        Column("treatment", "Treatment"), Column("patients", "Patients", "int"),
        Column("measured", "Measured in window", "int"), Column("response_rate", "Response", "percent"),
        Column("remission_rate", "Remission", "percent"), Column("median_change", "Median change %", "number"),
    ], rows if any(row["patients"] for row in rows) else [], chart=chart,
        empty="No patient had a baseline PHQ-9 of 10 or more in this period.")


class TreatmentOutcomesReport(Report):
    key = "treatment_outcomes"
    title = "Outcomes by treatment"
    description = ("Medication only, therapy only and both: patients, response and remission rates and median "
                   "PHQ-9 change at 12 weeks and 6 months.")
    order = 20

    def run(self, params: ReportParams, *, options: Mapping[str, Any] | None = None,
            paginate: bool = True, progress: Progress = no_progress) -> ReportResult:
        patients = cohort(params)
        stats = {row["treatment"]: row for row in patients.values("treatment").annotate(**_counts()).order_by()}
        stats[ALL] = patients.aggregate(**_counts())
        progress(40)
        medians: dict[str, dict[Any, float | None]] = {}
        for key in WINDOWS:
            medians[key] = medians_by_group(patients, group="treatment", value=f"change_{key}")
            medians[key] |= medians_by_group(patients, group="everyone", value=f"change_{key}")
        progress(90)
        note = ("Patients whose first PHQ-9 of the episode fell in the period and was 10 or more. Treatment: a "
                "regimen and/or a therapy course running in the first 16 weeks. Score at 12 weeks: the latest "
                "PHQ-9 8 to 16 weeks after baseline; at 6 months: days 152 to 212. Response: at least 50 % "
                "below baseline; remission: below 5; rates are of the patients measured in the window.")
        sections = [_window_section(key, label, stats, medians) for key, (_, _, label) in WINDOWS.items()]
        sections[0].note = note
        progress(100)
        return ReportResult(report=self, params=params, sections=sections)


REPORT = TreatmentOutcomesReport()
