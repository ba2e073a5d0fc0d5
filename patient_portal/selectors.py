"""Reads of the patient_portal app (visibility: the caller's care teams, as everywhere)."""

from django.db.models import QuerySet

from careplans.models import Patient
from careplans.selectors import patients_on_care_team_of
from clinic.models import User
from patient_portal.models import CheckIn, CheckInSchedule, PatientLink

TIMELINE_CHECK_INS = 400  # about a year of daily check-ins


def links_visible_to(user: User) -> QuerySet[PatientLink]:
    return PatientLink.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "created_by"
    )


def check_ins_of(patient: Patient) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(patient=patient).order_by("-answered_on", "-created_at", "-id")


def timeline_check_ins(patient: Patient) -> list[CheckIn]:
    """For outcomes' integrated timeline (registered in AppConfig.ready); one query."""
    return list(reversed(check_ins_of(patient)[:TIMELINE_CHECK_INS]))


def active_schedule_of(patient: Patient) -> CheckInSchedule | None:
    return CheckInSchedule.objects.filter(patient=patient, active=True).first()
