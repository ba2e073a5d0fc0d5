"""Collaborative-care minutes by month (issue 16 item 10): each patient's calendar months with
the minutes the care managers logged (cocm.models.CareMinutes) and the CMS codes they reach
(cocm/billing.py, CLINICAL.md row "CoCM billing (US)").

- cocm_minutes (care team): one row per patient and month of the caller's own caseload, and
  the same per care manager. The care team's billing practitioner (the treating prescriber)
  needs the patient rows to bill; see cocm/selectors.py for who sees minutes and why.
- cocm_summary (admins): per care manager and month, counts only (patients with time,
  minutes, how many months reach each code). No patient is named; small cells suppressed.

A patient-month belongs to the care manager who logged most of its minutes (ties: the
earliest entry's), so each month is counted once. The episode's first month is found from
the patient's whole history up to the period's end, not only the period.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Min, Sum
from django.db.models.functions import TruncMonth

from clinic.models import User
from cocm.billing import MonthCodes, months_billed
from cocm.models import CareMinutes
from reports.base import Audience, Column, Progress, Report, ReportParams, ReportResult, Section, patients_in_scope

CODES = ("99492", "99493", "99494", "G2214")


@dataclass
class PatientMonth:
    patient_id: int
    billed: MonthCodes
    care_manager_id: int


def _first_day(value: Any) -> date:
    """TruncMonth's value as a plain date (a date, a datetime or SQLite's ISO text)."""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return date(day.year, day.month, 1)


def patient_months(params: ReportParams) -> list[PatientMonth]:
    """Every patient-month in the period of the patients in scope, with its codes (2 queries)."""
    first_month = params.start.replace(day=1)
    rows = (
        CareMinutes.objects.filter(patient__in=patients_in_scope(params), day__lte=params.end)
        .annotate(month=TruncMonth("day"))
        .values("patient_id", "month", "logged_by_id")
        .annotate(total=Sum("minutes"), first_id=Min("id"))
        .order_by()
    )
    totals: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    loggers: dict[tuple[int, date], list[tuple[int, int, int]]] = defaultdict(list)
    for row in rows:
        month = _first_day(row["month"])
        totals[row["patient_id"]][month] += row["total"]
        loggers[(row["patient_id"], month)].append((-row["total"], row["first_id"], row["logged_by_id"]))
    found = []
    for patient_id, months in totals.items():
        for billed in months_billed(months.items()):
            if billed.month >= first_month:
                care_manager_id = min(loggers[(patient_id, billed.month)])[2]
                found.append(PatientMonth(patient_id, billed, care_manager_id))
    return found


def _units(billed: MonthCodes) -> dict[str, int]:
    units = dict(billed.codes)
    return {code: units.get(code, 0) for code in CODES}


def _names(user_ids: set[int]) -> dict[int, str]:
    return {
        user.pk: user.get_full_name() or user.username
        for user in User.objects.filter(pk__in=user_ids).only("first_name", "last_name", "username")
    }


def by_care_manager(months: list[PatientMonth], names: dict[int, str]) -> list[dict[str, Any]]:
    groups: dict[tuple[int, date], list[PatientMonth]] = defaultdict(list)
    for item in months:
        groups[(item.care_manager_id, item.billed.month)].append(item)
    rows = []
    for (care_manager_id, month), items in groups.items():
        units = [_units(item.billed) for item in items]
        rows.append(
            {
                "care_manager": names.get(care_manager_id, ""),
                "month": month.strftime("%Y-%m"),
                "patients": len(items),
                "minutes": sum(item.billed.minutes for item in items),
                **{f"code_{code}": sum(u[code] for u in units) for code in CODES},
            }
        )
    return sorted(rows, key=lambda row: (row["month"], row["care_manager"]))


CARE_MANAGER_COLUMNS = [
    Column("month", "Month"),
    Column("care_manager", "Care manager"),
    Column("patients", "Patients with time", "int"),
    Column("minutes", "Minutes", "int"),
    Column("code_99492", "99492", "int"),
    Column("code_99493", "99493", "int"),
    Column("code_99494", "99494 units", "int"),
    Column("code_G2214", "G2214", "int"),
]
NOTE = (
    "CLINICAL.md, CoCM billing (US): first month 99492 from 70 minutes; later months 99493 from 31 "
    "minutes; 99494 for each further full 30 minutes; G2214 (CMS 2021) from 16 minutes when neither is "
    "reached. An episode's first month follows six months without time."
)


class CocmMinutesReport(Report):
    key = "cocm_minutes"
    title = "Collaborative-care minutes"
    description = "Your caseload's collaborative-care minutes per patient and month, with the CMS codes reached."
    order = 14
    audience = Audience.CARE_TEAM

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        months = patient_months(params)
        progress(60)
        from careplans.models import Patient

        patients = {
            p.pk: p
            for p in Patient.objects.filter(pk__in={m.patient_id for m in months}).only(
                "public_id", "family_name", "given_name", "mrn"
            )
        }
        names = _names({m.care_manager_id for m in months})
        rows = [
            {
                "patient_id": str(patients[m.patient_id].public_id),
                "patient": f"{patients[m.patient_id].family_name}, {patients[m.patient_id].given_name}",
                "mrn": patients[m.patient_id].mrn,
                "month": m.billed.month.strftime("%Y-%m"),
                "minutes": m.billed.minutes,
                "episode": "first month" if m.billed.first_month else "subsequent",
                "codes": m.billed.label,
                "care_manager": names.get(m.care_manager_id, ""),
            }
            for m in sorted(
                months,
                key=lambda m: (
                    m.billed.month,
                    patients[m.patient_id].family_name,
                    patients[m.patient_id].given_name,
                    m.patient_id,
                ),
            )
        ]
        sections = [
            Section(
                "patient_months",
                "By patient and month",
                [
                    Column("patient", "Patient", "patient"),
                    Column("mrn", "MRN"),
                    Column("month", "Month"),
                    Column("minutes", "Minutes", "int"),
                    Column("episode", "Episode"),
                    Column("codes", "Codes reached"),
                    Column("care_manager", "Care manager"),
                ],
                rows,
                note=NOTE,
                empty="No collaborative-care time was logged in this period.",
            ),
            Section(
                "care_managers",
                "By care manager and month",
                CARE_MANAGER_COLUMNS,
                by_care_manager(months, names),
                empty="No collaborative-care time was logged in this period.",
            ),
        ]
        progress(100)
        return ReportResult(report=self, params=params, sections=sections)


class CocmSummaryReport(Report):
    key = "cocm_summary"
    title = "Collaborative-care minutes by care manager"
    description = "Per care manager and month: patients with time, minutes, and the CMS codes reached. Counts only."
    order = 65

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        months = patient_months(params)
        progress(70)
        rows = by_care_manager(months, _names({m.care_manager_id for m in months}))
        section = Section(
            "care_managers",
            "By care manager and month",
            CARE_MANAGER_COLUMNS,
            rows,
            note=NOTE + " Counts from 1 to 4 show as \u201c<5\u201d.",
            empty="No collaborative-care time was logged in this period.",
        )
        progress(100)
        return ReportResult(report=self, params=params, sections=[section])


REPORTS = [CocmMinutesReport(), CocmSummaryReport()]
