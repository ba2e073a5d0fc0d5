"""One entry of collaborative-care time: who, for which patient, which day, how many minutes,
which activity. No free text: the entry is a billing and workload fact, the clinical content
of the contact lives in the record it was about (assessment, care plan, team message)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from careplans.models import Patient
from clinic.models import ClinicalRecord

# One entry is one stretch of work; longer days are several entries. A typo of 600 for 60
# would otherwise bill ten extra 99494 units.
MAX_MINUTES = 240


class Activity(models.TextChoices):
    """The care manager's activities that count towards CoCM time, after the required elements
    of 99492/99493 (CPT descriptors, e.g. Regence reimbursement policy 100 "Collaborative Care
    Codes"): outreach and engagement, initial assessment with rating scales, care planning,
    registry tracking and follow-up, caseload review with the psychiatric consultant, brief
    interventions, relapse-prevention planning, coordination with other providers."""

    OUTREACH = "outreach", "Outreach and engagement"
    ASSESSMENT = "assessment", "Assessment with rating scales"
    CARE_PLANNING = "care_planning", "Care planning"
    FOLLOW_UP = "follow_up", "Follow-up contact"
    REGISTRY = "registry", "Registry review and tracking"
    CASELOAD_REVIEW = "caseload_review", "Caseload review with the psychiatric consultant"
    BRIEF_INTERVENTION = "brief_intervention", "Brief intervention"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse-prevention planning"
    COORDINATION = "coordination", "Care coordination"


class CareMinutes(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_minutes")
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES)])
    activity = models.CharField(max_length=24, choices=Activity.choices)

    class Meta:
        ordering = ["-day", "-created_at", "-id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["patient", "day"], name="cocm_minutes_patient_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1, minutes__lte=MAX_MINUTES), name="cocm_minutes_in_range"
            ),
            models.CheckConstraint(condition=models.Q(activity__in=Activity.values), name="cocm_activity_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.day} ({self.activity})"
