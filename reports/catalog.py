"""The small registry of clinic reports: key -> report, in menu order."""

from functools import cache
from importlib import import_module

from reports.base import Report

REPORT_MODULES = (
    "reports.caseload",
    "reports.treatment_outcomes",
    "reports.process_measures",
    "reports.monitoring_compliance",
    "reports.therapy_attendance",
    "reports.medication_use",
)


@cache
def _reports() -> dict[str, Report]:
    reports = [import_module(name).REPORT for name in REPORT_MODULES]
    return {report.key: report for report in sorted(reports, key=lambda r: r.order)}


def reports_all() -> list[Report]:
    return list(_reports().values())


def report_get(key: str) -> Report | None:
    return _reports().get(key)


def report_keys() -> list[str]:
    return list(_reports())
