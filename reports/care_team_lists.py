"""Patient-level working lists for the care team (issue 12 item 5): what used to sit at the
bottom of the admins' process and monitoring reports, now scoped to the caller's own caseload
(reports.base: a CARE_TEAM report reads patients_on_care_team_of, never the admin scope).

- missed_reviews: non-responders without a psychiatric case review in weeks 8-12, the
  definition of the process measure (reports/process_measures.py; CLINICAL.md §1, Bao 2015);
- monitoring_overdue: every overdue monitoring test (medications.monitoring, the rule of the
  prescriber's chart and the monitoring_due reminders).
"""

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from medications.models import LabTest
from medications.monitoring import ItemStatus
from reports.base import Audience, Column, Progress, Report, ReportParams, ReportResult, Section
from reports.monitoring_compliance import monitoring_snapshot
from reports.process_measures import _non_responders

LIST_LIMIT = 500  # SECURITY.md PF-1: a page lists a bounded number of rows; the CSV has them all


def _name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


class MissedReviewsReport(Report):
    key = "missed_reviews"
    title = "Missed case reviews"
    description = "Your caseload's non-responders (PHQ-9) without a psychiatric case review in weeks 8-12."
    order = 12
    audience = Audience.CARE_TEAM

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        missed = _non_responders(params).filter(~Q(reviewed=True)).order_by("phq9_baseline_on", "family_name", "pk")
        fields = ("public_id", "family_name", "given_name", "mrn", "phq9_baseline_on", "phq9_baseline", "week_8")
        found = list(missed.values(*fields)[:LIST_LIMIT] if paginate else missed.values(*fields))
        progress(90)
        rows = [
            {
                "patient_id": str(row["public_id"]),
                "patient": f"{row['family_name']}, {row['given_name']}",
                "mrn": row["mrn"],
                "baseline_on": row["phq9_baseline_on"],
                "baseline": row["phq9_baseline"],
                "week_8": row["week_8"],
            }
            for row in found
        ]
        section = Section(
            "missed_reviews",
            "Non-responders without a case review in weeks 8-12",
            [
                Column("patient", "Patient", "patient"),
                Column("mrn", "MRN"),
                Column("baseline_on", "Baseline", "date"),
                Column("baseline", "Baseline PHQ-9", "int"),
                Column("week_8", "PHQ-9 by week 8", "int"),
            ],
            rows,
            note="Baseline PHQ-9 of 10 or more in the period, latest PHQ-9 by week 8 not at least 50 % lower, "
            "and no case review held in weeks 8-12 (closed windows only).",
            empty="Every non-responder had a case review in weeks 8-12.",
        )
        return ReportResult(report=self, params=params, sections=[section])


class MonitoringOverdueReport(Report):
    key = "monitoring_overdue"
    title = "Overdue monitoring"
    description = "Every overdue monitoring test of your caseload's active patients."
    uses_period = False
    order = 13
    audience = Audience.CARE_TEAM

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        regimens, schedules = monitoring_snapshot(params)
        progress(60)
        overdue = [
            (regimen, item)
            for regimen in regimens
            for item in schedules.get(regimen.pk, [])
            if item.status == ItemStatus.OVERDUE
        ]
        overdue.sort(key=lambda pair: (pair[1].due_date, pair[0].patient.family_name, pair[0].patient_id))
        today = params.today
        rows = [
            {
                "patient_id": str(regimen.patient.public_id),
                "patient": regimen.patient.display_name,
                "mrn": regimen.patient.mrn,
                "medication": regimen.medication.name,
                "test": LabTest(item.test).label,
                "step": item.label,
                "due_date": item.due_date,
                "days_overdue": (today - item.due_date).days,
                "last_done_on": item.last_done_on,
                "prescriber": _name(regimen.prescriber),
            }
            for regimen, item in overdue
        ]
        section = Section(
            "overdue",
            "Overdue tests",
            [
                Column("patient", "Patient", "patient"),
                Column("mrn", "MRN"),
                Column("medication", "Medication"),
                Column("test", "Test"),
                Column("step", "Step"),
                Column("due_date", "Due", "date"),
                Column("days_overdue", "Days overdue", "int"),
                Column("last_done_on", "Last done", "date"),
                Column("prescriber", "Prescriber"),
            ],
            rows,
            empty="No monitoring test is overdue.",
        )
        return ReportResult(report=self, params=params, sections=[section])


REPORTS = [MissedReviewsReport(), MonitoringOverdueReport()]
