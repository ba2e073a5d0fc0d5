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

from django.db.models import IntegerField, Min, Sum
from django.db.models.functions import Cast, ExtractMonth, ExtractYear

from clinic.models import User
from cocm.billing import EPISODE_GAP_MONTHS, MonthCodes, month_codes_sql
from cocm.models import CareMinutes
from reports.base import Audience, Column, Progress, Report, ReportParams, ReportResult, Section, in_scope
from reports.sql import facts_cte, fetch_dicts

CODES = ("99492", "99493", "99494", "G2214")


@dataclass
class PatientMonth:
    patient_id: int
    billed: MonthCodes
    care_manager_id: int


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _months_sql(params: ReportParams) -> tuple[str, list[Any]]:
    """`WITH ... coded AS (...)`: one row per patient-month of the period, with its minutes,
    care manager, whether it is an episode's first month and the units of each code.

    In the database rather than in Python, as the clinic-wide summary has every patient-month of
    the clinic to bill (issue 14): the minutes per patient, month and logger (the ORM's SQL,
    parameterized), the logger with most minutes (ties: the earliest entry) by ROW_NUMBER, the
    episode's first month by LAG over the patient's months (cocm.billing.months_billed's rule),
    the codes by cocm.billing.month_codes_sql. Months before the period still decide episodes."""
    per_logger = (
        CareMinutes.objects.filter(in_scope(params), day__lte=params.end)
        # Integers (PostgreSQL's EXTRACT gives numeric, slower to group and sort).
        .annotate(
            month_index=Cast(ExtractYear("day"), IntegerField()) * 12 + Cast(ExtractMonth("day"), IntegerField()) - 1
        )
        .values("patient_id", "month_index", "logged_by_id")
        .annotate(total=Sum("minutes"), first_id=Min("id"))
        .order_by()
    )
    with_logged, values = facts_cte(
        per_logger,
        ["patient_id", "month_index", "logged_by_id", "total", "first_id"],
        name="logged",
    )
    codes = month_codes_sql("minutes", "first_month")
    # Lower-case names: PostgreSQL folds unquoted ones (G2214).
    units = ", ".join(f"{sql} AS code_{code.lower()}" for code, sql in codes.items())
    first_index = params.start.year * 12 + params.start.month - 1
    # Only module constants and the ORM's compiled SQL are interpolated; values are parameters.
    sql = f"""{with_logged},
        ranked AS (SELECT logged.*, ROW_NUMBER() OVER (PARTITION BY patient_id, month_index
                                                       ORDER BY total DESC, first_id) AS logger_rank,
                          -- an integer: the codes' arithmetic is integer division (PostgreSQL sums to numeric)
                          CAST(SUM(total) OVER (PARTITION BY patient_id, month_index) AS INTEGER) AS minutes
                   FROM logged),
        months AS (SELECT patient_id, month_index, logged_by_id AS care_manager_id, minutes,
                          LAG(month_index) OVER (PARTITION BY patient_id ORDER BY month_index) AS previous
                   FROM ranked WHERE logger_rank = 1),
        billed AS (SELECT months.*, CASE WHEN previous IS NULL OR month_index - previous > {EPISODE_GAP_MONTHS}
                                         THEN 1 ELSE 0 END AS first_month FROM months),
        coded AS (SELECT billed.*, {units} FROM billed WHERE month_index >= %s)"""  # noqa: S608
    return sql, [*values, first_index]


def patient_months(params: ReportParams) -> list[PatientMonth]:
    """Every patient-month in the period of the patients in scope, with its codes (1 query)."""
    with_coded, values = _months_sql(params)
    found = []
    for row in fetch_dicts(f"{with_coded} SELECT * FROM coded", values):  # noqa: S608
        units = tuple((code, int(row[f"code_{code.lower()}"])) for code in CODES if row[f"code_{code.lower()}"])
        month = MonthCodes(_month(int(row["month_index"])), int(row["minutes"]), bool(row["first_month"]), units)
        found.append(PatientMonth(row["patient_id"], month, row["care_manager_id"]))
    return found


def care_manager_months(params: ReportParams) -> list[dict[str, Any]]:
    """Per care manager and month: patients, minutes and code units, summed in the database
    (the same numbers `by_care_manager` adds up from `patient_months`; 2 queries)."""
    with_coded, values = _months_sql(params)
    sums = ", ".join(f"SUM(code_{code.lower()}) AS code_{code.lower()}" for code in CODES)
    rows = fetch_dicts(
        f"""{with_coded} SELECT care_manager_id, month_index, COUNT(*) AS patients, SUM(minutes) AS minutes, {sums}
            FROM coded GROUP BY care_manager_id, month_index""",  # noqa: S608
        values,
    )
    names = _names({row["care_manager_id"] for row in rows})
    found = [
        {
            "care_manager": names.get(row["care_manager_id"], ""),
            "month": _month(int(row["month_index"])).strftime("%Y-%m"),
            "patients": int(row["patients"]),
            "minutes": int(row["minutes"]),
            **{f"code_{code}": int(row[f"code_{code.lower()}"]) for code in CODES},
        }
        for row in rows
    ]
    return sorted(found, key=lambda row: (row["month"], row["care_manager"]))


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
        rows = care_manager_months(params)
        progress(70)
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
