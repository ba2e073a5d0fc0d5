"""Report 1a, the registry for clinic admins: the same facts and flags as the care teams'
registry (reports/caseload.py, same definitions), as aggregates only: how many active
patients carry each flag, the median PHQ-9/GAD-7 change and weeks in treatment, and the same
per care manager (a staff name, never a patient's). No names, MRNs, scores or flags of any one
patient (issue 12 item 5, SECURITY.md AC-5); small cells are suppressed by reports.base.

Counts and medians (the mean of the middle one or two values) are computed in the database in
one pass over the stored facts (reports.sql.by_group_and_total, median_sql), as in
reports/treatment_outcomes.py.
"""

from collections.abc import Mapping
from typing import Any

from reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    enough,
    share,
)
from reports.caseload import FLAGS, flagged_sql
from reports.charts import Series, bar_chart
from reports.facts import facts_refresh_dirty
from reports.sql import by_group_and_total, fetch_dicts, median_sql

MEDIANS = [
    ("phq9", "PHQ-9 change %", "phq9_change"),
    ("gad7", "GAD-7 change %", "gad7_change"),
    ("weeks", "Weeks in treatment", "weeks"),
]


def summary_sql(params: ReportParams) -> tuple[str, list[Any]]:
    """One query, one pass over the facts: counts and medians for the clinic (is_total 1) and
    for each care manager (reports.sql.by_group_and_total)."""
    with_counted, values = flagged_sql(params)
    aggregates = ", ".join(
        [
            "MAX(care_manager_name) AS name",
            "COUNT(*) AS patients",
            *(f"SUM(f_{key}) AS {key}" for key, _ in FLAGS),
            *(f"{median_sql(column)} AS {key}_median, COUNT({column}) AS {key}_n" for key, _, column in MEDIANS),
        ]
    )
    return f"{with_counted} {by_group_and_total('counted', 'care_manager_id', aggregates)}", values


def _median(value: Any, n: Any) -> float | None:
    return round(float(value), 1) if value is not None and enough(int(n or 0)) else None


class RegistrySummaryReport(Report):
    key = "registry_summary"
    title = "Registry summary"
    description = (
        "Active patients: how many carry each flag (safety alert, not improving, overdue), median PHQ-9 and "
        "GAD-7 change, by care manager. Aggregates only."
    )
    uses_period = False
    order = 11

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        facts_refresh_dirty(today=params.today)
        progress(20)
        rows = fetch_dicts(*summary_sql(params))
        progress(80)
        clinic = next((row for row in rows if row["is_total"]), None) or {"patients": 0, **{key: 0 for key, _ in FLAGS}}
        active = int(clinic["patients"] or 0)
        flag_rows: list[dict[str, Any]] = [{"measure": "Active patients", "patients": active, "share": None}] + [
            {"measure": label, "patients": int(clinic[key] or 0), "share": share(int(clinic[key] or 0), active)}
            for key, label in FLAGS
        ]
        median_rows = []
        for key, label, _ in MEDIANS:
            n = int(clinic.get(f"{key}_n") or 0)
            median_rows.append({"measure": label, "patients": n, "median": _median(clinic.get(f"{key}_median"), n)})
        managers = [row for row in rows if not row["is_total"]]
        by_manager = []
        # By name, then by the care manager's id as text (no care manager: last, as "~").
        for row in sorted(
            managers,
            key=lambda row: ((row["name"] or "~").strip(), "" if row["grp"] is None else str(row["grp"])),
        ):
            by_manager.append(
                {
                    "care_manager": (row["name"] or "").strip() or "No care manager",
                    "patients": int(row["patients"] or 0),
                    **{key: int(row[key] or 0) for key, _ in FLAGS},
                    "phq9_median": _median(row["phq9_median"], row["phq9_n"]),
                }
            )
        chart = bar_chart(
            title="Share of active patients with each flag",
            categories=[(row["measure"], [row["share"]]) for row in flag_rows[1:]],
            series=[Series("a", "Share")],
            unit=" %",
            max_value=100,
        )
        note = (
            "Counts of active patients (of the chosen clinician's care teams, if one is chosen). Flags as in the "
            "care teams' registry: safety alert open, not improving (< 50 % better after 8 weeks), monitoring "
            'overdue, no measurement for 4 weeks, case review requested. Counts from 1 to 4 show as "<5" and '
            "rates or medians over fewer than 5 patients are not shown, so no one patient can be picked out."
        )
        sections = [
            Section(
                "flags",
                "Active patients and their flags",
                [
                    Column("measure", "Measure"),
                    Column("patients", "Patients", "int"),
                    Column("share", "Share", "percent"),
                ],
                flag_rows if active else [],
                chart=chart if active else None,
                note=note,
                empty="No active patients.",
            ),
            Section(
                "medians",
                "Change since baseline",
                [
                    Column("measure", "Measure"),
                    Column("patients", "Patients with data", "int"),
                    Column("median", "Median", "number"),
                ],
                median_rows if active else [],
                note="Change % = (latest - first) / first of the current episode; negative = fewer symptoms.",
                empty="No active patients.",
            ),
            Section(
                "by_care_manager",
                "By care manager",
                [
                    Column("care_manager", "Care manager"),
                    Column("patients", "Active patients", "int"),
                    *[Column(key, label, "int") for key, label in FLAGS],
                    Column("phq9_median", "Median PHQ-9 change %", "number"),
                ],
                by_manager,
                empty="No active patients.",
            ),
        ]
        progress(100)
        return ReportResult(report=self, params=params, sections=sections)


REPORT = RegistrySummaryReport()
