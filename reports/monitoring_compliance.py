"""Report 4, monitoring compliance: per monitoring protocol, the share of patients on it whose
tests are up to date (aggregates only, issue 12 item 5; the overdue tests by patient are the
care teams' report `monitoring_overdue`, reports/care_team_lists.py).

"Up to date" = none of the patient's active regimens on that protocol has an overdue item.
Due and overdue come from medications.monitoring (the same rules as the prescriber's chart
and the monitoring_due reminders: protocol steps from the regimen start and dose changes,
results within each step's window, clozapine ANC bands, lithium until in range). That rule
is a pure function computed in memory; it is fed in a fixed number of queries (regimens,
steps, results, dose changes) whatever the number of patients.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from careplans.models import PatientStatus
from medications.models import Regimen, RegimenStatus
from medications.monitoring import ItemStatus, MonitoringItem
from medications.selectors import monitoring_for_regimens
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


def _regimens(params: ReportParams) -> QuerySet[Regimen]:
    today = params.today
    return (
        Regimen.objects.filter(
            status=RegimenStatus.ACTIVE,
            medication__monitoring_protocol__isnull=False,
            patient__status=PatientStatus.ACTIVE,
            patient__in=patients_in_scope(params, start=today, end=today),
        )
        .select_related("medication__monitoring_protocol", "patient", "prescriber")
        .order_by("id")
    )


def monitoring_snapshot(params: ReportParams) -> tuple[list[Regimen], dict[int, list[MonitoringItem]]]:
    regimens = list(_regimens(params))
    return regimens, monitoring_for_regimens(regimens, today=params.today)


class MonitoringComplianceReport(Report):
    key = "monitoring"
    title = "Monitoring compliance"
    description = "Share of patients on each monitoring protocol whose tests are up to date."
    uses_period = False
    order = 40

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        regimens, schedules = monitoring_snapshot(params)
        progress(60)
        patients: dict[str, set[int]] = defaultdict(set)
        late: dict[str, set[int]] = defaultdict(set)
        for regimen in regimens:
            protocol = regimen.medication.monitoring_protocol.name  # type: ignore[union-attr]
            patients[protocol].add(regimen.patient_id)
            for item in schedules.get(regimen.pk, []):
                if item.status == ItemStatus.OVERDUE:
                    late[protocol].add(regimen.patient_id)
        summary: list[dict[str, Any]] = []
        for protocol in sorted(patients):
            on = len(patients[protocol])
            behind = len(late[protocol])
            summary.append(
                {
                    "protocol": protocol,
                    "patients": on,
                    "up_to_date": on - behind,
                    "overdue": behind,
                    "share_up_to_date": percent(on - behind, on),
                }
            )
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
