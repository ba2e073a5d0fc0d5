"""Report 5, therapy: sessions, attendance and no-show rate by therapist and by modality.

Counts sessions dated in the period (sessions and courses entered in error left out).
Attendance rate = attended / sessions logged; no-show rate = no-shows / sessions logged;
late cancellations are counted apart (therapy treats them as missed, with no-shows).
Nothing here reads a session summary or a process note.
"""

from collections.abc import Mapping
from typing import Any, cast

from django.db.models import Count, Q, QuerySet

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
        session_date__gte=params.start,
        session_date__lte=params.end,
        course__entered_in_error_at__isnull=True,
        course__patient__in=patients_in_scope(params),
    ).order_by()


def _with_rates(row: dict[str, Any]) -> dict[str, Any]:
    row["attendance_rate"] = percent(row["attended"], row["sessions"])
    row["no_show_rate"] = percent(row["no_show"], row["sessions"])
    return row


def _therapist_name(row: dict[str, Any]) -> str:
    full = f"{row.pop('course__therapist__first_name')} {row.pop('course__therapist__last_name')}".strip()
    username = row.pop("course__therapist__username")
    return full or username


class TherapyAttendanceReport(Report):
    key = "therapy"
    title = "Therapy attendance"
    description = "Sessions, attendance and no-show rate by therapist and modality."
    order = 50

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        sessions = _sessions(params)
        therapist_fields = (
            "course__therapist_id",
            "course__therapist__first_name",
            "course__therapist__last_name",
            "course__therapist__username",
        )
        by_pair = list(
            sessions.values(*therapist_fields, "course__modality__name")
            .annotate(**COUNTS)
            .order_by(
                "course__therapist__last_name",
                "course__therapist__first_name",
                "course__therapist_id",
                "course__modality__name",
            )
        )
        progress(40)
        by_therapist = list(
            sessions.values(*therapist_fields)
            .annotate(**COUNTS)
            .order_by("course__therapist__last_name", "course__therapist__first_name", "course__therapist_id")
        )
        # Plain dicts, as the rows gain keys below (the plugin types one-field values() as a TypedDict).
        by_modality = cast(
            list[dict[str, Any]],
            list(sessions.values("course__modality__name").annotate(**COUNTS).order_by("course__modality__name")),
        )
        totals = sessions.aggregate(**COUNTS)
        progress(80)
        for row in by_pair + by_therapist:
            row["therapist"] = _therapist_name(row)
            row.pop("course__therapist_id")
        for row in by_pair + by_modality:
            row["modality"] = row.pop("course__modality__name")
        rows_therapist = [_with_rates(row) for row in by_therapist]
        if rows_therapist:
            rows_therapist.append(_with_rates({"therapist": "All therapists", **totals}))
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
                    [_with_rates(row) for row in by_modality],
                    empty="No therapy sessions in this period.",
                ),
                Section(
                    "by_therapist_modality",
                    "By therapist and modality",
                    [Column("therapist", "Therapist"), Column("modality", "Modality"), *COUNT_COLUMNS],
                    [_with_rates(row) for row in by_pair],
                    empty="No therapy sessions in this period.",
                ),
            ],
        )
        progress(100)
        return result


REPORT = TherapyAttendanceReport()
