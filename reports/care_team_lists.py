"""Patient-level working lists for the care team (issue 12 item 5): what used to sit at the
bottom of the admins' process and monitoring reports, now scoped to the caller's own caseload
(reports.base: a CARE_TEAM report reads patients_on_care_team_of, never the admin scope).

- missed_reviews: non-responders without a psychiatric case review in weeks 8-12, the
  definition of the process measure (reports/process_measures.py; CLINICAL.md §1, Bao 2015);
- monitoring_overdue: every overdue monitoring test (medications.monitoring, the rule of the
  prescriber's chart and the monitoring_due reminders, as kept in the report facts).

Both are paged (reports.paging: 100 rows and "x-y of N" from one query); the CSV has every row.
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import Collate

from careplans.models import PatientStatus
from medications.models import LabTest, RegimenStatus
from reports.base import Audience, Column, Progress, Report, ReportParams, ReportResult, Section, patients_in_scope
from reports.facts import facts_refresh_dirty
from reports.models import MonitoringItemFacts
from reports.paging import PageForm, fetch_all_or_page
from reports.process_measures import _non_responders
from reports.replica import report_connection


def _name(first: str, last: str, username: str) -> str:
    """User.get_full_name() or the username, from the columns."""
    return f"{first} {last}".strip() or username


def _sliced(queryset: QuerySet, fields: tuple[str, ...], limit: int | None, offset: int) -> list[dict[str, Any]]:
    rows = queryset.annotate(total_rows=Window(Count("pk"))).values(*fields, "total_rows")
    return list(rows[offset : offset + limit] if limit is not None else rows)


class MissedReviewsReport(Report):
    key = "missed_reviews"
    title = "Missed case reviews"
    description = "Your caseload's non-responders (PHQ-9) without a psychiatric case review in weeks 8-12."
    order = 12
    audience = Audience.CARE_TEAM

    def options_form(self, data: Mapping[str, Any] | None) -> forms.Form:
        return PageForm(data)

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        missed = _non_responders(params).filter(~Q(reviewed=True)).order_by("phq9_baseline_on", "family_name", "pk")
        fields = ("public_id", "family_name", "given_name", "mrn", "phq9_baseline_on", "phq9_baseline", "week_8")
        found, page = fetch_all_or_page(
            lambda limit, offset: _sliced(missed, fields, limit, offset), options, paginate=paginate
        )
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
            page=page,
            note="Baseline PHQ-9 of 10 or more in the period, latest PHQ-9 by week 8 not at least 50 % lower, "
            "and no case review held in weeks 8-12 (closed windows only).",
            empty="Every non-responder had a case review in weeks 8-12.",
        )
        return ReportResult(report=self, params=params, sections=[section])


def overdue_items(params: ReportParams) -> QuerySet[MonitoringItemFacts]:
    """The pending monitoring items (reports.facts, medications.monitoring's rule) of the active
    regimens on a protocol of the active patients in scope, overdue (due before today), in the
    order the list shows them: due date, patient family name (code-point order, as the rule's
    own list sorted them in Python), patient, then regimen and the item's place in its schedule."""
    today = params.today
    collation = "C" if report_connection().vendor == "postgresql" else "BINARY"
    return MonitoringItemFacts.objects.filter(
        due_date__lt=today,
        regimen__status=RegimenStatus.ACTIVE,
        regimen__medication__monitoring_protocol__isnull=False,
        patient__status=PatientStatus.ACTIVE,
        patient__in=patients_in_scope(params, start=today, end=today),
    ).order_by("due_date", Collate(F("patient__family_name"), collation), "patient_id", "regimen_id", "position")


OVERDUE_FIELDS = (
    "patient__public_id",
    "patient__family_name",
    "patient__given_name",
    "patient__mrn",
    "regimen__medication__name",
    "test",
    "label",
    "due_date",
    "last_done_on",
    "regimen__prescriber__first_name",
    "regimen__prescriber__last_name",
    "regimen__prescriber__username",
)


class MonitoringOverdueReport(Report):
    key = "monitoring_overdue"
    title = "Overdue monitoring"
    description = "Every overdue monitoring test of your caseload's active patients."
    uses_period = False
    order = 13
    audience = Audience.CARE_TEAM

    def options_form(self, data: Mapping[str, Any] | None) -> forms.Form:
        return PageForm(data)

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        facts_refresh_dirty(today=params.today)  # the pending items come from the report facts
        progress(30)
        items = overdue_items(params)
        found, page = fetch_all_or_page(
            lambda limit, offset: _sliced(items, OVERDUE_FIELDS, limit, offset), options, paginate=paginate
        )
        progress(90)
        today = params.today
        rows = [
            {
                "patient_id": str(row["patient__public_id"]),
                "patient": f"{row['patient__family_name']}, {row['patient__given_name']}",
                "mrn": row["patient__mrn"],
                "medication": row["regimen__medication__name"],
                "test": LabTest(row["test"]).label,
                "step": row["label"],
                "due_date": row["due_date"],
                "days_overdue": (today - row["due_date"]).days,
                "last_done_on": row["last_done_on"],
                "prescriber": _name(
                    row["regimen__prescriber__first_name"] or "",
                    row["regimen__prescriber__last_name"] or "",
                    row["regimen__prescriber__username"] or "",
                )
                if row["regimen__prescriber__username"] is not None
                else "",
            }
            for row in found
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
            page=page,
            empty="No monitoring test is overdue.",
        )
        return ReportResult(report=self, params=params, sections=[section])


REPORTS = [MissedReviewsReport(), MonitoringOverdueReport()]
