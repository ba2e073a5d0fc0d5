"""Report 6, medication: active regimens by drug class, dose changes per month, side-effect
reports by drug class and severity. Counts only; never the free-text reason, effect or action.

- active at the period's end: started on or before it and not stopped by then (a paused
  regimen is still current); entered-in-error regimens never count;
- dose changes: changes after the start (the start row is not a change), by the month they
  took effect; up / down compare the new dose with the previous one;
- side effects: by onset in the period, under the drug class of the regimen they were
  recorded against ("not linked" when none).
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from medications.models import DoseChange, DoseReason, DrugClass, Regimen, Severity, SideEffect
from reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    in_scope,
)
from reports.charts import Series, bar_chart
from reports.sql import by_group_and_total, facts_cte, fetch_dicts

NOT_LINKED = "Not linked to a regimen"


def _class_label(value: str | None) -> str:
    return DrugClass(value).label if value else NOT_LINKED


def _months(start: date, end: date) -> list[date]:
    months, day = [], date(start.year, start.month, 1)
    while day <= end:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _with_total(queryset: QuerySet, fields: dict[str, str], aggregates: str) -> list[dict[str, Any]]:
    """The rows of `queryset` (fields: ORM path -> column) counted per drug class and in all, in
    one statement (sql.by_group_and_total); the total row comes back with is_total 1."""
    with_rows, values = facts_cte(queryset, list(fields), names=list(fields.values()), name="counted")
    return fetch_dicts(f"{with_rows} {by_group_and_total('counted', 'drug_class', aggregates)}", values)


def _total_last(rows: list[dict[str, Any]], **order: Any) -> list[dict[str, Any]]:
    """Class rows as shown (label, counts), then "All classes" when there is any class row."""
    groups = [row for row in rows if not row["is_total"]]
    totals = [row for row in rows if row["is_total"]]

    def counts(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in row.items() if key not in ("is_total", "grp")}

    result = [{"drug_class": _class_label(row["grp"]), **counts(row)} for row in sorted(groups, **order)]
    if result and totals:
        result.append({"drug_class": "All classes", **counts(totals[0])})
    return result


def active_by_class(params: ReportParams) -> list[dict[str, Any]]:
    regimens = Regimen.objects.filter(
        Q(stopped_on__isnull=True) | Q(stopped_on__gt=params.end),
        in_scope(params),
        start_date__lte=params.end,
    )
    rows = _with_total(
        regimens,
        {"patient_id": "patient_id", "medication__drug_class": "drug_class"},
        "COUNT(*) AS regimens, COUNT(DISTINCT patient_id) AS patients",
    )
    return _total_last(rows, key=lambda row: (-row["regimens"], row["grp"] or ""))


def dose_changes_by_month(params: ReportParams) -> list[dict[str, Any]]:
    changes = DoseChange.objects.filter(
        in_scope(params, "regimen__patient"),
        previous_dose__isnull=False,
        effective_on__gte=params.start,
        effective_on__lte=params.end,
        regimen__entered_in_error_at__isnull=True,
    )
    counted = {
        row["month"]: row
        for row in changes.annotate(month=TruncMonth("effective_on"))
        .values("month")
        .annotate(
            changes=Count("pk"),
            up=Count("pk", filter=Q(dose__gt=F("previous_dose"))),
            down=Count("pk", filter=Q(dose__lt=F("previous_dose"))),
            for_side_effects=Count("pk", filter=Q(reason_code=DoseReason.SIDE_EFFECT)),
        )
        .order_by("month")
    }
    empty = {"changes": 0, "up": 0, "down": 0, "for_side_effects": 0}
    return [
        {"month": f"{month:%Y-%m}", **{key: counted.get(month, empty)[key] for key in empty}}
        for month in _months(params.start, params.end)
    ]


def side_effects_by_class(params: ReportParams) -> list[dict[str, Any]]:
    reports = SideEffect.objects.filter(in_scope(params), onset__gte=params.start, onset__lte=params.end)
    # Severity values are the model's choices (constants), never input.
    by_severity = ", ".join(
        f"SUM(CASE WHEN severity = '{value}' THEN 1 ELSE 0 END) AS {value}" for value in Severity.values
    )
    rows = _with_total(
        reports,
        {"patient_id": "patient_id", "severity": "severity", "regimen__medication__drug_class": "drug_class"},
        f"COUNT(*) AS reports, COUNT(DISTINCT patient_id) AS patients, {by_severity}",
    )
    for row in rows:  # SQLite's SUM over no rows is NULL, as the ORM's Count is not
        row.update({value: int(row[value] or 0) for value in Severity.values})
    # Most reports first; the class's value, "not linked" (no class) last.
    return _total_last(rows, key=lambda row: (-row["reports"], row["grp"] is None, row["grp"] or ""))


class MedicationUseReport(Report):
    key = "medication"
    title = "Medication"
    description = "Active regimens by drug class, dose changes per month and side-effect reports."
    order = 60

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        active = active_by_class(params)
        progress(30)
        changes = dose_changes_by_month(params)
        progress(60)
        effects = side_effects_by_class(params)
        sections = [
            Section(
                "active",
                f"Active regimens on {params.end:%Y-%m-%d}, by drug class",
                [
                    Column("drug_class", "Drug class"),
                    Column("regimens", "Regimens", "int"),
                    Column("patients", "Patients", "int"),
                ],
                active,
                chart=bar_chart(
                    title="Active regimens by drug class",
                    series=[Series("a", "Regimens")],
                    categories=[(r["drug_class"], [r["regimens"]]) for r in active[:-1]],
                ),
                empty="No regimen was active at the end of the period.",
            ),
            Section(
                "dose_changes",
                "Dose changes per month",
                [
                    Column("month", "Month"),
                    Column("changes", "Dose changes", "int"),
                    Column("up", "Increases", "int"),
                    Column("down", "Decreases", "int"),
                    Column("for_side_effects", "Because of side effects", "int"),
                ],
                changes if any(row["changes"] for row in changes) else [],
                chart=bar_chart(
                    title="Dose changes per month",
                    series=[Series("a", "Increases"), Series("b", "Decreases")],
                    categories=[(r["month"], [r["up"], r["down"]]) for r in changes],
                ),
                empty="No dose was changed in this period.",
            ),
            Section(
                "side_effects",
                "Side-effect reports, by drug class and severity",
                [
                    Column("drug_class", "Drug class"),
                    Column("reports", "Reports", "int"),
                    Column("patients", "Patients", "int"),
                    *[Column(value, label, "int") for value, label in Severity.choices],
                ],
                effects,
                empty="No side effect was reported in this period.",
            ),
        ]
        progress(100)
        return ReportResult(report=self, params=params, sections=sections)


REPORT = MedicationUseReport()
