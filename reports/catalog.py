"""The small registry of clinic reports: key -> report, in menu order."""

from functools import cache
from importlib import import_module

from clinic.access import user_can
from clinic.models import User
from reports.base import Report

REPORT_MODULES = (
    "reports.caseload",
    "reports.registry_summary",
    "reports.care_team_lists",
    "reports.treatment_outcomes",
    "reports.process_measures",
    "reports.monitoring_compliance",
    "reports.therapy_attendance",
    "reports.medication_use",
    "reports.cocm_minutes",
)


@cache
def _reports() -> dict[str, Report]:
    reports: list[Report] = []
    for name in REPORT_MODULES:
        module = import_module(name)
        reports += getattr(module, "REPORTS", None) or [module.REPORT]
    return {report.key: report for report in sorted(reports, key=lambda r: r.order)}


def reports_all() -> list[Report]:
    return list(_reports().values())


def report_get(key: str) -> Report | None:
    return _reports().get(key)


def report_keys() -> list[str]:
    return list(_reports())


def reports_for(user: User) -> list[Report]:
    """The reports this user's roles may run: admins the aggregates, clinicians their caseload's
    patient-level lists (a user with both kinds of role gets both)."""
    return [report for report in reports_all() if user_can(user, report.action)]
