"""Report 1, the collaborative-care registry: every active patient with care team, weeks in
treatment, first and latest PHQ-9/GAD-7, change %, last contact and the flags that say who
needs attention. Sortable and filterable through allow-lists only (SECURITY.md IV-4).

Definitions (DESIGN.md; CLINICAL.md §1 and b3; the same rules as outcomes.selectors):
- first / latest: the episode's first and latest score up to today (outcomes.selectors.
  annotate_outcomes); change % = (latest - first) / first, negative = fewer symptoms;
- weeks in treatment: since the episode's first PHQ-9 (else GAD-7, else registration);
- last contact: the latest attended therapy session, questionnaire, safety follow-up or
  adherence check;
- not improving: PHQ-9 or GAD-7 less than 50 % below baseline, not in remission (< 5),
  with the baseline 10 or more weeks old (flag for psychiatric case review, Bao 2015);
- safety alert open: a PHQ-9 item-9 alert without its follow-up;
- monitoring overdue: an overdue test of a medication monitoring protocol
  (medications.monitoring, the rule the prescriber's chart and reminders use);
- measurement overdue: no PHQ-9 (GAD-7 when the plan's goals name only the GAD-7) for 4
  weeks, counted from registration when there is none (outcomes.reminders.measurement_due);
- discuss at review: a psychiatric case review requested and not yet held.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.db.models import (
    QuerySet,
)

from careplans.models import PatientStatus
from outcomes.selectors import NOT_IMPROVING_AFTER
from reports.base import (
    Audience,
    Column,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    patient_ids_in_scope,
)
from reports.facts import facts_refresh_dirty
from reports.models import PatientReportFacts
from reports.paging import fetch_all_or_page
from reports.sql import as_date, days_since_sql, facts_cte, fetch_dicts

MEASUREMENT_INTERVAL = timedelta(weeks=4)
REMISSION_BELOW = 5

FLAGS = [
    ("safety_alert", "Safety alert open"),
    ("not_improving", "Not improving"),
    ("monitoring_overdue", "Monitoring overdue"),
    ("measurement_overdue", "Measurement overdue"),
    ("discuss_at_review", "Discuss at review"),
]

# key: (label, ascending ordering). Only these reach ORDER BY (IV-4).
SORTS: dict[str, tuple[str, list[str]]] = {
    "flags": ("Flags", ["flag_count"]),
    "name": ("Patient", ["family_name", "given_name"]),
    "mrn": ("MRN", ["mrn"]),
    "weeks": ("Weeks in treatment", ["weeks"]),
    "phq9_latest": ("Latest PHQ-9", ["phq9_latest"]),
    "phq9_change": ("PHQ-9 change", ["phq9_change"]),
    "gad7_latest": ("Latest GAD-7", ["gad7_latest"]),
    "gad7_change": ("GAD-7 change", ["gad7_change"]),
    "last_contact": ("Last contact", ["last_contact"]),
}
DEFAULT_SORT = "-flags"


def _sort_choices() -> list[tuple[str, str]]:
    choices = []
    for key, (label, _) in SORTS.items():
        choices += [(f"-{key}", f"{label}, highest / latest first"), (key, f"{label}, lowest / earliest first")]
    return choices


class RegistryOptionsForm(forms.Form):
    sort = forms.ChoiceField(choices=_sort_choices(), required=False, initial=DEFAULT_SORT, label="Sort by")
    flag = forms.MultipleChoiceField(
        choices=FLAGS,
        required=False,
        label="Only patients flagged",
        widget=forms.CheckboxSelectMultiple,
        help_text="Any of the ticked flags; none ticked shows everyone.",
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or DEFAULT_SORT


# The facts the registry reads (reports.models.PatientReportFacts) under these names.
FACT_FIELDS = {
    "id": "patient_id",
    "public_id": "patient__public_id",
    "family_name": "patient__family_name",
    "given_name": "patient__given_name",
    "mrn": "patient__mrn",
    "registered_on": "registered_on",
    "phq9_baseline": "phq9_baseline",
    "phq9_baseline_on": "phq9_baseline_on",
    "phq9_latest": "phq9_latest",
    "gad7_baseline": "gad7_baseline",
    "gad7_baseline_on": "gad7_baseline_on",
    "gad7_latest": "gad7_latest",
    "safety_alert_open": "safety_alert_open",
    "case_review_open": "case_review_open",
    "prescriber_name": "prescriber_name",
    "therapist_name": "therapist_name",
    "care_manager_name": "care_manager_name",
    "care_manager_id": "care_manager_id",
    "last_contact": "last_contact",
    "measurement_anchor": "measurement_anchor",
    "monitoring_due_on": "monitoring_due_on",
}
FACTS = list(FACT_FIELDS)


def registry_facts(params: ReportParams) -> QuerySet[PatientReportFacts]:
    """One row of stored facts per active patient in scope (refreshed before the report runs)."""
    today = params.today
    return PatientReportFacts.objects.filter(
        patient_id__in=patient_ids_in_scope(params, start=today, end=today), patient__status=PatientStatus.ACTIVE
    )


def _not_improving_sql(key: str) -> str:
    # outcomes.selectors.outcome_flags in SQL: baseline old enough, no response, no remission.
    return (
        f"({key}_baseline_on <= %s AND {key}_latest >= {REMISSION_BELOW} "
        f"AND NOT ({key}_baseline > 0 AND {key}_latest * 2 <= {key}_baseline))"
    )


def _change_sql(key: str) -> str:
    return f"CASE WHEN {key}_baseline > 0 THEN ({key}_latest - {key}_baseline) * 100.0 / {key}_baseline END"


def flagged_sql(params: ReportParams) -> tuple[str, list[Any]]:
    """`WITH facts AS (...), flagged AS (...), counted AS (...)`: the stored facts of the
    patients in scope, with changes, weeks and one 0/1 column per flag (f_<key>), as plain
    column arithmetic against today. Shared by the registry and its admin summary."""
    today = params.today
    # A caseload is a small share of the clinic: its facts first (sql.facts_cte, materialized).
    with_facts, values = facts_cte(
        registry_facts(params), list(FACT_FIELDS.values()), names=FACTS, materialized=params.caseload_only
    )
    flag_sql = {
        "safety_alert": "safety_alert_open",
        "not_improving": f"{_not_improving_sql('phq9')} OR {_not_improving_sql('gad7')}",
        "monitoring_overdue": "monitoring_due_on < %s",
        "measurement_overdue": "measurement_anchor <= %s",
        "discuss_at_review": "case_review_open",
    }
    flag_values = {
        "not_improving": [today - NOT_IMPROVING_AFTER] * 2,
        "monitoring_overdue": [today],
        "measurement_overdue": [today - MEASUREMENT_INTERVAL],
    }
    columns = ", ".join(f"CASE WHEN {flag_sql[key]} THEN 1 ELSE 0 END AS f_{key}" for key, _ in FLAGS)
    values += [value for key, _ in FLAGS for value in flag_values.get(key, [])]
    values.append(today)  # the weeks count up to today
    flag_count = " + ".join(f"f_{key}" for key, _ in FLAGS)
    sql = f"""{with_facts},
        flagged AS (SELECT facts.*, COALESCE(phq9_baseline_on, gad7_baseline_on, registered_on) AS treatment_start,
                           {_change_sql("phq9")} AS phq9_change, {_change_sql("gad7")} AS gad7_change, {columns}
                    FROM facts),
        counted AS (SELECT flagged.*, {flag_count} AS flag_count, {days_since_sql("treatment_start")} / 7 AS weeks
                    FROM flagged)"""  # noqa: S608
    return sql, values


def registry_sql(
    params: ReportParams, *, flags: list[str], sort: str, limit: int | None, offset: int
) -> tuple[str, list[Any]]:
    """The registry rows: `flagged_sql`, filtered by the ticked flags and ordered by an
    allow-listed column. Only allow-listed names and constants are interpolated; values are
    parameters (IV-4)."""
    with_counted, values = flagged_sql(params)
    where = " OR ".join(f"f_{key} = 1" for key, _ in FLAGS if key in flags) or "1 = 1"
    descending = sort.startswith("-")
    order = ", ".join(f"{name} {'DESC' if descending else 'ASC'} NULLS LAST" for name in SORTS[sort.lstrip("-")][1])
    sql = f"""{with_counted}
        SELECT counted.*, COUNT(*) OVER () AS total_rows FROM counted WHERE {where}
        ORDER BY {order}, family_name ASC, given_name ASC, id ASC"""  # noqa: S608
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        values += [limit, offset]
    return sql, values


COLUMNS = [
    Column("patient", "Patient", "patient"),
    Column("flags", "Flags", "flags"),
    Column("mrn", "MRN"),
    Column("weeks", "Weeks in treatment", "int"),
    Column("phq9_first", "PHQ-9 first", "int"),
    Column("phq9_latest", "PHQ-9 latest", "int"),
    Column("phq9_change", "PHQ-9 change %", "number"),
    Column("gad7_first", "GAD-7 first", "int"),
    Column("gad7_latest", "GAD-7 latest", "int"),
    Column("gad7_change", "GAD-7 change %", "number"),
    Column("last_contact", "Last contact", "date"),
    Column("care_team", "Care team", css="team-cell"),
]


def _care_team(row: dict[str, Any]) -> str:
    parts = [
        f"{row[field].strip()} ({label})"
        for field, label in (
            ("prescriber_name", "prescriber"),
            ("therapist_name", "therapist"),
            ("care_manager_name", "care manager"),
        )
        if row[field] and row[field].strip()
    ]
    return "; ".join(parts)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def registry_row(row: dict[str, Any]) -> dict[str, Any]:
    """One raw row as the report shows it (SQLite gives ISO text and 0/1; PostgreSQL dates,
    booleans and decimals: both end up the same)."""
    return {
        "patient_id": str(UUID(str(row["public_id"]))),
        "patient": f"{row['family_name']}, {row['given_name']}",
        "mrn": row["mrn"],
        "care_team": _care_team(row),
        "weeks": row["weeks"],
        "phq9_first": row["phq9_baseline"],
        "phq9_latest": row["phq9_latest"],
        "phq9_change": _round(row["phq9_change"]),
        "gad7_first": row["gad7_baseline"],
        "gad7_latest": row["gad7_latest"],
        "gad7_change": _round(row["gad7_change"]),
        "last_contact": as_date(row["last_contact"]),
        "flags": [(key, label) for key, label in FLAGS if row[f"f_{key}"]],
    }


class RegistryReport(Report):
    """Patient-level: the caller's own caseload only (care team; issue 12 item 5). A care
    manager sees the registry of their caseload, a prescriber or therapist their patients; a
    clinic admin who is on no care team gets 403 (and, holding a clinical role too, only the
    patients of their own care teams). The clinic-wide view for admins is `registry_summary`."""

    key = "registry"
    title = "Registry"
    description = (
        "Your caseload's active patients: care team, weeks in treatment, first and latest PHQ-9 and GAD-7, "
        "change, last contact and who needs attention."
    )
    uses_period = False
    order = 10
    audience = Audience.CARE_TEAM

    def options_form(self, data: Mapping[str, Any] | None) -> forms.Form:
        return RegistryOptionsForm(data)

    def compute(
        self, params: ReportParams, *, options: Mapping[str, Any], paginate: bool, progress: Progress
    ) -> ReportResult:
        facts_refresh_dirty(today=params.today)  # the few patients changed since the last refresh
        progress(20)
        query: dict[str, Any] = {
            "flags": list(options.get("flag") or []),
            "sort": options.get("sort") or DEFAULT_SORT,
        }
        found, page = fetch_all_or_page(
            lambda limit, offset: fetch_dicts(*registry_sql(params, limit=limit, offset=offset, **query)),
            options,
            paginate=paginate,
        )
        progress(90)
        section = Section(
            "registry",
            "Active patients",
            COLUMNS,
            [registry_row(row) for row in found],
            page=page,
            empty="No active patients match.",
            note="First and latest scores are the current episode's; change % is negative when "
            "symptoms fell. Flags: safety alert open, not improving (< 50 % better after 10 "
            "weeks), monitoring overdue, no measurement for 4 weeks, case review requested.",
        )
        result = ReportResult(report=self, params=params, sections=[section])
        progress(100)
        return result


REPORT = RegistryReport()
