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

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth

from medications.models import DoseChange, DoseReason, DrugClass, Regimen, Severity, SideEffect
from reports.base import (
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    patients_in_scope,
)
from reports.charts import Series, bar_chart

NOT_LINKED = "Not linked to a regimen"


def _class_label(value: str | None) -> str:
    return DrugClass(value).label if value else NOT_LINKED


def _months(start: date, end: date) -> list[date]:
    months, day = [], date(start.year, start.month, 1)
    while day <= end:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def active_by_class(params: ReportParams) -> list[dict[str, Any]]:
    regimens = Regimen.objects.filter(
        Q(stopped_on__isnull=True) | Q(stopped_on__gt=params.end),
        start_date__lte=params.end,
        patient__in=patients_in_scope(params),
    )
    rows = (
        regimens.values("medication__drug_class")
        .annotate(regimens=Count("pk"), patients=Count("patient", distinct=True))
        .order_by("-regimens", "medication__drug_class")
    )
    total = regimens.aggregate(regimens=Count("pk"), patients=Count("patient", distinct=True))
    result = [
        {
            "drug_class": _class_label(row["medication__drug_class"]),
            "regimens": row["regimens"],
            "patients": row["patients"],
        }
        for row in rows
    ]
    if result:
        result.append({"drug_class": "All classes", **total})
    return result


def dose_changes_by_month(params: ReportParams) -> list[dict[str, Any]]:
    changes = DoseChange.objects.filter(
        previous_dose__isnull=False,
        effective_on__gte=params.start,
        effective_on__lte=params.end,
        regimen__entered_in_error_at__isnull=True,
        regimen__patient__in=patients_in_scope(params),
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
    reports = SideEffect.objects.filter(
        onset__gte=params.start, onset__lte=params.end, patient__in=patients_in_scope(params)
    )
    counts = {"reports": Count("pk"), "patients": Count("patient", distinct=True)}
    counts |= {value: Count("pk", filter=Q(severity=value)) for value in Severity.values}
    rows = list(
        reports.values("regimen__medication__drug_class")
        .annotate(**counts)
        .order_by("-reports", F("regimen__medication__drug_class").asc(nulls_last=True))
    )
    result = [{"drug_class": _class_label(row.pop("regimen__medication__drug_class")), **row} for row in rows]
    if result:
        result.append({"drug_class": "All classes", **reports.aggregate(**counts)})
    return result


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
