"""Report 5, therapy: sessions, attendance and no-show rate by therapist and by modality.

Counts sessions dated in the period (sessions and courses entered in error left out).
Attendance rate = attended / sessions logged; no-show rate = no-shows / sessions logged;
late cancellations are counted apart (therapy treats them as missed, with no-shows).
Nothing here reads a session summary or a process note.
"""

from collections.abc import Callable, Mapping
from typing import Any, cast

from django.db.models import Count, Q, QuerySet

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
from therapy.models import Attendance, TherapySession

COUNTS = {
    "sessions": Count("pk"),
    "attended": Count("pk", filter=Q(attendance=Attendance.ATTENDED)),
    "cancelled": Count("pk", filter=Q(attendance=Attendance.CANCELLED)),
    "late_cancel": Count("pk", filter=Q(attendance=Attendance.LATE_CANCEL)),
    "no_show": Count("pk", filter=Q(attendance=Attendance.NO_SHOW)),
}
COUNT_COLUMNS = [
    Column("sessions", "Sessions", "int"),
    Column("attended", "Attended", "int"),
    Column("cancelled", "Cancelled", "int"),
    Column("late_cancel", "Late cancels", "int"),
    Column("no_show", "No-shows", "int"),
    Column("attendance_rate", "Attendance rate", "percent"),
    Column("no_show_rate", "No-show rate", "percent"),
]


def _sessions(params: ReportParams) -> QuerySet[TherapySession]:
    return TherapySession.objects.filter(
        in_scope(params, "course__patient"),
        session_date__gte=params.start,
        session_date__lte=params.end,
        course__entered_in_error_at__isnull=True,
    ).order_by()


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    row["attendance_rate"] = percent(row["attended"], row["sessions"])
    row["no_show_rate"] = percent(row["no_show"], row["sessions"])
    return row


def _summed(rows: list[dict[str, Any]], **labels: Any) -> dict[str, Any]:
    """The counts of `rows` added up: every session is in exactly one therapist-modality pair,
    so a therapist's, a modality's and the clinic's counts are sums of pairs."""
    return {**labels, **{key: sum(row[key] for row in rows) for key in COUNTS}}


def _regrouped(pairs: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> list[list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in pairs:
        groups.setdefault(key(row), []).append(row)
    return [groups[group] for group in sorted(groups)]


def attendance_by_pair(params: ReportParams) -> list[dict[str, Any]]:
    """One query: the counts per therapist and modality, with the names to show and sort by."""
    rows = (
        _sessions(params)
        .values(
            "course__therapist_id",
            "course__therapist__first_name",
            "course__therapist__last_name",
            "course__therapist__username",
            "course__modality__name",
        )
        .annotate(**COUNTS)
    )
    pairs = []
    for row in cast(list[dict[str, Any]], list(rows)):  # plain dicts (the plugin types values() as a TypedDict)
        first, last = row["course__therapist__first_name"], row["course__therapist__last_name"]
        pairs.append(
            {
                "therapist": f"{first} {last}".strip() or row["course__therapist__username"],
                "modality": row["course__modality__name"],
                # The order the report lists therapists in (last name, first name, then id).
                "therapist_order": (last, first, row["course__therapist_id"]),
                **{key: row[key] for key in COUNTS},
            }
        )
    return sorted(pairs, key=lambda row: (row["therapist_order"], row["modality"]))


class TherapyAttendanceReport(Report):
    key = "therapy"
    title = "Therapy attendance"
    description = "Sessions, attendance and no-show rate by therapist and modality."
    order = 50

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        pairs = attendance_by_pair(params)
        progress(40)
        rows_therapist = [
            _with_rates(_summed(group, therapist=group[0]["therapist"]))
            for group in _regrouped(pairs, lambda row: row["therapist_order"])
        ]
        if rows_therapist:
            rows_therapist.append(_with_rates(_summed(pairs, therapist="All therapists")))
        by_modality = [
            _with_rates(_summed(group, modality=group[0]["modality"]))
            for group in _regrouped(pairs, lambda row: row["modality"])
        ]
        by_pair = [_with_rates({key: value for key, value in row.items() if key != "therapist_order"}) for row in pairs]
        progress(80)
        chart = bar_chart(
            title="No-show and attendance rate by therapist",
            categories=[(row["therapist"], [row["no_show_rate"], row["attendance_rate"]]) for row in rows_therapist],
            series=[Series("a", "No-show rate"), Series("b", "Attendance rate")],
            unit=" %",
            max_value=100,
        )
        result = ReportResult(
            report=self,
            params=params,
            sections=[
                Section(
                    "by_therapist",
                    "By therapist",
                    [Column("therapist", "Therapist"), *COUNT_COLUMNS],
                    rows_therapist,
                    chart=chart,
                    empty="No therapy sessions were logged in this period.",
                ),
                Section(
                    "by_modality",
                    "By modality",
                    [Column("modality", "Modality"), *COUNT_COLUMNS],
                    by_modality,
                    empty="No therapy sessions in this period.",
                ),
                Section(
                    "by_therapist_modality",
                    "By therapist and modality",
                    [Column("therapist", "Therapist"), Column("modality", "Modality"), *COUNT_COLUMNS],
                    by_pair,
                    empty="No therapy sessions in this period.",
                ),
            ],
        )
        progress(100)
        return result


REPORT = TherapyAttendanceReport()
