"""Report 3, process measures of collaborative care (CLINICAL.md §1, Bao et al. 2015; CMS160):

1. Follow-up within 4 weeks of intake: of the patients whose first contact falls in the
   period (and whose 4 weeks have passed), the share with another contact in the 28 days
   after it. A contact is a questionnaire, an attended therapy session, a safety follow-up
   or an adherence check.
2. Psychiatric case review in weeks 8-12 for non-responders: of the patients whose episode
   baseline PHQ-9 (10 or more) falls in the period and whose week 12 has passed, those not
   responding by week 8 (latest PHQ-9 up to day 56 not at least 50 % below baseline), the
   share with a case review held (reviewed) between day 56 and day 84.
3. PHQ-9 in each 4-month period (CMS160): for each calendar 4-month period (Jan-Apr, May-Aug,
   Sep-Dec) within the chosen period, of the patients with depression (F32/F33 on a care plan)
   and a contact in it, the share with a PHQ-9 in it.
Each measure is one aggregate query. Aggregates only (issue 12 item 5): the list of
non-responders without a review is the care teams' report `missed_reviews`
(reports/care_team_lists.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate

from careplans.models import CaseReview, CaseReviewStatus, Patient
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment
from outcomes.selectors import OutcomeAnnotations
from reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    in_scope,
    patients_in_scope,
    percent,
)
from reports.charts import Series, bar_chart
from reports.contacts import FOLLOW_UP_DAYS, contacts, has_depression, period_of
from reports.facts import facts_refresh_dirty, with_phq9_baseline
from reports.models import ContactPeriodFacts, PatientReportFacts
from reports.sql import AddDays

if TYPE_CHECKING:  # django-stubs' helper; not needed at run time
    from django_stubs_ext import WithAnnotations

INDEX_MINIMUM = 10
WEEK_8, WEEK_12 = 56, 84
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def follow_up_measure(params: ReportParams) -> dict[str, Any]:
    """From each patient's stored intake and whether it was followed up (reports.facts, with
    reports.contacts' definitions). The caller refreshes the marked patients' facts first."""
    facts = PatientReportFacts.objects.filter(in_scope(params), intake_on__gte=params.start, intake_on__lte=params.end)
    window_closed = Q(intake_on__lte=params.today - timedelta(days=FOLLOW_UP_DAYS))
    return facts.aggregate(
        intakes=Count("pk"),
        eligible=Count("pk", filter=window_closed),
        met=Count("pk", filter=window_closed & Q(intake_followed_up=True)),
    )


class NonResponderAnnotations(OutcomeAnnotations):
    """What `_non_responders` adds to `annotate_outcomes`."""

    week_8: int | None
    twice_week_8: int | None
    reviewed: bool


def _non_responders(params: ReportParams) -> "QuerySet[WithAnnotations[Patient, NonResponderAnnotations]]":
    today = params.today
    # Only baselines whose week 12 has passed: the review window is closed.
    last_baseline = min(params.end, today - timedelta(days=WEEK_12))
    facts_refresh_dirty(today=today)  # the baselines come from the report facts
    patients = with_phq9_baseline(patients_in_scope(params)).filter(
        phq9_baseline_on__gte=params.start, phq9_baseline_on__lte=last_baseline, phq9_baseline__gte=INDEX_MINIMUM
    )
    baseline = OuterRef("phq9_baseline_on")
    by_week_8 = (
        Assessment.objects.filter(
            patient=OuterRef("pk"),
            instrument=InstrumentCode.PHQ9,
            administered_on__gte=baseline,
            administered_on__lte=AddDays(baseline, WEEK_8),
        )
        .order_by("-administered_on", "-created_at", "-id")
        .values("total_score")[:1]
    )
    reviewed = CaseReview.objects.annotate(day=TruncDate("reviewed_at")).filter(
        patient=OuterRef("pk"),
        status=CaseReviewStatus.COMPLETED,
        day__gte=AddDays(baseline, WEEK_8),
        day__lte=AddDays(baseline, WEEK_12),
    )
    return (
        patients.annotate(week_8=Subquery(by_week_8))
        .annotate(twice_week_8=F("week_8") * 2)
        .filter(twice_week_8__gt=F("phq9_baseline"))
        .annotate(reviewed=Exists(reviewed))
    )


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    label: str  # the calendar period, e.g. "2025 May–Aug", even when clipped to the chosen dates


def four_month_windows(start: date, end: date) -> list[Window]:
    """Calendar 4-month periods (CMS160: Jan-Apr, May-Aug, Sep-Dec) overlapping [start, end],
    clipped to it."""
    windows = []
    year, month = start.year, ((start.month - 1) // 4) * 4 + 1
    while date(year, month, 1) <= end:
        next_year, next_month = (year + 1, 1) if month == 9 else (year, month + 4)
        last_day = date(next_year, next_month, 1) - timedelta(days=1)
        label = f"{year} {MONTH_NAMES[month - 1]}–{MONTH_NAMES[month + 2]}"
        windows.append(Window(max(start, date(year, month, 1)), min(end, last_day), label))
        year, month = next_year, next_month
    return windows


def _depressed(params: ReportParams) -> QuerySet[Patient]:
    return patients_in_scope(params).filter(has_depression())


def _utilisation_from_periods(params: ReportParams, windows: list[Window]) -> dict[int, dict[str, Any]]:
    """period -> eligible, met, from the stored contacts per 4-month period (ContactPeriodFacts).
    Only the first and last windows are clipped by the chosen dates: a contact in [start, the
    period's end] exists if the period's last contact is on or after `start`, one in [the period's
    start, end] if its first is on or before `end`; for the periods between both hold anyway.
    The caller refreshes the marked patients' facts first."""
    start, end = params.start, params.end
    rows = (
        ContactPeriodFacts.objects.filter(
            in_scope(params),
            # The patient facts' copy of reports.contacts.has_depression (refreshed with them).
            patient__report_facts__has_depression=True,
            period__gte=period_of(windows[0].start),
            period__lte=period_of(windows[-1].start),
            last_contact_on__gte=start,
            first_contact_on__lte=end,
        )
        .values("period")
        .annotate(eligible=Count("pk"), met=Count("pk", filter=Q(last_phq9_on__gte=start, first_phq9_on__lte=end)))
        .order_by()
    )
    return {row["period"]: dict(row) for row in rows}


def _utilisation_from_contacts(params: ReportParams, windows: list[Window]) -> dict[int, dict[str, Any]]:
    """The same from the contacts themselves, for a period inside one 4-month period (clipped at
    both ends, where the first and last contact days do not say whether one fell between)."""
    window = windows[0]
    seen = contacts(window.start, window.end, inclusive_start=True)
    measured = Exists(
        Assessment.objects.filter(
            patient=OuterRef("pk"),
            instrument=InstrumentCode.PHQ9,
            administered_on__gte=window.start,
            administered_on__lte=window.end,
        )
    )
    counts = (
        _depressed(params)
        .annotate(seen=seen, measured=measured)
        .aggregate(
            eligible=Count("pk", filter=Q(seen=True)),
            met=Count("pk", filter=Q(seen=True, measured=True)),
        )
    )
    return {period_of(window.start): counts}


def phq9_utilisation(params: ReportParams) -> list[dict[str, Any]]:
    windows = four_month_windows(params.start, params.end)
    if not windows:
        return []
    clipped_twice = len(windows) == 1 and period_of(params.start) == period_of(params.end)
    found = (_utilisation_from_contacts if clipped_twice else _utilisation_from_periods)(params, windows)
    rows = []
    for window in windows:
        counts = found.get(period_of(window.start), {"eligible": 0, "met": 0})
        rows.append(
            {
                "window": window.label,
                "from": window.start,
                "to": window.end,
                "eligible": counts["eligible"],
                "met": counts["met"],
                "rate": percent(counts["met"], counts["eligible"]),
            }
        )
    return rows


class ProcessMeasuresReport(Report):
    key = "process"
    title = "Process measures"
    description = (
        "Follow-up within 4 weeks of intake, psychiatric case review in weeks 8-12 for non-responders, "
        "and a PHQ-9 in each 4-month period."
    )
    order = 30

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        non_responders = _non_responders(params)  # refreshes the marked patients' facts
        review = non_responders.aggregate(eligible=Count("pk"), met=Count("pk", filter=Q(reviewed=True)))
        progress(25)
        follow_up = follow_up_measure(params)
        progress(50)
        utilisation = phq9_utilisation(params)
        progress(90)
        measures = [
            {
                "measure": "Follow-up within 4 weeks of intake",
                "eligible": follow_up["eligible"],
                "met": follow_up["met"],
                "rate": percent(follow_up["met"], follow_up["eligible"]),
                "pending": follow_up["intakes"] - follow_up["eligible"],
            },
            {
                "measure": "Case review in weeks 8-12 for non-responders",
                "eligible": review["eligible"],
                "met": review["met"],
                "rate": percent(review["met"], review["eligible"]),
                "pending": None,
            },
            {
                "measure": "PHQ-9 in each 4-month period (all periods)",
                "eligible": sum(row["eligible"] for row in utilisation),
                "met": sum(row["met"] for row in utilisation),
                "rate": percent(sum(row["met"] for row in utilisation), sum(row["eligible"] for row in utilisation)),
                "pending": None,
            },
        ]
        short = ["Follow-up in 4 weeks", "Review weeks 8-12", "PHQ-9 every 4 months"]
        chart = bar_chart(
            title="Process measures met",
            series=[Series("a", "Met")],
            unit=" %",
            max_value=100,
            categories=[(label, [row["rate"]]) for label, row in zip(short, measures, strict=True)],
        )
        sections = [
            Section(
                "measures",
                "Measures",
                [
                    Column("measure", "Measure"),
                    Column("eligible", "Eligible patients", "int"),
                    Column("met", "Met", "int"),
                    Column("rate", "Rate", "percent"),
                    Column("pending", "Window still open", "int"),
                ],
                measures,
                chart=chart,
                note="Follow-up: another contact (questionnaire, attended session, safety follow-up, adherence "
                "check) within 28 days of the first. Non-responder: baseline PHQ-9 of 10 or more, latest "
                "PHQ-9 by week 8 not at least 50 % lower; met when a case review was held in weeks 8-12.",
            ),
            Section(
                "phq9_periods",
                "PHQ-9 in each 4-month period",
                [
                    Column("window", "Period"),
                    Column("from", "From", "date"),
                    Column("to", "To", "date"),
                    Column("eligible", "Patients with depression seen", "int"),
                    Column("met", "With a PHQ-9", "int"),
                    Column("rate", "Rate", "percent"),
                ],
                utilisation,
                chart=bar_chart(
                    title="PHQ-9 completed, by 4-month period",
                    series=[Series("a", "Rate")],
                    unit=" %",
                    max_value=100,
                    categories=[(row["window"], [row["rate"]]) for row in utilisation],
                ),
                note="CMS160: patients with depression (F32/F33 on a care plan) and a contact in the period.",
            ),
        ]
        progress(100)
        return ReportResult(report=self, params=params, sections=sections)


REPORT = ProcessMeasuresReport()
