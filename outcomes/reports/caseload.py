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

from django import forms
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate

from careplans.models import CarePlanStatus, CareTeamMember, Goal, Patient, PatientStatus, TeamRole
from medications.models import AdherenceCheck
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment, SafetyFollowUp
from outcomes.reports.base import (
    Column,
    Page,
    Progress,
    Report,
    ReportParams,
    ReportResult,
    Section,
    no_progress,
    patients_in_scope,
)
from outcomes.reports.monitoring_compliance import overdue_patient_ids
from outcomes.reports.sql import DaysBetween, latest_of
from outcomes.selectors import NOT_IMPROVING_AFTER, annotate_outcomes
from therapy.models import Attendance, TherapySession

PAGE_SIZE = 100  # SECURITY.md PF-1: a page lists at most 100 rows
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
    flag = forms.MultipleChoiceField(choices=FLAGS, required=False, label="Only patients flagged",
                                     widget=forms.CheckboxSelectMultiple,
                                     help_text="Any of the ticked flags; none ticked shows everyone.")
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or DEFAULT_SORT


def _ordering(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    _, fields = SORTS[sort.lstrip("-")]
    order = [F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True) for name in fields]
    return [*order, F("family_name").asc(), F("given_name").asc(), F("pk").asc()]


def _team_member(role: str) -> Subquery:
    members = (
        CareTeamMember.objects.filter(patient=OuterRef("pk"), role=role, ended_at__isnull=True)
        .order_by("started_at", "id")
        .annotate(name=Concat("user__first_name", Value(" "), "user__last_name", output_field=CharField()))
    )
    return Subquery(members.values("name")[:1], output_field=CharField())


def _last(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1], output_field=DateField())


def _last_contact(today: Any) -> Any:
    return latest_of(
        _last(TherapySession.objects.filter(course__patient=OuterRef("pk"), course__entered_in_error_at__isnull=True,
                                            attendance=Attendance.ATTENDED, session_date__lte=today), "session_date"),
        _last(Assessment.objects.filter(patient=OuterRef("pk"), administered_on__lte=today), "administered_on"),
        _last(SafetyFollowUp.objects.filter(patient=OuterRef("pk"), assessed_on__lte=today), "assessed_on"),
        _last(AdherenceCheck.objects.filter(patient=OuterRef("pk"), checked_on__lte=today), "checked_on"),
    )


def _change(key: str) -> Case:
    return Case(
        When(**{f"{key}_baseline__gt": 0},
             then=Cast((F(f"{key}_latest") - F(f"{key}_baseline")) * 100.0 / F(f"{key}_baseline"), FloatField())),
        default=None, output_field=FloatField(),
    )


def _not_improving(key: str, today: Any) -> Q:
    # outcomes.selectors.outcome_flags, in SQL: old enough, no response, no remission.
    responded = Q(**{f"{key}_baseline__gt": 0, f"{key}_twice_latest__lte": F(f"{key}_baseline")})
    return (Q(**{f"{key}_baseline_on__lte": today - NOT_IMPROVING_AFTER, f"{key}_latest__gte": REMISSION_BELOW})
            & ~responded)


def _measurement_anchor(today: Any) -> Coalesce:
    def names(instrument: str) -> Exists:
        return Exists(Goal.objects.filter(
            care_plan__patient=OuterRef("pk"), target__icontains=instrument,
            care_plan__status__in=[CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD]))

    def last_score(instrument: str) -> Subquery:
        return _last(Assessment.objects.filter(patient=OuterRef("pk"), instrument=instrument,
                                               administered_on__lte=today), "administered_on")

    uses_gad7 = names(InstrumentCode.GAD7) & ~names(InstrumentCode.PHQ9)
    return Coalesce(Case(When(uses_gad7, then=last_score(InstrumentCode.GAD7)),
                         default=last_score(InstrumentCode.PHQ9), output_field=DateField()),
                    F("registered_on"), output_field=DateField())


def _flag(condition: Q | Exists) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def registry_queryset(params: ReportParams, *, monitoring_overdue: list[int]) -> QuerySet[Patient]:
    today = params.today
    patients = patients_in_scope(params, start=today, end=today).filter(status=PatientStatus.ACTIVE)
    annotated = annotate_outcomes(patients, today=today).annotate(
        registered_on=TruncDate("created_at"),
        phq9_twice_latest=F("phq9_latest") * 2,
        gad7_twice_latest=F("gad7_latest") * 2,
    ).annotate(
        prescriber_name=_team_member(TeamRole.PRESCRIBER),
        therapist_name=_team_member(TeamRole.THERAPIST),
        care_manager_name=_team_member(TeamRole.CARE_MANAGER),
        treatment_start=Coalesce("phq9_baseline_on", "gad7_baseline_on", "registered_on", output_field=DateField()),
        phq9_change=_change("phq9"),
        gad7_change=_change("gad7"),
        last_contact=_last_contact(today),
        measurement_anchor=_measurement_anchor(today),
    ).annotate(
        weeks=Cast(DaysBetween(Value(today), F("treatment_start")) / 7, IntegerField()),
        f_safety_alert=_flag(Q(safety_alert_open=True)),
        f_not_improving=_flag(_not_improving("phq9", today) | _not_improving("gad7", today)),
        f_monitoring_overdue=_flag(Q(pk__in=monitoring_overdue)),
        f_measurement_overdue=_flag(Q(measurement_anchor__lte=today - MEASUREMENT_INTERVAL)),
        f_discuss_at_review=_flag(Q(case_review_open=True)),
    )
    flag_count = sum((Case(When(**{f"f_{key}": True}, then=Value(1)), default=Value(0),
                           output_field=IntegerField()) for key, _ in FLAGS), Value(0))
    return annotated.annotate(flag_count=flag_count)


ROW_FIELDS = ["public_id", "family_name", "given_name", "mrn", "prescriber_name", "therapist_name",
              "care_manager_name", "weeks", "phq9_baseline", "phq9_latest", "phq9_change", "gad7_baseline",
              "gad7_latest", "gad7_change", "last_contact", *(f"f_{key}" for key, _ in FLAGS)]

COLUMNS = [
    Column("patient", "Patient", "patient"),
    Column("mrn", "MRN"),
    Column("care_team", "Care team"),
    Column("weeks", "Weeks in treatment", "int"),
    Column("phq9_first", "PHQ-9 first", "int"),
    Column("phq9_latest", "PHQ-9 latest", "int"),
    Column("phq9_change", "PHQ-9 change %", "number"),
    Column("gad7_first", "GAD-7 first", "int"),
    Column("gad7_latest", "GAD-7 latest", "int"),
    Column("gad7_change", "GAD-7 change %", "number"),
    Column("last_contact", "Last contact", "date"),
    Column("flags", "Flags", "flags"),
]


def _care_team(row: dict[str, Any]) -> str:
    parts = [f"{row[field].strip()} ({label})" for field, label in
             (("prescriber_name", "prescriber"), ("therapist_name", "therapist"),
              ("care_manager_name", "care manager")) if row[field] and row[field].strip()]
    return "; ".join(parts)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def registry_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": str(row["public_id"]),
        "patient": f"{row['family_name']}, {row['given_name']}",
        "mrn": row["mrn"],
        "care_team": _care_team(row),
        "weeks": row["weeks"],
        "phq9_first": row["phq9_baseline"], "phq9_latest": row["phq9_latest"],
        "phq9_change": _round(row["phq9_change"]),
        "gad7_first": row["gad7_baseline"], "gad7_latest": row["gad7_latest"],
        "gad7_change": _round(row["gad7_change"]),
        "last_contact": row["last_contact"],
        "flags": [(key, label) for key, label in FLAGS if row[f"f_{key}"]],
    }


class RegistryReport(Report):
    key = "registry"
    title = "Registry"
    description = ("Every active patient: care team, weeks in treatment, first and latest PHQ-9 and GAD-7, "
                   "change, last contact and who needs attention.")
    uses_period = False
    order = 10

    def options_form(self, data: Mapping[str, Any] | None) -> forms.Form:
        return RegistryOptionsForm(data)

    def run(self, params: ReportParams, *, options: Mapping[str, Any] | None = None,
            paginate: bool = True, progress: Progress = no_progress) -> ReportResult:
        options = options or {}
        monitoring = overdue_patient_ids(params)
        progress(20)
        patients = registry_queryset(params, monitoring_overdue=monitoring)
        flags = options.get("flag") or []
        if flags:
            wanted = Q()
            for key in flags:
                wanted |= Q(**{f"f_{key}": True})
            patients = patients.filter(wanted)
        rows = patients.order_by(*_ordering(options.get("sort") or DEFAULT_SORT)).values(*ROW_FIELDS)
        page = None
        if paginate:
            paginator = Paginator(rows, PAGE_SIZE)
            current = paginator.get_page(options.get("page") or 1)
            page = Page(number=current.number, count=paginator.count, pages=paginator.num_pages, size=PAGE_SIZE)
            found = list(current.object_list)
        else:
            found = list(rows.iterator(chunk_size=2000))
        progress(90)
        section = Section("registry", "Active patients", COLUMNS, [registry_row(row) for row in found], page=page,
                          empty="No active patients match.",
                          note="First and latest scores are the current episode's; change % is negative when "
                               "symptoms fell. Flags: safety alert open, not improving (< 50 % better after 10 "
                               "weeks), monitoring overdue, no measurement for 4 weeks, case review requested.")
        result = ReportResult(report=self, params=params, sections=[section])
        progress(100)
        return result


REPORT = RegistryReport()
