"""Report 4, monitoring compliance: per monitoring protocol, the share of patients on it whose
tests are up to date (aggregates only, issue 12 item 5; the overdue tests by patient are the
care teams' report `monitoring_overdue`, reports/care_team_lists.py).

"Up to date" = none of the patient's active regimens on that protocol has an overdue item.
Due and overdue come from medications.monitoring (the same rules as the prescriber's chart
and the monitoring_due reminders: protocol steps from the regimen start and dose changes,
results within each step's window, clozapine ANC bands, lithium until in range). That rule
is a pure function computed in memory; reports.facts runs it when a patient's record changes
(and nightly) and keeps each regimen's earliest due date (RegimenReportFacts), so this report
is one aggregate query over those dates (issue 14). The care teams' list of overdue tests
(reports/care_team_lists.py) reads the pending items kept beside them (MonitoringItemFacts).
"""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q

from careplans.models import PatientStatus
from medications.models import Regimen, RegimenStatus
from reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    in_scope,
    percent,
)
from reports.charts import Series, bar_chart
from reports.facts import facts_refresh_dirty


def compliance_by_protocol(params: ReportParams) -> list[dict[str, Any]]:
    """Per protocol: active patients with an active regimen on it, and those of them with an
    overdue test, one aggregate query over the regimens' stored due dates (RegimenReportFacts,
    the rule's result kept by reports.facts; the dirty patients are refreshed first)."""
    today = params.today
    facts_refresh_dirty(today=today)
    overdue = Q(report_facts__monitoring_due_on__lt=today)
    rows = (
        Regimen.objects.filter(
            in_scope(params, start=today, end=today),
            status=RegimenStatus.ACTIVE,
            medication__monitoring_protocol__isnull=False,
            patient__status=PatientStatus.ACTIVE,
        )
        .values("medication__monitoring_protocol__name")
        .annotate(on=Count("patient", distinct=True), behind=Count("patient", distinct=True, filter=overdue))
        .order_by("medication__monitoring_protocol__name")
    )
    return [
        {
            "protocol": row["medication__monitoring_protocol__name"],
            "patients": row["on"],
            "up_to_date": row["on"] - row["behind"],
            "overdue": row["behind"],
            "share_up_to_date": percent(row["on"] - row["behind"], row["on"]),
        }
        for row in rows
    ]


class MonitoringComplianceReport(Report):
    key = "monitoring"
    title = "Monitoring compliance"
    description = "Share of patients on each monitoring protocol whose tests are up to date."
    uses_period = False
    order = 40

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        summary = compliance_by_protocol(params)
        progress(60)
        chart = bar_chart(
            title="Patients with monitoring up to date, by protocol",
            categories=[(row["protocol"], [row["share_up_to_date"]]) for row in summary],
            series=[Series("a", "Up to date")],
            unit=" %",
            max_value=100,
        )
        result = ReportResult(
            report=self,
            params=params,
            sections=[
                Section(
                    "protocols",
                    "By protocol",
                    [
                        Column("protocol", "Protocol"),
                        Column("patients", "Patients on it", "int"),
                        Column("up_to_date", "Up to date", "int"),
                        Column("overdue", "Overdue", "int"),
                        Column("share_up_to_date", "Share up to date", "percent"),
                    ],
                    summary,
                    chart=chart,
                    empty="No active patient takes a medication with a monitoring protocol.",
                ),
            ],
        )
        progress(100)
        return result


REPORT = MonitoringComplianceReport()
