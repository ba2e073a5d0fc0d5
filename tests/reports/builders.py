"""Small builders for the report tests: rows written straight through the ORM at chosen dates,
so each fixture's numbers can be worked out by hand."""

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from careplans.models import CarePlan, CarePlanStatus, CareTeamMember, CaseReview, CaseReviewStatus, Patient, TeamRole
from clinic.models import User
from medications.models import DoseChange, LabResult, Medication, Regimen, RegimenStatus, SideEffect
from outcomes.instruments import INSTRUMENTS
from outcomes.models import Assessment, SafetyAlert
from outcomes.scoring import assessment_score
from tests.factories import PatientFactory
from tests.outcomes.helpers import answers
from therapy.models import Attendance, CourseStatus, Modality, TherapyCourse, TherapySession


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def patient(*, team: dict[str, User] | None = None, registered: date = date(2025, 1, 1), **fields) -> Patient:  # type: ignore[no-untyped-def]
    """A patient registered on `registered`, with care-team members {role: user} since then."""
    person = PatientFactory(**fields)
    Patient.objects.filter(pk=person.pk).update(created_at=at(registered))
    person.refresh_from_db()
    for role, user in (team or {}).items():
        CareTeamMember.objects.create(patient=person, user=user, role=role, started_at=at(registered))
    return person


def score(person: Patient, instrument: str, total: int, on: date, *, by: User, item9: int = 0) -> Assessment:
    result = assessment_score(instrument_code=instrument, responses=answers(instrument, total, item9))
    return Assessment.objects.create(
        patient=person,
        instrument=INSTRUMENTS[instrument].code,
        administered_on=on,
        responses=list(result.responses),
        total_score=result.total,
        severity=result.severity,
        safety_item_positive=result.safety_item_positive,
        entered_by=by,
    )


def safety_alert(assessment: Assessment) -> SafetyAlert:
    return SafetyAlert.objects.create(
        patient=assessment.patient,
        assessment=assessment,
        source_date=assessment.administered_on,
        raised_at=at(assessment.administered_on),
    )


def regimen(
    person: Patient, name: str, start: date, *, by: User, dose: str = "50", stopped_on: date | None = None
) -> Regimen:
    medication = Medication.objects.get(name=name)
    status = RegimenStatus.STOPPED if stopped_on else RegimenStatus.ACTIVE
    made = Regimen.objects.create(
        patient=person,
        medication=medication,
        dose=Decimal(dose),
        unit=medication.unit,
        frequency="once_daily",
        start_date=start,
        status=status,
        stopped_on=stopped_on,
        prescriber=by,
    )
    DoseChange.objects.create(
        regimen=made,
        previous_dose=None,
        dose=Decimal(dose),
        reason="Started",
        reason_code="start",
        effective_on=start,
        changed_by=by,
        changed_at=at(start),
    )
    return made


def dose_change(made: Regimen, dose: str, on: date, *, by: User, reason_code: str = "") -> DoseChange:
    reason_code = reason_code or ("titration_up" if Decimal(dose) > made.dose else "titration_down")
    change = DoseChange.objects.create(
        regimen=made,
        previous_dose=made.dose,
        dose=Decimal(dose),
        reason="Titration",
        reason_code=reason_code,
        effective_on=on,
        changed_by=by,
        changed_at=at(on),
    )
    Regimen.objects.filter(pk=made.pk).update(dose=Decimal(dose))
    made.refresh_from_db()
    return change


def side_effect(
    person: Patient, made: Regimen | None, severity: str, onset: date, *, by: User, effect: str = "Nausea"
) -> SideEffect:
    return SideEffect.objects.create(
        patient=person, regimen=made, effect=effect, severity=severity, onset=onset, recorded_by=by
    )


def lab(person: Patient, test: str, value: str, on: date, *, by: User) -> LabResult:
    return LabResult.objects.create(
        patient=person, test=test, value=Decimal(value), unit="x", taken_on=on, recorded_by=by
    )


def course(
    person: Patient, therapist: User, modality: str, started: date, *, ended: date | None = None
) -> TherapyCourse:
    return TherapyCourse.objects.create(
        patient=person,
        therapist=therapist,
        modality=Modality.objects.get(code=modality),
        started_on=started,
        status=CourseStatus.COMPLETED if ended else CourseStatus.ACTIVE,
        ended_on=ended,
        created_by=therapist,
    )


def session(
    therapy: TherapyCourse, on: date, attendance: str = Attendance.ATTENDED, *, summary: str = ""
) -> TherapySession:
    return TherapySession.objects.create(
        course=therapy,
        session_date=on,
        attendance=attendance,
        summary=summary,
        duration_minutes=50 if attendance == Attendance.ATTENDED else 0,
        logged_by=therapy.therapist,
    )


def case_review(
    person: Patient, *, requested: date, by: User, reviewed: date | None = None, reviewer: User | None = None
) -> CaseReview:
    return CaseReview.objects.create(
        patient=person,
        reason="Not improving",
        requested_by=by,
        requested_at=at(requested),
        status=CaseReviewStatus.COMPLETED if reviewed else CaseReviewStatus.REQUESTED,
        reviewed_at=at(reviewed) if reviewed else None,
        reviewed_by=reviewer if reviewed else None,
    )


def care_plan(person: Patient, *, diagnoses: list[dict] | None = None, status: str = CarePlanStatus.ACTIVE) -> CarePlan:
    return CarePlan.objects.create(patient=person, status=status, diagnoses=diagnoses or [])


TEAM = (TeamRole.PRESCRIBER, TeamRole.THERAPIST, TeamRole.CARE_MANAGER)
