"""Contacts with a patient, as the process measures and the report facts define them
(reports/process_measures.py; CLINICAL.md §1): a questionnaire, an attended therapy session,
a safety follow-up or an adherence check (courses entered in error left out).

Here rather than in process_measures because reports.facts stores each patient's intake and
its follow-up (issue 14) and process_measures reads the facts: both use one definition.
"""

from datetime import date
from typing import Any

from django.db.models import Case, DateField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, ExtractMonth, ExtractYear

from careplans.models import CarePlan
from medications.models import AdherenceCheck
from outcomes.instruments import InstrumentCode
from outcomes.models import Assessment, SafetyFollowUp
from reports.sql import AddDays, earliest_of
from therapy.models import Attendance, TherapySession

FOLLOW_UP_DAYS = 28
DEPRESSION_CODES = ("F32", "F33")  # ICD-10 major depressive disorder, single / recurrent (CMS160)


def has_depression() -> Exists:
    """A care plan of the patient (OuterRef("pk")) names F32 or F33 (the PHQ-9 measure's denominator)."""
    depression = Q()
    for code in DEPRESSION_CODES:
        depression |= Q(diagnoses__icontains=f'"{code}')
    return Exists(CarePlan.objects.filter(depression, patient=OuterRef("pk")))


def _attended_sessions() -> QuerySet[TherapySession]:
    return TherapySession.objects.filter(course__entered_in_error_at__isnull=True, attendance=Attendance.ATTENDED)


def contact_days() -> list[tuple[QuerySet, str, str]]:
    """(contacts, the path to their patient, their day field), one per kind of contact."""
    return [
        (Assessment.objects.all(), "patient", "administered_on"),
        (_attended_sessions(), "course__patient", "session_date"),
        (SafetyFollowUp.objects.all(), "patient", "assessed_on"),
        (AdherenceCheck.objects.all(), "patient", "checked_on"),
    ]


def contacts(after: Any, until: Any, *, inclusive_start: bool = False) -> Q:
    """A contact with the patient (OuterRef("pk")) on a day in (after, until] (or [after, until])."""
    start = "gte" if inclusive_start else "gt"
    found = [
        Exists(queryset.filter(**{patient: OuterRef("pk"), f"{day}__{start}": after, f"{day}__lte": until}))
        for queryset, patient, day in contact_days()
    ]
    return Q(found[0]) | Q(found[1]) | Q(found[2]) | Q(found[3])


def _first(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.order_by(field).values(field)[:1], output_field=DateField())


def intake() -> Any:
    """The patient's first contact that opens care: the first questionnaire or attended session."""
    patient = OuterRef("pk")
    return earliest_of(
        _first(Assessment.objects.filter(patient=patient), "administered_on"),
        _first(_attended_sessions().filter(course__patient=patient), "session_date"),
    )


def followed_up(intake_field: str) -> Q:
    """Another contact in the FOLLOW_UP_DAYS after the intake (an annotation of the patient)."""
    return contacts(OuterRef(intake_field), AddDays(OuterRef(intake_field), FOLLOW_UP_DAYS))


def period_of(day: date) -> int:
    """The calendar 4-month period (Jan-Apr, May-Aug, Sep-Dec) of a day, as ContactPeriodFacts numbers it."""
    return day.year * 3 + (day.month - 1) // 4


def contact_periods(patient_ids: list[int]) -> tuple[str, list[Any]]:
    """SQL selecting (patient_id, period, first_contact_on, last_contact_on, first_phq9_on,
    last_phq9_on) of these patients: every contact as one UNION ALL (the ORM's SQL), grouped."""

    def as_int(expression: Any) -> Cast:
        return Cast(expression, IntegerField())  # PostgreSQL's EXTRACT gives numeric

    parts = []
    for queryset, patient, day in contact_days():
        phq9: Any = Value(None, output_field=DateField())
        if queryset.model is Assessment:
            phq9 = Case(When(instrument=InstrumentCode.PHQ9, then=F(day)), output_field=DateField())
        parts.append(
            queryset.filter(**{f"{patient}_id__in": patient_ids})
            .order_by()
            .values_list(
                F(f"{patient}_id"),
                as_int(ExtractYear(day)) * 3 + (as_int(ExtractMonth(day)) - 1) / 4,
                F(day),
                phq9,
            )
        )
    sql, params = parts[0].union(*parts[1:], all=True).query.sql_with_params()
    grouped = f"""WITH contact (patient_id, period, day, phq9_day) AS ({sql})
        SELECT patient_id, period, MIN(day), MAX(day), MIN(phq9_day), MAX(phq9_day)
        FROM contact GROUP BY patient_id, period"""  # noqa: S608  (the ORM's SQL)
    return grouped, list(params)
